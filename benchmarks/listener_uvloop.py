"""An event-loop front end (uvloop), measured against the threaded `listener.Listener` in
bench_listener.py, which serves it in `pqparsec serve` by swapping the class app.Worker builds.
It was measured and not adopted (see README.md, "Listener"); it is kept here as the record of
the comparison. Needs `pip install uvloop`.

Same public interface and semantics as Listener: one request per connection, the listener timeout
per request, body_len_limit checked before the body is read, at most max_connections served at
once, linger for unread bytes, the same error responses. Two designs, each on one uvloop event
loop in a thread of its own (the process's main thread only waits for signals, as with Listener):

- `AsyncListener` (readiness): the loop only says which socket is ready (add_reader on the
  listening socket, and on a connection whose request has not all arrived). A ready connection is
  served by plain non-blocking system calls: accept, recv, dispatch, send, close. A request that
  has already arrived when its connection is accepted is served without any registration,
  future or callback: five system calls and the dispatch.
- `ProtocolListener`: uvloop's own server and transports (create_unix_server with an
  asyncio.Protocol), where accept, reads and writes are uvloop's C code and our code runs in
  data_received. A Server cannot stop accepting without closing the socket, so connections past
  max_connections are accepted and parked unread (not timed) until others close.

Both answer a request on the loop when the dispatcher runs it inline (Provider.runs_inline); any
other is handed to a thread (the rest of that connection is then served there, as Listener does).
The dispatcher tells which by calling `waiting()` before an operation that may block: on the loop,
that call raises _NotInline (a BaseException, so that the dispatcher does not answer it as an
internal error), and the request is dispatched again on a thread. Authentication, routing and
decoding are thus done twice for such a request; they have no side effects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn

from pqparsec.protocol.framing import NoRequest, RawRequest
from pqparsec.protocol.header import (
    HEADER_LEN,
    PREAMBLE_LEN,
    check_header_size,
    error_response,
    parse_preamble,
    parse_remainder,
)
from pqparsec.protocol.ids import AuthType
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.dispatcher import Dispatcher
from pqparsec.service.listener import LINGER_S, peer_credentials

log = logging.getLogger("pqparsec.service.listener")

# Connections accepted per wake-up of the listening socket before other ready sockets get a turn.
ACCEPT_BATCH = 32


class _NotInline(BaseException):
    """The dispatcher is about to run an operation that may block: not on the event loop."""


def _refuse_wait() -> NoReturn:
    """The `waiting` given to Dispatcher.dispatch on the loop."""
    raise _NotInline


def parse_request(buf: bytes | bytearray, body_len_limit: int) -> tuple[RawRequest, int] | None:
    """The request at the start of buf and its length, None if more must arrive first. Checks in
    framing.read_request's order, each as soon as its bytes are there."""
    n = len(buf)
    if n < PREAMBLE_LEN:
        return None
    size = parse_preamble(bytes(buf[:PREAMBLE_LEN]))
    if n < PREAMBLE_LEN + size:
        return None
    check_header_size(size)
    raw = parse_remainder(bytes(buf[PREAMBLE_LEN:HEADER_LEN]))
    if raw.body_len > body_len_limit:
        raise ParsecError(ResponseStatus.BODY_SIZE_EXCEEDS_LIMIT,
                          f"body of {raw.body_len} bytes exceeds the {body_len_limit}-byte limit")
    body_end = HEADER_LEN + raw.body_len
    end = body_end + raw.auth_len
    if n < end:
        return None
    return RawRequest(raw, bytes(buf[HEADER_LEN:body_end]), bytes(buf[body_end:end])), end


def _missing(buf: bytes | bytearray) -> int:
    """At least how many more bytes the request in buf needs (for the size of the next recv)."""
    n = len(buf)
    if n < HEADER_LEN:
        return HEADER_LEN - n
    raw = parse_remainder(bytes(buf[PREAMBLE_LEN:HEADER_LEN]))
    return max(1, HEADER_LEN + raw.body_len + raw.auth_len - n)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency of this listener
        log.warning("uvloop is not installed: the event-loop listener runs on asyncio's loop")
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class _LoopListener:
    """What both designs share: the loop's thread, the threads for slow requests, the count of
    open connections (at most max_connections; more wait unaccepted in the listen queue) and
    stop()."""

    def __init__(self, dispatcher: Dispatcher, timeout_s: float, body_len_limit: int,
                 max_connections: int, **_options: object) -> None:
        # _options: settings of the threaded Listener this one does not have (per-client shares)
        self.dispatcher = dispatcher
        self.timeout_s = timeout_s
        self.body_len_limit = body_len_limit
        self._max = max_connections
        self._open = 0  # connections accepted and not yet closed (changed on the loop only)
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=max_connections,
                                        thread_name_prefix="pqparsec-op")
        self._stopping = False
        self._drained = threading.Event()  # set when stopping and no connection is open
        self._closers: set[Callable[[], None]] = set()  # to cut the connections still open

    def configure(self, timeout_s: float, body_len_limit: int) -> None:
        self.timeout_s = timeout_s
        self.body_len_limit = body_len_limit

    def start(self, sock: socket.socket) -> None:
        self._sock = sock
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = _new_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._begin(sock))
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._end())
                loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name="pqparsec-loop")
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]

    async def _begin(self, sock: socket.socket) -> None:
        raise NotImplementedError

    async def _end(self) -> None:
        """On the loop, once it has stopped running: stop accepting."""

    def _pause_accepting(self) -> None:
        raise NotImplementedError

    def _resume_accepting(self) -> None:
        raise NotImplementedError

    def _opened(self) -> None:
        """On the loop: a connection was accepted."""
        self._open += 1
        if self._open >= self._max:
            self._pause_accepting()

    def _closed(self) -> None:
        """On the loop: a connection is closed."""
        self._open -= 1
        if self._stopping:
            if not self._open:
                self._drained.set()
        elif self._open == self._max - 1:
            self._resume_accepting()

    def _closed_from_thread(self) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # the loop has been closed
            self._loop.call_soon_threadsafe(self._closed)

    def stop(self, grace_s: float) -> None:
        """Stop accepting, then let the connections being served finish (up to grace_s).
        Blocks; run it off the event loop."""
        deadline = time.monotonic() + grace_s
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            self._stopping = True
            return

        def begin_stop() -> None:
            self._stopping = True
            self._pause_accepting()
            if not self._open:
                self._drained.set()

        loop.call_soon_threadsafe(begin_stop)
        if not self._drained.wait(max(0.0, deadline - time.monotonic())):
            # Out of grace: cut the connections still open (a thread inside an operation
            # finishes it first, then finds its socket shut), and give them a moment more.
            def cut() -> None:
                for close in list(self._closers):
                    close()
            loop.call_soon_threadsafe(cut)
            self._drained.wait(5.0)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5.0)
        self._pool.shutdown(wait=False)
        if self._sock is not None:
            self._sock.close()

    # Shared by both designs: a request handed to a thread, served there to the end.

    def _serve_on_thread(self, conn: socket.socket, header: Any, raw: RawRequest,
                         peer: Any) -> None:
        try:
            response = self.dispatcher.dispatch(header, raw.body, raw.auth, peer)
            _finish_blocking(conn, response, True, self.timeout_s)
        except Exception:
            log.exception("unexpected error serving a connection")
        finally:
            conn.close()
            self._closed_from_thread()


def _finish_blocking(conn: socket.socket, response: bytes, whole_request: bool,
                     timeout_s: float) -> None:
    """Listener._serve's end, on a thread: answer, then close at once or linger."""
    try:
        conn.settimeout(timeout_s)
        conn.sendall(response)
        if whole_request:
            try:
                if not conn.recv(1 << 16, socket.MSG_DONTWAIT):
                    return
            except BlockingIOError:
                return
        conn.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_S
        while (left := deadline - time.monotonic()) > 0:
            conn.settimeout(left)
            if not conn.recv(1 << 16):
                break
    except OSError as exc:  # TimeoutError included
        log.debug("connection dropped: %s", exc)


# ------------------------------------------------------------------------------------------------
# The readiness design


class AsyncListener(_LoopListener):
    """uvloop for readiness only; the connection's work in plain non-blocking system calls."""

    async def _begin(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self._accepting = False
        self._resume_accepting()

    async def _end(self) -> None:
        self._pause_accepting()

    def _pause_accepting(self) -> None:
        if self._accepting:
            assert self._loop is not None and self._sock is not None
            self._loop.remove_reader(self._sock.fileno())
            self._accepting = False

    def _resume_accepting(self) -> None:
        if not self._accepting and not self._stopping and self._open < self._max:
            assert self._loop is not None and self._sock is not None
            self._loop.add_reader(self._sock.fileno(), self._accept)
            self._accepting = True

    def _accept(self) -> None:
        assert self._sock is not None and self._loop is not None
        accept = self._sock.accept
        for _ in range(ACCEPT_BATCH):
            if not self._accepting:
                return
            try:
                conn, _ = accept()
            except BlockingIOError:
                return
            except OSError as exc:
                # e.g. EMFILE: the connection stays queued; give open ones a moment to close.
                log.warning("accept failed: %s", exc)
                self._pause_accepting()
                self._loop.call_later(0.1, self._resume_accepting)
                return
            self._opened()
            _Connection(self, conn).readable()


class _Connection:
    """One connection of AsyncListener, on the loop. Its socket stays in blocking mode (a thread
    may finish it); every call on the loop passes MSG_DONTWAIT."""

    __slots__ = (
        "buf",
        "closed",
        "conn",
        "deadline",
        "fd",
        "listener",
        "reading",
        "response",
        "sent",
        "timer",
        "whole",
    )

    def __init__(self, listener: AsyncListener, conn: socket.socket) -> None:
        self.listener = listener
        self.conn = conn
        self.fd = conn.fileno()
        self.buf = b""
        self.deadline = time.monotonic() + listener.timeout_s
        self.timer: asyncio.TimerHandle | None = None
        self.reading = False
        self.response = b""
        self.sent = 0
        self.whole = False
        self.closed = False

    # Reading the request

    def readable(self) -> None:
        listener = self.listener
        conn = self.conn
        try:
            try:
                while True:
                    want = _missing(self.buf) if len(self.buf) >= HEADER_LEN else HEADER_LEN
                    try:
                        chunk = conn.recv(min(max(want, 4096), 1 << 18), socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        self._wait_readable()
                        return
                    if not chunk:
                        if not self.buf:
                            raise NoRequest(ResponseStatus.CONNECTION_ERROR,
                                            "connection closed without a request")
                        raise ParsecError(ResponseStatus.CONNECTION_ERROR,
                                          f"connection closed after {len(self.buf)} bytes")
                    self.buf = self.buf + chunk if self.buf else chunk
                    parsed = parse_request(self.buf, listener.body_len_limit)
                    if parsed is not None:
                        break
            except OSError as exc:
                raise ParsecError(ResponseStatus.CONNECTION_ERROR,
                                  f"reading the request: {exc}") from None
            self._stop_reading()
            raw = parsed[0]
            header = raw.header.check_fields()
        except ParsecError as exc:
            self._stop_reading()
            if isinstance(exc, NoRequest):
                log.debug("connection closed without a request")
            else:
                log.info("rejected request: %s", exc)
            self._answer(error_response(exc.status), False)
            return
        except Exception:
            log.exception("unexpected error serving a connection")
            self.close()
            return
        self.buf = b""
        peer = peer_credentials(conn) \
            if header.auth_type == AuthType.UNIX_PEER_CREDENTIALS else None
        try:
            response = listener.dispatcher.dispatch(header, raw.body, raw.auth, peer,
                                                    _refuse_wait)
        except _NotInline:
            # The rest of this connection is served on a thread, blocking.
            self.closed = True  # for this object; the thread closes the socket
            listener._closers.discard(self.close)
            listener._pool.submit(listener._serve_on_thread, conn, header, raw, peer)
            return
        self._answer(response, True)

    def _wait_readable(self) -> None:
        if not self.reading:
            loop = self.listener._loop
            assert loop is not None
            loop.add_reader(self.fd, self.readable)
            self.reading = True
            self.listener._closers.add(self.close)
            self.timer = loop.call_at(_loop_time(loop, self.deadline), self._stalled)

    def _stop_reading(self) -> None:
        if self.reading:
            assert self.listener._loop is not None
            self.listener._loop.remove_reader(self.fd)
            self.reading = False
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _stalled(self) -> None:
        self.timer = None
        self._stop_reading()
        log.info("client stalled for %.1f s mid-request", self.listener.timeout_s)
        self._answer(error_response(ResponseStatus.CONNECTION_ERROR), False)

    # Answering

    def _answer(self, response: bytes, whole_request: bool) -> None:
        try:
            sent = self.conn.send(response, socket.MSG_DONTWAIT)
        except BlockingIOError:
            sent = 0
        except OSError as exc:
            log.debug("connection dropped: %s", exc)
            self.close()
            return
        if sent < len(response):  # the client is slow to read: wait for it, up to timeout_s
            self.response, self.sent, self.whole = response, sent, whole_request
            loop = self.listener._loop
            assert loop is not None
            loop.add_writer(self.fd, self._writable)
            self.listener._closers.add(self.close)
            self.timer = loop.call_later(self.listener.timeout_s, self._write_stalled)
            return
        self._after_answer(whole_request)

    def _writable(self) -> None:
        try:
            self.sent += self.conn.send(memoryview(self.response)[self.sent:], socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError as exc:
            log.debug("connection dropped: %s", exc)
            self.close()
            return
        if self.sent < len(self.response):
            return
        self._stop_writing()
        self._after_answer(self.whole)

    def _stop_writing(self) -> None:
        assert self.listener._loop is not None
        self.listener._loop.remove_writer(self.fd)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _write_stalled(self) -> None:
        self.timer = None
        log.debug("connection dropped: the client did not read its response")
        self.close()

    def _after_answer(self, whole_request: bool) -> None:
        conn = self.conn
        try:
            if whole_request:
                try:
                    if not conn.recv(1 << 16, socket.MSG_DONTWAIT):
                        self.close()  # the client has closed already
                        return
                except BlockingIOError:
                    self.close()  # nothing unread: closing now cannot reset the connection
                    return
            # The client sent more than its request, or may still be sending a request we
            # refused: linger, reading until it closes.
            conn.shutdown(socket.SHUT_WR)
        except OSError as exc:
            log.debug("connection dropped: %s", exc)
            self.close()
            return
        loop = self.listener._loop
        assert loop is not None
        loop.add_reader(self.fd, self._drain)
        self.reading = True
        self.listener._closers.add(self.close)
        self.timer = loop.call_later(LINGER_S, self.close)

    def _drain(self) -> None:
        try:
            while self.conn.recv(1 << 16, socket.MSG_DONTWAIT):
                pass
        except BlockingIOError:
            return
        except OSError:
            pass
        self.close()  # end of stream (or an error)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        loop = self.listener._loop
        assert loop is not None
        if self.reading:
            loop.remove_reader(self.fd)
            self.reading = False
        if self.response:
            loop.remove_writer(self.fd)
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.listener._closers.discard(self.close)
        self.conn.close()
        self.listener._closed()


def _loop_time(loop: asyncio.AbstractEventLoop, monotonic_deadline: float) -> float:
    return loop.time() + (monotonic_deadline - time.monotonic())


# ------------------------------------------------------------------------------------------------
# The Protocol design


class ProtocolListener(_LoopListener):
    """uvloop's server and transports (accept, reads and writes in C); our code in callbacks."""

    _server: asyncio.AbstractServer | None = None

    async def _begin(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(lambda: _RequestProtocol(self), sock=sock,
                                                     backlog=socket.SOMAXCONN)

    async def _end(self) -> None:
        self._pause_accepting()

    def _pause_accepting(self) -> None:
        # An asyncio Server cannot pause accepting without closing the listening socket, which
        # other workers share: past max_connections, connections are accepted and parked (not
        # read, not timed) until others close. Stopping closes the server.
        if self._stopping and self._server is not None:
            server, self._server = self._server, None
            with contextlib.suppress(Exception):
                server.close()  # uvloop detaches (does not close) the socket given to it

    def _resume_accepting(self) -> None:
        while self._parked and self._active < self._max and not self._stopping:
            self._active += 1
            self._parked.pop(0).unpark()

    def __init__(self, dispatcher: Dispatcher, timeout_s: float, body_len_limit: int,
                 max_connections: int, **_options: object) -> None:
        super().__init__(dispatcher, timeout_s, body_len_limit, max_connections)
        self._parked: list[_RequestProtocol] = []
        self._active = 0  # connections open and not parked

    def _closed(self) -> None:
        self._open -= 1
        if self._stopping:
            if not self._open:
                self._drained.set()
        elif self._parked:
            self._resume_accepting()


class _RequestProtocol(asyncio.Protocol):
    __slots__ = (
        "buf",
        "done",
        "extra",
        "lingering",
        "listener",
        "parked",
        "timer",
        "transport",
    )

    def __init__(self, listener: ProtocolListener) -> None:
        self.listener = listener
        self.transport: Any = None
        self.buf = b""
        self.timer: asyncio.TimerHandle | None = None
        self.done = False  # the request has been read (or refused)
        self.extra = False  # bytes came past the request
        self.lingering = False
        self.parked = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        listener = self.listener
        listener._open += 1
        listener._closers.add(self._cut)
        if listener._active >= listener._max:
            # Past max_connections: not served (nor timed) until another closes.
            transport.pause_reading()
            self.parked = True
            listener._parked.append(self)
            return
        listener._active += 1
        self._arm()

    def _arm(self) -> None:
        loop = self.listener._loop
        assert loop is not None
        self.timer = loop.call_later(self.listener.timeout_s, self._stalled)

    def unpark(self) -> None:
        self.parked = False
        self.transport.resume_reading()
        self._arm()
        if self.buf:
            self._consume()

    def data_received(self, data: bytes) -> None:
        if self.done:
            self.extra = True  # lingering or answering: discarded, but the client sent more
            return
        self.buf = self.buf + data if self.buf else data
        if self.parked:  # read before pause_reading took effect: kept for unpark()
            self.transport.pause_reading()
            return
        self._consume()

    def _consume(self) -> None:
        listener = self.listener
        try:
            parsed = parse_request(self.buf, listener.body_len_limit)
            if parsed is None:
                return
            raw, end = parsed
            header = raw.header.check_fields()
        except ParsecError as exc:
            log.info("rejected request: %s", exc)
            self._answer(error_response(exc.status), False)
            return
        self.extra = end < len(self.buf)
        self.buf = b""
        self.done = True
        self._cancel_timer()
        transport = self.transport
        peer = peer_credentials(transport.get_extra_info("socket")) \
            if header.auth_type == AuthType.UNIX_PEER_CREDENTIALS else None
        try:
            response = listener.dispatcher.dispatch(header, raw.body, raw.auth, peer,
                                                    _refuse_wait)
        except _NotInline:
            loop = listener._loop
            assert loop is not None
            fut = loop.run_in_executor(listener._pool, listener.dispatcher.dispatch, header,
                                       raw.body, raw.auth, peer)

            def answered(f: asyncio.Future[bytes]) -> None:
                if transport.is_closing():
                    return
                try:
                    resp = f.result()
                except Exception:
                    log.exception("unexpected error serving a connection")
                    transport.abort()
                    return
                self._answer(resp, True)
            fut.add_done_callback(answered)
            return
        self._answer(response, True)

    def eof_received(self) -> bool:
        if not self.done:
            if not self.buf:
                log.debug("connection closed without a request")
            else:
                log.info("rejected request: connection closed after %d bytes", len(self.buf))
            self._cancel_timer()
            self.done = True
            with contextlib.suppress(Exception):
                self.transport.write(error_response(ResponseStatus.CONNECTION_ERROR))
            return False  # the transport closes itself once the answer is written
        # A request being answered keeps its connection (the client only half-closed); a
        # lingering connection has reached the client's end.
        return not self.lingering

    def _stalled(self) -> None:
        self.timer = None
        log.info("client stalled for %.1f s mid-request", self.listener.timeout_s)
        self._answer(error_response(ResponseStatus.CONNECTION_ERROR), False)

    def _answer(self, response: bytes, whole_request: bool) -> None:
        self.done = True
        self._cancel_timer()
        transport = self.transport
        transport.write(response)
        loop = self.listener._loop
        assert loop is not None
        backlog = transport.get_write_buffer_size()
        if whole_request and not self.extra:
            # The transport reads eagerly: what the client sent has been seen. Nothing more
            # unread: close once the answer is written.
            transport.close()
            if backlog:
                self.timer = loop.call_later(self.listener.timeout_s, transport.abort)
            return
        # The client sent more than its request, or may still be sending a request we
        # refused: linger, reading (and discarding) until it closes.
        self.lingering = True
        transport.write_eof()
        self.timer = loop.call_later((self.listener.timeout_s if backlog else 0) + LINGER_S,
                                     transport.close)

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _cut(self) -> None:
        self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        listener = self.listener
        listener._closers.discard(self._cut)
        if self.parked:
            with contextlib.suppress(ValueError):
                listener._parked.remove(self)
        else:
            listener._active -= 1
        listener._closed()
