"""Reading whole messages off a stream, with the limits checked before memory is committed.

`read_request` (service side) raises ParsecError with the status the Rust service gives at each
step; the caller answers those with a header-level error response. `read_response` (client side)
reads a header and exactly its body. Both work on blocking sockets.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from pqparsec.protocol.header import (
    HEADER_LEN,
    PREAMBLE_LEN,
    RawHeader,
    check_header_size,
    parse_preamble,
    parse_remainder,
    unpack_response,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus


@dataclass(frozen=True)
class RawRequest:
    header: RawHeader
    body: bytes
    auth: bytes


def wait_readable(sock: socket.socket, timeout_s: float) -> bool:
    """Whether sock became readable (data, EOF or error) within timeout_s."""
    if timeout_s <= 0:
        return False
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(timeout_s * 1000))


class NoRequest(ParsecError):
    """The client closed the connection without sending a byte: nothing was asked, so nothing
    is refused (another instance probing the socket at start-up, or a client that gave up)."""


# A body (or auth field) at least this large is read into a buffer of its announced size.
LARGE_READ = 64 * 1024


class _Reader:
    """Reads a blocking socket without blocking (MSG_DONTWAIT), waiting in poll() only when
    nothing has arrived, and never later than deadline (time.monotonic). It takes whatever has
    arrived, so a whole request usually takes one recv; bytes past the request are left unread
    by the caller (and drained with the rest when the connection lingers)."""

    def __init__(self, sock: socket.socket, deadline: float,
                 waiting: Callable[[], AbstractContextManager[object]]) -> None:
        self.sock = sock
        self.deadline = deadline
        self.waiting = waiting
        self.buf = b""
        self.received = 0

    def exactly(self, n: int, what: str) -> bytes:
        if n >= LARGE_READ and len(self.buf) < n:
            return self._large(n, what)
        if len(self.buf) < n:
            self._fill(n, what)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _large(self, n: int, what: str) -> bytes:
        """n bytes read straight into one buffer of that size (what has arrived first, then
        recv_into the rest), never more: no chunks to join, and nothing of what follows is
        read."""
        buf = bytearray(n)
        have = len(self.buf)
        buf[:have] = self.buf
        self.buf = b""
        view = memoryview(buf)
        try:
            while have < n:
                try:
                    got = self.sock.recv_into(view[have:], n - have, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    with self.waiting():
                        ready = wait_readable(self.sock, self.deadline - time.monotonic())
                    if not ready:
                        raise TimeoutError(f"stalled reading {what}") from None
                    continue
                if not got:
                    raise ParsecError(ResponseStatus.CONNECTION_ERROR,
                                      f"connection closed after {have} of {n} {what} bytes")
                have += got
                self.received += got
        except OSError as exc:
            if isinstance(exc, TimeoutError):
                raise  # the caller's: the client stalled
            raise ParsecError(ResponseStatus.CONNECTION_ERROR, f"reading {what}: {exc}") from None
        finally:
            view.release()
        return bytes(buf)

    def _fill(self, n: int, what: str) -> None:
        parts, have = [self.buf], len(self.buf)
        try:
            while have < n:
                try:
                    chunk = self.sock.recv(min(max(n - have, 4096), 1 << 18), socket.MSG_DONTWAIT)
                except BlockingIOError:
                    with self.waiting():
                        ready = wait_readable(self.sock, self.deadline - time.monotonic())
                    if not ready:
                        raise TimeoutError(f"stalled reading {what}") from None
                    continue
                if not chunk:
                    if not self.received:
                        raise NoRequest(ResponseStatus.CONNECTION_ERROR,
                                        "connection closed without a request")
                    raise ParsecError(ResponseStatus.CONNECTION_ERROR,
                                      f"connection closed after {have} of {n} {what} bytes")
                parts.append(chunk)
                have += len(chunk)
                self.received += len(chunk)
        except TimeoutError:
            raise  # the caller's: the client stalled
        except OSError as exc:
            raise ParsecError(ResponseStatus.CONNECTION_ERROR, f"reading {what}: {exc}") from None
        finally:
            self.buf = b"".join(parts)


def read_request(sock: socket.socket, body_len_limit: int, timeout_s: float,
                 waiting: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
                 ) -> RawRequest:
    """Read one request from a blocking socket (without changing its mode). The whole request
    (header, body and auth) must arrive within timeout_s, or TimeoutError is raised. Waits for
    the client happen inside waiting()."""
    r = _Reader(sock, time.monotonic() + timeout_s, waiting)
    size = parse_preamble(r.exactly(PREAMBLE_LEN, "header"))
    remainder = r.exactly(size, "header")
    check_header_size(size)
    header = parse_remainder(remainder)
    if header.body_len > body_len_limit:
        raise ParsecError(ResponseStatus.BODY_SIZE_EXCEEDS_LIMIT,
                          f"body of {header.body_len} bytes exceeds the {body_len_limit}-byte limit")
    body = r.exactly(header.body_len, "body")
    auth = r.exactly(header.auth_len, "auth")
    return RawRequest(header, body, auth)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(min(n - len(chunks), 1 << 16))
        if not chunk:
            raise ParsecError(ResponseStatus.CONNECTION_ERROR,
                              f"service closed the connection after {len(chunks)} of {n} bytes")
        chunks += chunk
    return bytes(chunks)


def read_response(sock: socket.socket, max_body: int | None = None) -> tuple[RawHeader, bytes]:
    header = unpack_response(_recv_exactly(sock, HEADER_LEN))
    if max_body is not None and header.body_len > max_body:
        raise ParsecError(ResponseStatus.RESPONSE_TOO_LARGE,
                          f"response body of {header.body_len} bytes exceeds {max_body}")
    return header, _recv_exactly(sock, header.body_len)
