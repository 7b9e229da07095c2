"""The Unix-socket front end: one request per connection, then the socket is closed."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat
import struct
import threading
import time
from collections.abc import Iterator

from pqparsec.protocol.framing import NoRequest, read_request, wait_readable
from pqparsec.protocol.header import error_response
from pqparsec.protocol.ids import AuthType
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.authenticators import PeerCredentials
from pqparsec.service.dispatcher import Dispatcher
from pqparsec.service.files import make_dirs

log = logging.getLogger(__name__)

# A client that sent more than its request: after answering, how long to read (and discard) until
# it closes, before we do. Closing with unread bytes in the socket makes the kernel reset the
# connection: the client would get ECONNRESET instead of EOF after the response (and on other
# transports could lose the response). With nothing unread, the connection is closed at once.
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


# Mode of the socket's directory (and of any missing parent) when the service creates it:
# traversable by every user, writable by the service's user only. Who may connect is then decided
# by the socket's own mode (listener.socket_mode); a directory writable by others would let any
# local user replace the socket with one of their own.
SOCKET_DIR_MODE = 0o755


def _socket_directory(path: str) -> str:
    """Create the socket's directory if missing (mode SOCKET_DIR_MODE whatever the umask), and
    refuse one that others could use to replace the socket: writable by others without the
    sticky bit. A group-writable directory is accepted with a warning."""
    directory = os.path.dirname(path) or "."
    make_dirs(directory, SOCKET_DIR_MODE)  # one made meanwhile is checked like any existing one
    st = os.stat(directory)
    if not stat.S_ISDIR(st.st_mode):
        raise OSError(f"socket directory {directory} is not a directory")
    mode = stat.S_IMODE(st.st_mode)
    if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
        raise OSError(f"socket directory {directory} has mode {mode:04o}: every local user may "
                      "write to it and could replace the socket; refusing to start. Fix: "
                      f"chmod o-w {directory} (or make it 0755)")
    if mode & stat.S_IWGRP and not mode & stat.S_ISVTX:
        log.warning("socket directory %s has mode %04o: members of its group (gid %d) could "
                    "replace the socket; consider chmod g-w %s", directory, mode, st.st_gid,
                    directory)
    return directory


def bind_socket(path: str, mode: int) -> socket.socket:
    """Bind the listening socket, replacing a stale socket file but never another file."""
    _socket_directory(path)
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
    sock.listen(socket.SOMAXCONN)
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
    """Blocking sockets in threads. Each connection thread accepts a connection and serves it:
    reads the request, dispatches it, answers, closes; then accepts the next.

    Threads are started when needed, up to max_connections, and then reused. Under the GIL,
    threads that all want to run Python only slow each other down, so a new one is started only
    when nobody would otherwise accept soon: no thread is waiting in accept(), and no other thread
    is busy with work that ends quickly. A thread "waits" (self._waiting) while it waits for its
    client, or runs an operation that may block or take time; a stalled client or a slow
    operation therefore never keeps other connections from being served. While every thread is
    taken (max_connections), new connections wait, unread, in the socket's listen queue; the
    listener timeout of a connection starts when a thread accepts it.
    """

    def __init__(self, dispatcher: Dispatcher, timeout_s: float, body_len_limit: int,
                 max_connections: int) -> None:
        self.dispatcher = dispatcher
        self.timeout_s = timeout_s
        self.body_len_limit = body_len_limit
        self._max_threads = max_connections
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._idle = 0  # threads in accept()
        self._waiting_threads = 0  # threads inside self._waiting()
        self._serving: set[socket.socket] = set()  # connections being served, for stop()
        self._sock: socket.socket | None = None
        self._stopping = False

    def configure(self, timeout_s: float, body_len_limit: int) -> None:
        self.timeout_s = timeout_s
        self.body_len_limit = body_len_limit

    def start(self, sock: socket.socket) -> None:
        self._sock = sock
        sock.settimeout(None)
        with self._lock:
            self._spawn()

    def _spawn(self) -> None:
        """Start one more connection thread (the caller holds self._lock)."""
        t = threading.Thread(target=self._run, daemon=True,
                             name=f"pqparsec-conn-{len(self._threads)}")
        self._threads.append(t)
        self._idle += 1
        t.start()

    def _need_acceptor(self, quick: int) -> None:
        """Start a thread if none is in accept() and at most `quick` threads (the caller
        included) are busy with work that ends soon. The caller holds self._lock."""
        busy_quick = len(self._threads) - self._idle - self._waiting_threads
        if self._idle == 0 and busy_quick <= quick and len(self._threads) < self._max_threads \
                and not self._stopping:
            self._spawn()

    @contextlib.contextmanager
    def _waiting(self) -> Iterator[None]:
        """Around a wait for the client or an operation that may take time."""
        with self._lock:
            self._waiting_threads += 1
            self._need_acceptor(0)
        try:
            yield
        finally:
            with self._lock:
                self._waiting_threads -= 1

    def _run(self) -> None:
        assert self._sock is not None
        sock = self._sock
        while True:
            try:
                conn, _ = sock.accept()
            except OSError as exc:
                if self._stopping:
                    return
                # e.g. EMFILE: out of file descriptors. The connection stays queued in the kernel;
                # give serving connections a moment to close theirs.
                log.warning("accept failed: %s", exc)
                time.sleep(0.1)
                continue
            if self._stopping:  # a wake-up from stop(), or a client too late
                conn.close()
                return
            with self._lock:
                self._idle -= 1
                # Keep a second thread ready beside this one: two can overlap system calls.
                self._need_acceptor(1)
            self._serving.add(conn)
            try:
                self._serve(conn)
            except Exception:
                log.exception("unexpected error serving a connection")
            finally:
                self._serving.discard(conn)
                conn.close()
            with self._lock:
                self._idle += 1

    def _serve(self, conn: socket.socket) -> None:
        timeout_s = self.timeout_s
        whole_request = False  # read to its end, so the client is not still sending it
        try:
            try:
                raw = read_request(conn, self.body_len_limit, timeout_s, self._waiting)
                header = raw.header.check_fields()
            except ParsecError as exc:
                if isinstance(exc, NoRequest):  # answered as before, but not worth a log line
                    log.debug("connection closed without a request")
                else:
                    log.info("rejected request: %s", exc)
                response = error_response(exc.status)
            except TimeoutError:
                log.info("client stalled for %.1f s mid-request", timeout_s)
                response = error_response(ResponseStatus.CONNECTION_ERROR)
            else:
                # Only the Unix peer credentials authenticator needs them: spare the others a
                # system call.
                peer = peer_credentials(conn) \
                    if header.auth_type == AuthType.UNIX_PEER_CREDENTIALS else None
                whole_request = True
                response = self.dispatcher.dispatch(header, raw.body, raw.auth, peer,
                                                    self._waiting)
            try:
                sent = conn.send(response, socket.MSG_DONTWAIT)
            except BlockingIOError:
                sent = 0
            if sent < len(response):  # the client is slow to read: wait for it, up to timeout_s
                conn.settimeout(timeout_s)
                with self._waiting():
                    conn.sendall(memoryview(response)[sent:])
            if whole_request:
                try:
                    if not conn.recv(1 << 16, socket.MSG_DONTWAIT):
                        return  # the client has closed already
                except BlockingIOError:
                    return  # nothing unread: closing now cannot reset the connection
            # The client sent more than its request, or may still be sending a request we
            # refused: linger, reading until it closes.
            conn.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + LINGER_S
            while True:
                try:
                    if not conn.recv(1 << 16, socket.MSG_DONTWAIT):
                        break
                except BlockingIOError:
                    with self._waiting():
                        ready = wait_readable(conn, deadline - time.monotonic())
                    if not ready:
                        break
        except OSError as exc:  # TimeoutError included
            log.debug("connection dropped: %s", exc)

    def stop(self, grace_s: float) -> None:
        """Stop accepting, then let the connections being served finish (up to grace_s).
        Blocks; run it off the event loop."""
        deadline = time.monotonic() + grace_s
        self._stopping = True
        if self._sock is None:
            return
        with self._lock:
            threads = list(self._threads)
        # Threads blocked in accept() wake only for a connection: give each one.
        try:
            address = self._sock.getsockname()
        except OSError:
            address = None
        for _ in threads:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as wake:
                wake.setblocking(False)
                try:
                    wake.connect(address)
                except (OSError, TypeError):
                    break  # the stragglers are daemon threads
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in threads):
            # Out of grace: cut the connections still being served (a thread inside an operation
            # finishes it first, then finds its socket shut), and give them a moment more.
            for conn in list(self._serving):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            for t in threads:
                t.join(max(0.0, deadline + 5.0 - time.monotonic()))
        self._sock.close()
