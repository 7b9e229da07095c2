"""The Unix-socket front end: one request per connection, then the socket is closed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import stat
import struct

from pqparsec.protocol.framing import read_request
from pqparsec.protocol.header import error_response
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.authenticators import PeerCredentials
from pqparsec.service.dispatcher import Dispatcher

log = logging.getLogger(__name__)

# After answering, how long to wait for the client to close before we do. Closing with unread
# request bytes in the socket makes the kernel reset the connection, and a client could then lose
# the response it has not read yet.
LINGER_S = 0.5


def peer_credentials(sock: socket.socket | None) -> PeerCredentials | None:
    if sock is None or not hasattr(socket, "SO_PEERCRED"):
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return None
    pid, uid, gid = struct.unpack("3i", raw)
    return PeerCredentials(pid, uid, gid)


def bind_socket(path: str, mode: int) -> socket.socket:
    """Bind the listening socket, replacing a stale socket file but never another file."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISSOCK(st.st_mode):
            raise OSError(f"{path} exists and is not a socket; refusing to replace it")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(0.5)
            probe.connect(path)
        except OSError:
            os.unlink(path)  # stale: nobody listens
        else:
            raise OSError(f"another service is already listening on {path}")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, mode)
    sock.listen(128)
    return sock


def systemd_socket() -> socket.socket | None:
    """The socket systemd passed (socket activation), if any."""
    fds = os.environ.get("LISTEN_FDS")
    pid = os.environ.get("LISTEN_PID")
    if not fds or (pid and pid != str(os.getpid())):
        return None
    if fds != "1":
        raise OSError(f"systemd passed {fds} sockets; pqparsec expects exactly one")
    for var in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"):
        os.environ.pop(var, None)
    return socket.socket(fileno=3)


class Listener:
    def __init__(self, dispatcher: Dispatcher, timeout_s: float, body_len_limit: int,
                 max_connections: int) -> None:
        self.dispatcher = dispatcher
        self.timeout_s = timeout_s
        self.body_len_limit = body_len_limit
        self._slots = asyncio.Semaphore(max_connections)
        self._server: asyncio.AbstractServer | None = None
        self._inflight: set[asyncio.Task[None]] = set()

    def configure(self, timeout_s: float, body_len_limit: int) -> None:
        self.timeout_s = timeout_s
        self.body_len_limit = body_len_limit

    async def start(self, sock: socket.socket) -> None:
        self._server = await asyncio.start_unix_server(self._on_connection, sock=sock)

    async def _on_connection(self, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._inflight.add(task)
        try:
            async with self._slots:
                await self._serve(reader, writer)
        finally:
            self._inflight.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = peer_credentials(writer.get_extra_info("socket"))
        try:
            try:
                async with asyncio.timeout(self.timeout_s):
                    raw = await read_request(reader, self.body_len_limit)
                header = raw.header.check_fields()
            except ParsecError as exc:
                log.info("rejected request: %s", exc)
                response = error_response(exc.status)
            except TimeoutError:
                log.info("client stalled for %.1f s mid-request", self.timeout_s)
                response = error_response(ResponseStatus.CONNECTION_ERROR)
            else:
                response = await self.dispatcher.dispatch(header, raw.body, raw.auth, peer)
            writer.write(response)
            async with asyncio.timeout(self.timeout_s):
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
            with contextlib.suppress(TimeoutError, OSError):
                async with asyncio.timeout(LINGER_S):
                    while await reader.read(1 << 16):
                        pass
        except (OSError, TimeoutError) as exc:
            log.debug("connection dropped: %s", exc)
        finally:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(1):
                    await writer.wait_closed()

    async def stop(self, grace_s: float) -> None:
        """Stop accepting, then let in-flight requests finish (up to grace_s)."""
        if self._server is not None:
            self._server.close()
        pending = set(self._inflight)
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace_s)
            for t in still:
                t.cancel()
