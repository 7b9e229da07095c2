"""The Unix-socket front end: one request per connection, then the socket is closed."""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import socket
import stat
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator

from pqparsec.protocol.framing import NoRequest, read_request, wait_readable
from pqparsec.protocol.header import error_response
from pqparsec.protocol.ids import AuthType
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service import memory
from pqparsec.service.authenticators import PeerCredentials
from pqparsec.service.dispatcher import Dispatcher
from pqparsec.service.files import make_dirs

log = logging.getLogger(__name__)

# A client that sent more than its request: after answering, how long to read (and discard) until
# it closes, before we do. Closing with unread bytes in the socket makes the kernel reset the
# connection: the client would get ECONNRESET instead of EOF after the response (and on other
# transports could lose the response). With nothing unread, the connection is closed at once.
LINGER_S = 0.5


_CRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
# How often, at most, the listener logs the connections it closed unread (max_parked).
REFUSED_LOG_INTERVAL_S = 10.0


class _Unknown:
    """The client of a connection served without reading its peer credentials."""


UNKNOWN = _Unknown()


def _raw_credentials(sock: socket.socket) -> bytes | None:
    """The peer's struct ucred (SO_PEERCRED), as the kernel returns it."""
    try:
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size)
    except (OSError, AttributeError):  # not a Unix socket; no SO_PEERCRED on this platform
        return None


def _credentials(raw: bytes | None) -> PeerCredentials | None:
    if raw is None:
        return None
    pid, uid, gid = _CRED.unpack(raw)
    return PeerCredentials(pid, uid, gid)


def peer_credentials(sock: socket.socket | None) -> PeerCredentials | None:
    if sock is None:
        return None
    return _credentials(_raw_credentials(sock))


def raise_fd_limit() -> None:
    """Raise the soft limit on open files to the hard limit: parked connections hold theirs."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft == hard:
            log.debug("open file limit: %d", soft)
            return
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        log.debug("open file limit raised from %d to %d", soft, hard)
    except (OSError, ValueError) as exc:
        log.debug("open file limit left as it is: %s", exc)


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

    A fair share per client: the client of a connection is its peer uid (SO_PEERCRED, whatever
    the authenticator; read only once client_share connections are being served in all, since
    below that nobody can be over the share). At most client_share connections of one uid are
    served at once. A connection accepted beyond that is parked, unread, in its uid's queue (an open
    socket, no thread) and the thread goes straight back to accept(), so the kernel's queue keeps
    draining and other users' connections are not stuck behind a flood from one. A thread that
    finishes a connection of a uid with parked ones serves the oldest of them next; its listener
    timeout starts then. A uid with max_parked connections parked gets any further one closed at
    once, unread (logged at most every REFUSED_LOG_INTERVAL_S).
    """

    def __init__(self, dispatcher: Dispatcher, timeout_s: float, body_len_limit: int,
                 max_connections: int, *, client_share: int = 0,
                 max_parked: int = 1024) -> None:
        self.dispatcher = dispatcher
        self.timeout_s = timeout_s
        self.body_len_limit = body_len_limit
        self._max_threads = max_connections
        # 0: the default share, a quarter of max_connections (as CoreSettings.client_share).
        self.client_share = min(client_share or max(1, max_connections // 4), max_connections)
        self.max_parked = max_parked
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._idle = 0  # threads in accept()
        self._waiting_threads = 0  # threads inside self._waiting()
        # Connections being served, each with its client (peer uid; None if the kernel did not
        # tell) or UNKNOWN: while fewer than client_share connections are served in all, no uid
        # can be over its share, so a connection is served without asking the kernel who it is
        # (one system call saved). Once that many are served, the ones still UNKNOWN are asked
        # (each connection at most once), and so is every new one. Guarded by self._lock, as are
        # the per-uid counts of the attributed ones and the connections parked behind them with
        # their raw credentials. A uid has parked connections only while all of its share is being
        # served, and no connection is UNKNOWN while any is parked.
        self._serving: dict[socket.socket, int | _Unknown | None] = {}
        self._unknown = 0  # how many of them are UNKNOWN
        self._active: dict[int | None, int] = {}
        self._parked: dict[int | None, deque[tuple[socket.socket, bytes | None]]] = {}
        self._refused: dict[int | None, int] = {}  # closed over max_parked, not yet logged
        self._refused_log_at = 0.0
        self._sock: socket.socket | None = None
        self._stopping = False

    def configure(self, timeout_s: float, body_len_limit: int) -> None:
        self.timeout_s = timeout_s
        self.body_len_limit = body_len_limit

    def start(self, sock: socket.socket) -> None:
        raise_fd_limit()
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
        lock = self._lock
        serving = self._serving
        parked = self._parked
        share = self.client_share
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
            raw: bytes | None = None
            with lock:
                if len(serving) < share and not parked:  # nobody can be over the share
                    serving[conn] = UNKNOWN
                    self._unknown += 1
                    self._idle -= 1
                    # Keep a second thread ready beside this one: two can overlap system calls.
                    self._need_acceptor(1)
                    served = True
                else:
                    served = False
            if not served:
                raw = _raw_credentials(conn)
                if not self._admit(conn, raw):
                    continue  # parked, or closed
            next_conn: tuple[socket.socket, bytes | None] | None = (conn, raw)
            while next_conn is not None:
                conn, raw = next_conn
                handled = 0
                try:
                    handled = self._serve(conn, raw)
                except Exception:
                    log.exception("unexpected error serving a connection")
                with lock:
                    # Closed under the lock: _attribute_unknown never asks about a closed socket.
                    conn.close()
                    client = serving.pop(conn)
                    if isinstance(client, _Unknown):  # nothing can be parked (see _serving)
                        next_conn = None
                        self._unknown -= 1
                        self._idle += 1
                    elif queue := parked.get(client):  # its oldest parked one takes the slot
                        next_conn = queue.popleft()
                        serving[next_conn[0]] = client
                        if not queue:
                            del parked[client]
                    else:
                        next_conn = None
                        n = self._active[client] - 1
                        if n:
                            self._active[client] = n
                        else:
                            del self._active[client]
                        self._idle += 1
                    report = self._refusals_due() if self._refused else None
                if report:
                    self._log_refusals(report)
                memory.release_after_large(handled)

    def _admit(self, conn: socket.socket, raw: bytes | None) -> bool:
        """Under pressure (client_share connections served, or some parked): serve the
        connection (True) if its uid is under its share; otherwise park it, or close it if
        max_parked of its connections are parked already (False)."""
        uid = None if raw is None else _CRED.unpack(raw)[1]
        with self._lock:
            if self._unknown:
                self._attribute_unknown()
            n = self._active.get(uid, 0)
            if n < self.client_share:
                self._active[uid] = n + 1
                self._serving[conn] = uid
                self._idle -= 1
                self._need_acceptor(1)
                return True
            report = self._park(uid, conn, raw)
        if report is not None:  # refused: over max_parked
            conn.close()
            if report:
                self._log_refusals(report)
        return False

    def _attribute_unknown(self) -> None:
        """Read the peer uid of every connection served as UNKNOWN (the caller holds self._lock;
        connections are closed under it, so none of these is closed meanwhile)."""
        unknown = [c for c, client in self._serving.items() if client is UNKNOWN]
        for c in unknown:
            raw = _raw_credentials(c)
            uid = None if raw is None else _CRED.unpack(raw)[1]
            self._serving[c] = uid
            self._active[uid] = self._active.get(uid, 0) + 1
        self._unknown = 0

    def _park(self, uid: int | None, conn: socket.socket,
              raw: bytes | None) -> dict[int | None, int] | None:
        """Park a connection beyond its uid's share: None. If max_parked of its connections are
        parked already, count it as refused (the caller closes it) and return the refusals to
        log now ({} if none is due). The caller holds self._lock."""
        queue = self._parked.get(uid)
        if len(queue or ()) < self.max_parked:
            if queue is None:
                queue = self._parked[uid] = deque()
            queue.append((conn, raw))
            return None
        self._refused[uid] = self._refused.get(uid, 0) + 1
        return self._refusals_due() or {}

    def _refusals_due(self) -> dict[int | None, int] | None:
        """The refusals to log now, if it is time (the caller holds self._lock)."""
        now = time.monotonic()
        if now < self._refused_log_at:
            return None
        self._refused_log_at = now + REFUSED_LOG_INTERVAL_S
        report = self._refused.copy()
        self._refused.clear()
        return report

    def _log_refusals(self, report: dict[int | None, int]) -> None:
        for uid, count in report.items():
            who = "an unknown uid" if uid is None else f"uid {uid}"
            log.info("closed %d connection(s) of %s unread: %d of its connections were already "
                     "waiting for its share of %d (max_parked_per_client; logged at most every "
                     "%g s)", count, who, self.max_parked, self.client_share,
                     REFUSED_LOG_INTERVAL_S)

    def _serve(self, conn: socket.socket, raw_cred: bytes | None) -> int:
        """Serve one connection; the bytes of request body and response it held in memory (for
        memory.release_after_large)."""
        timeout_s = self.timeout_s
        whole_request = False  # read to its end, so the client is not still sending it
        handled = 0
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
                # Only the Unix peer credentials authenticator is given them.
                peer = (_credentials(raw_cred) if raw_cred is not None else
                        peer_credentials(conn)) \
                    if header.auth_type == AuthType.UNIX_PEER_CREDENTIALS else None
                whole_request = True
                response = self.dispatcher.dispatch(header, raw.body, raw.auth, peer,
                                                    self._waiting)
                handled = len(raw.body)
            handled += len(response)
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
                        return handled  # the client has closed already
                except BlockingIOError:
                    return handled  # nothing unread: closing now cannot reset the connection
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
        return handled

    def stop(self, grace_s: float) -> None:
        """Stop accepting, then let the connections being served finish (up to grace_s).
        Blocks; run it off the event loop."""
        deadline = time.monotonic() + grace_s
        self._stopping = True
        if self._sock is None:
            return
        with self._lock:
            threads = list(self._threads)
            # Parked connections were not being served: close them unread, as the connections
            # still in the kernel's queue are when the socket closes.
            parked = [conn for queue in self._parked.values() for conn, _ in queue]
            self._parked.clear()
        for conn in parked:
            conn.close()
        # Threads blocked in accept() wake only for a connection: give each one, also to each
        # thread that comes back to accept() after finishing its connection. Other worker
        # processes accept on the same socket and may take a wake-up meant for this one (they
        # answer it as an empty connection), so keep connecting, a little at a time, until every
        # thread of this listener has ended.
        try:
            address = self._sock.getsockname()
        except OSError:
            address = None
        self._wake_until_ended(threads, address, deadline)
        if any(t.is_alive() for t in threads):
            # Out of grace: cut the connections still being served (a thread inside an operation
            # finishes it first, then finds its socket shut), and give them a moment more.
            for conn in list(self._serving):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._wake_until_ended(threads, address, deadline + 5.0)
        self._sock.close()

    def _wake_until_ended(self, threads: list[threading.Thread], address: str | bytes | None,
                          deadline: float) -> None:
        """Connect to the listening socket for each thread in accept() (those alive and not
        serving a connection), round after round, until every thread has ended or the deadline
        passes. The stragglers are daemon threads."""
        while time.monotonic() < deadline:
            alive = sum(t.is_alive() for t in threads)
            if not alive:
                return
            for _ in range(alive - len(self._serving)):
                if address is None:
                    break
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as wake:
                    wake.setblocking(False)
                    try:
                        wake.connect(address)
                    except (OSError, TypeError):
                        break  # queue full: the next round
            time.sleep(0.01)
