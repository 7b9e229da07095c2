"""Shared machinery of the benchmarks: the service under test, the bare baseline server, a pool
of load-generating client processes, and table printing.

Every client opens a new Unix-socket connection per request, as Parsec's clients do, sends a
request prepared in advance and reads until the server closes. Clients are separate processes so
that eight of them are not serialised by one interpreter lock; on a small machine they still
share the CPUs with the server, which is why the bare baseline is measured the same way, in the
same run, and the figures that matter are ratios.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HEADER_LEN = 36
BASELINE_RESPONSE_LEN = 38
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------------------
# Client processes


# A request not answered within this many seconds counts as failed (a stuck server shows as
# errors in its cell instead of stopping the run).
REQUEST_TIMEOUT = 10.0

# A key name of this length in a request given to ClientPool.run(unique_names=True) is replaced,
# request by request, with a name no other request of the run uses (for PsaGenerateKey).
UNIQUE_NAME = "@" * 16


def _exchange_loop(path: str, request: bytes, start_at: float, end_at: float,
                   check_status: bool, name_prefix: bytes | None = None
                   ) -> tuple[bytes, int, int, float]:
    """Run requests back to back until end_at. Returns latencies (array of doubles, as bytes),
    successes, failures and the time the last request finished. With `name_prefix` (7 bytes),
    UNIQUE_NAME in the request becomes name_prefix + a 9-digit counter, request by request."""
    lat = array("d")
    placeholder = UNIQUE_NAME.encode()
    counter = 0
    append = lat.append
    now = time.monotonic
    new_socket = socket.socket
    family, kind = socket.AF_UNIX, socket.SOCK_STREAM
    ok = failed = 0
    delay = start_at - now()
    if delay > 0:
        time.sleep(delay)
    t1 = now()
    while True:
        t0 = now()
        if t0 >= end_at:
            break
        if name_prefix is not None:
            counter += 1
            request_now = request.replace(placeholder, name_prefix + b"%09d" % counter)
        else:
            request_now = request
        s = new_socket(family, kind)
        try:
            s.settimeout(REQUEST_TIMEOUT)
            s.connect(path)
            s.sendall(request_now)
            resp = chunk = s.recv(65536)
            while chunk:
                chunk = s.recv(65536)
                resp += chunk
        except OSError:
            failed += 1
            continue
        finally:
            s.close()
        t1 = now()
        if len(resp) < HEADER_LEN or (check_status and resp[32:34] != b"\0\0"):
            failed += 1
        else:
            ok += 1
            append(t1 - t0)
    return lat.tobytes(), ok, failed, t1


def _client_main(conn: Connection) -> None:
    """A client process: run jobs sent by the parent until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        job = conn.recv()
        if job is None:
            return
        conn.send(_exchange_loop(*job))


class ClientPool:
    """Persistent client processes, so that starting them is not part of any measurement."""

    def __init__(self, size: int) -> None:
        ctx = mp.get_context("spawn")
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        for _ in range(size):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_client_main, args=(child,), daemon=True)
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)

        self._runs = 0

    def run(self, clients: int, path: str, request: bytes, duration: float,
            check_status: bool = True, server_pid: int | None = None,
            unique_names: bool = False) -> Measurement:
        """`clients` processes send `request` for `duration` seconds. `server_pid`: measure the
        CPU of that process and all its descendants (a supervisor and its workers).
        `unique_names`: UNIQUE_NAME in the request becomes a name used once in this pool's life."""
        if clients > len(self._conns):
            raise ValueError(f"only {len(self._conns)} client processes")
        if unique_names and UNIQUE_NAME.encode() not in request:
            raise ValueError("unique_names: the request does not contain UNIQUE_NAME")
        self._runs += 1
        start_at = time.monotonic() + 0.2
        end_at = start_at + duration
        for i, conn in enumerate(self._conns[:clients]):
            prefix = f"{self._runs % 10000:04d}{i:03d}".encode() if unique_names else None
            conn.send((path, request, start_at, end_at, check_status, prefix))
        cpu0 = None
        tree0: set[int] = set()
        if server_pid is not None:
            time.sleep(max(0.0, start_at - time.monotonic()))
            tree0 = set(process_tree(server_pid))
            cpu0 = tree_cpu_seconds(server_pid)
        results = []
        for conn in self._conns[:clients]:
            if not conn.poll(duration + 60):
                raise RuntimeError(f"a client process did not finish its cell on {path}")
            results.append(conn.recv())
        cpu = None
        if server_pid is not None and cpu0 is not None:
            cpu = tree_cpu_seconds(server_pid) - cpu0
            if set(process_tree(server_pid)) != tree0:
                cpu = None  # a process of the service started or exited: the sum is not its cost
        lat = array("d")
        ok = failed = 0
        last = start_at
        for raw, n_ok, n_failed, t_end in results:
            lat.frombytes(raw)
            ok += n_ok
            failed += n_failed
            last = max(last, t_end)
        if ok + failed == 0:
            print(f"warning: no request finished in a {duration:g} s cell of {clients} client(s) "
                  f"on {path} (a server stuck, or clients without CPU time)", file=sys.stderr,
                  flush=True)
        return Measurement(clients, ok, failed, max(last - start_at, 1e-9), sorted(lat), cpu)

    def close(self) -> None:
        for conn in self._conns:
            try:
                conn.send(None)
            except OSError:
                pass
        for proc in self._procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    fields = data[data.rindex(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# /proc/PID/task/TID/children exists only with CONFIG_PROC_CHILDREN; without it, scan /proc.
_HAS_CHILDREN_FILE = os.path.exists(f"/proc/self/task/{os.getpid()}/children")


def _children(pid: int) -> list[int]:
    """The live children of a process."""
    if not _HAS_CHILDREN_FILE:
        return _children_by_scan(pid)
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out += [int(x) for x in f.read().split()]
    except OSError:  # the process or one of its threads has gone meanwhile
        pass
    return out


def _children_by_scan(pid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        if int(data[data.rindex(b")") + 2:].split()[1]) == pid:
            out.append(int(name))
    return out


def process_tree(pid: int) -> list[int]:
    """A process and all its live descendants (the service's supervisor, its workers and any
    helper processes they started), parents first."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        out.append(p)
        todo += _children(p)
    return out


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants. A descendant that exits
    during a measurement takes its CPU time out of the sum (its parent gets it only once it
    reaps it), so ClientPool.run reports no CPU figure for a cell during which the tree changed."""
    total = 0.0
    for p in process_tree(pid):
        try:
            total += process_cpu_seconds(p)
        except (OSError, ValueError):
            pass
    return total


def tree_memory_kib(pid: int) -> tuple[int, int, int]:
    """(processes, summed VmRSS, summed PSS) of a process and its live descendants, in KiB.
    RSS counts shared pages once per process (so it overstates a forked service), PSS shares
    them out among the processes that map them (so the sum is the service's real footprint)."""
    n = rss = pss = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
        n += 1
    return n, rss, pss


@dataclass
class Measurement:
    clients: int
    ok: int
    failed: int
    wall_s: float
    latencies: list[float]  # seconds, sorted
    server_cpu_s: float | None = None

    @property
    def rate(self) -> float:
        return self.ok / self.wall_s

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        i = min(len(self.latencies) - 1, max(0, round(p / 100 * len(self.latencies)) - 1))
        return self.latencies[i]

    @property
    def p50_ms(self) -> float:
        return self.percentile(50) * 1000

    @property
    def p99_ms(self) -> float:
        return self.percentile(99) * 1000

    @property
    def server_cpu_us_per_req(self) -> float | None:
        if self.server_cpu_s is None or not self.ok:
            return None
        return self.server_cpu_s / self.ok * 1e6


def div(a: float, b: float) -> float:
    """a / b, or NaN when b is zero (a cell in which every request failed)."""
    return a / b if b else float("nan")


def best(measurements: Sequence[Measurement]) -> Measurement:
    """The round with the highest rate: the least disturbed by the rest of the machine."""
    return max(measurements, key=lambda m: m.rate)


# ------------------------------------------------------------------------------------------------
# The bare baseline: connect, read the 36-byte header, answer 38 bytes, close


async def _baseline_serve(path: str, ready: Any) -> None:
    response = bytes(BASELINE_RESPONSE_LEN)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readexactly(HEADER_LEN)
            writer.write(response)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass

    server = await asyncio.start_unix_server(handle, path=path, backlog=128)
    ready.set()
    async with server:
        await server.serve_forever()


def _baseline_main(path: str, ready: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(_baseline_serve(path, ready))


class BaselineServer:
    """An asyncio echo server in its own process, the floor a per-connection service can reach."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, "baseline.sock")
        ctx = mp.get_context("spawn")
        ready = ctx.Event()
        self._proc = ctx.Process(target=_baseline_main, args=(self.path, ready), daemon=True)
        self._proc.start()
        if not ready.wait(20):
            self.stop()
            raise RuntimeError("the baseline server did not start")

    @property
    def pid(self) -> int:
        assert self._proc.pid is not None
        return self._proc.pid

    def stop(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join(5)


# The ceiling: the same exchange served by a zero-work C program (accept, read the header, write
# 38 bytes, close; no parsing, no event loop). Whatever it reaches with our client processes on
# this machine, no per-connection server in any language can beat. Needs a C compiler (`cc`).

_IDEAL_C = r"""
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1024)) { perror("bind"); return 1; }
    puts("ready");
    fflush(stdout);
    char buf[4096], resp[38] = {0};
    for (;;) {
        int c = accept(s, 0, 0), n = 0, r;
        if (c < 0) continue;
        while (n < 36 && (r = (int)read(c, buf, sizeof buf)) > 0) n += r;
        if (write(c, resp, sizeof resp) < 0) perror("write");
        close(c);
    }
}
"""


class IdealServer:
    """The zero-work C server in its own process; `available` is False without a compiler."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, "ideal.sock")
        self.proc: subprocess.Popen[bytes] | None = None
        self.why_not = ""
        src, exe = os.path.join(directory, "ideal.c"), os.path.join(directory, "ideal")
        Path(src).write_text(_IDEAL_C)
        try:
            subprocess.run(["cc", "-O2", "-o", exe, src], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            self.why_not = f"no C compiler ({exc})"
            return
        self.proc = subprocess.Popen([exe, self.path], stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != b"ready":
            self.stop()
            self.why_not = "the C server did not start"

    @property
    def available(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


# The least a Python server that signs can do: threads blocking in accept() (cheaper than an event
# loop), each reading the header, making one ECDSA P-256 signature with a key already loaded, and
# answering. No parsing, no key store, no policy: the most a CPython service could reach here.

_SIGN_ONLY_PY = r"""
import hashlib, os, socket, sys, threading
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
path, threads = sys.argv[1], int(sys.argv[2])
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1024)
key = ec.generate_private_key(ec.SECP256R1())
alg, digest = ec.ECDSA(Prehashed(hashes.SHA256())), hashlib.sha256(b"bench").digest()
head = bytes(36)
def serve():
    while True:
        conn, _ = srv.accept()
        with conn:
            got = 0
            while got < 36:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                got += len(chunk)
            conn.sendall(head + key.sign(digest, alg))
for _ in range(threads):
    threading.Thread(target=serve, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""


class SignOnlyServer:
    """_SIGN_ONLY_PY in its own process, with 4 accepting threads."""

    def __init__(self, directory: str, threads: int = 4) -> None:
        self.path = os.path.join(directory, "sign-only.sock")
        self.proc = subprocess.Popen([sys.executable, "-c", _SIGN_ONLY_PY, self.path,
                                      str(threads)], stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != b"ready":
            self.stop()
            raise RuntimeError("the sign-only server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


# ------------------------------------------------------------------------------------------------
# The service under test


CONFIG = """\
[core_settings]
allow_root = true
log_level = "error"
{core}
[listener]
listener_type = "DomainSocket"
timeout = 3000
socket_path = "{socket}"

[authenticator]
auth_type = "Direct"

[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "{db}"

[[provider]]
key_info_manager = "sqlite-manager"
{provider}
"""


def toml_table(table: dict[str, Any]) -> str:
    """The body of a flat TOML table (strings, ints, bools)."""
    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "\n".join(f"{k} = {value(v)}" for k, v in table.items())


def cpu_count() -> int:
    """CPUs this process may use: what `workers = 0` means for the service."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


class Service:
    """`pqparsec serve --config` in a child process, on a socket in its own directory."""

    def __init__(self, directory: str, provider: dict[str, Any] | None = None,
                 env: dict[str, str] | None = None, workers: int | None = None,
                 src: str | None = None, before_start: Any = None,
                 ready_timeout: float = 60.0) -> None:
        """`provider` is the [[provider]] table (default: the software provider); `env` is added
        to the service's environment (e.g. SOFTHSM2_CONF). `workers` is written as
        core_settings.workers (None: not written, the service's default; a revision older
        than the setting refuses it). `src`: run the service from that source tree
        (PYTHONPATH=src, same interpreter and venv) instead of this checkout's. `before_start`,
        if given, is called with the key store's path before the service starts. `ready_timeout`:
        seconds from spawn to READY=1 before giving up."""
        os.makedirs(directory, exist_ok=True)
        self.dir = directory
        self.workers = workers
        self.src = src
        self.socket_path = os.path.join(directory, "parsec.sock")
        self.config_path = os.path.join(directory, "config.toml")
        self.log_path = os.path.join(directory, "service.log")
        self.db_path = os.path.join(directory, "kim.sqlite3")
        core = toml_table({"workers": workers}) + "\n" if workers is not None else ""
        Path(self.config_path).write_text(CONFIG.format(
            core=core, socket=self.socket_path, db=self.db_path,
            provider=toml_table(provider or {"provider_type": "MbedCrypto"})))
        if before_start is not None:
            before_start(self.db_path)
        # READY=1 on NOTIFY_SOCKET, as systemd gets it, says every worker is up; the first
        # answered ping only says that one is.
        notify_path = os.path.join(directory, "notify.sock")
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(notify_path)
        self._notify.setblocking(False)
        env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1", "NOTIFY_SOCKET": notify_path}
        if src is not None:
            env["PYTHONPATH"] = src
        self.ready_s = 0.0  # spawn to READY=1
        t0 = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pqparsec", "serve", "--config", self.config_path],
                cwd=directory, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        try:
            self._wait_notified(t0, ready_timeout)
            self._wait_ready(30.0)
        finally:
            self._notify.close()

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def processes(self) -> int:
        """The service's processes now (supervisor, workers, helpers)."""
        return len(process_tree(self.proc.pid))

    @property
    def endpoint(self) -> str:
        return f"unix:{self.socket_path}"

    def _wait_notified(self, t0: float, timeout: float) -> None:
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode}:\n{self.log()}")
            try:
                while True:
                    if b"READY=1" in self._notify.recv(4096).split(b"\n"):
                        self.ready_s = time.monotonic() - t0
                        return
            except BlockingIOError:
                pass
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"service did not notify READY=1 within {timeout:g} s:\n{self.log()}")

    def _wait_ready(self, timeout: float) -> None:
        from pqparsec.client import BasicClient

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited with {self.proc.returncode}:\n{self.log()}")
            if os.path.exists(self.socket_path):
                try:
                    if BasicClient(endpoint=self.endpoint, timeout=1.0).ping() == (1, 0):
                        return
                except Exception:
                    pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"service did not start:\n{self.log()}")

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """SIGTERM, as systemd stops it; after 10 s, SIGKILL to every process of the service."""
        if self.proc.poll() is None:
            tree = process_tree(self.proc.pid)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                print(f"warning: {self.dir}: the service did not stop within 10 s of SIGTERM; "
                      "killed", file=sys.stderr, flush=True)
                for pid in tree:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                self.proc.wait(5)


def raw_request(opcode: int, provider: int, body: bytes, auth_type: int = 0,
                auth: bytes = b"") -> bytes:
    """A whole request (header, body, auth), built once and sent many times."""
    from pqparsec.protocol.header import request_header

    return request_header(opcode, provider, len(body), auth_type, len(auth)) + body + auth


def send_once(path: str, request: bytes) -> tuple[int, bytes]:
    """One exchange: the response status and body."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(request)
        resp = b""
        while chunk := s.recv(65536):
            resp += chunk
    if len(resp) < HEADER_LEN:
        raise RuntimeError(f"short response: {resp.hex()}")
    return int.from_bytes(resp[32:34], "little"), resp[HEADER_LEN:]


# ------------------------------------------------------------------------------------------------
# The environment shared by the benchmark scripts


@dataclass
class Settings:
    duration: float  # seconds per measured cell
    rounds: int  # rounds of the ping/baseline comparison; the best is reported
    concurrency: tuple[int, ...] = (1, 8)


FULL = Settings(duration=2.5, rounds=3)
QUICK = Settings(duration=1.0, rounds=1)


def revision_source(rev: str) -> tuple[str, str]:
    """(commit id, source directory) of another revision of this repository, to run its service
    with Service(src=...). The revision's src/ is extracted once with `git archive` into
    <tmp>/pqparsec-bench-rev-<commit>/ and reused by later runs; the checkout and git's state are
    left alone. Raises RuntimeError with the reason when it cannot."""
    try:
        sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet",
                              f"{rev}^{{commit}}"], check=True, capture_output=True,
                             text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise RuntimeError(f"{rev}: not a commit of {ROOT} ({exc})") from None
    dest = Path(tempfile.gettempdir()) / f"pqparsec-bench-rev-{sha[:12]}"
    if not (dest / "src" / "pqparsec" / "__init__.py").is_file():
        try:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", sha,
                                      "src"], check=True, capture_output=True).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            raise RuntimeError(f"git archive {sha[:12]} failed ({exc})") from None
        tmp = tempfile.mkdtemp(prefix=f"{dest.name}.", dir=dest.parent)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        try:
            os.rename(tmp, dest)
        except OSError:  # another run extracted it meanwhile (or a broken leftover: say so)
            shutil.rmtree(tmp, ignore_errors=True)
            if not (dest / "src" / "pqparsec" / "__init__.py").is_file():
                raise RuntimeError(f"{dest} exists but holds no src/pqparsec: remove it") from None
    src = str(dest / "src")
    where = subprocess.run([sys.executable, "-c", "import pqparsec; print(pqparsec.__file__)"],
                           env={**os.environ, "PYTHONPATH": src}, capture_output=True,
                           text=True).stdout.strip()
    if not where.startswith(src + os.sep):
        raise RuntimeError(f"with PYTHONPATH={src} the interpreter imports pqparsec from "
                           f"{where or '(nothing)'}")
    return sha, src


class Bench:
    """One run: a temp dir, the services (one per worker count: 1 and the number of CPUs; and,
    when asked, the service of another revision), the baseline servers and the client processes."""

    def __init__(self, settings: Settings, baseline_rev: str | None = None) -> None:
        self.settings = settings
        self._tmp = tempfile.TemporaryDirectory(prefix="pqp-bench-")
        self.dir = self._tmp.name
        self.pool = ClientPool(max(settings.concurrency))
        self.services: dict[int, Service] = {}
        self.rev_service: Service | None = None
        self.rev = ""  # commit id of the revision
        self.rev_why_not = ""  # why the revision's service is not running, when asked for
        self._servers: list[Service | BaselineServer | IdealServer | SignOnlyServer] = []
        try:
            for w in sorted({1, cpu_count()}):
                self.services[w] = Service(os.path.join(self.dir, f"workers-{w}"), workers=w)
                self._servers.append(self.services[w])
            if baseline_rev:
                try:
                    self.rev, src = revision_source(baseline_rev)
                    self.rev_service = Service(os.path.join(self.dir, "revision"), src=src)
                    self._servers.append(self.rev_service)
                except RuntimeError as exc:
                    self.rev_why_not = str(exc).splitlines()[0]
            self.baseline = BaselineServer(self.dir)
            self._servers.append(self.baseline)
            self.ideal = IdealServer(self.dir)
            self._servers.append(self.ideal)
            self.sign_only = SignOnlyServer(self.dir)
            self._servers.append(self.sign_only)
        except BaseException:
            self.close()
            raise

    @property
    def service(self) -> Service:
        """The service with the most workers."""
        return self.services[max(self.services)]

    def close(self) -> None:
        self.pool.close()
        for server in reversed(self._servers):
            server.stop()
        self._tmp.cleanup()

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------------------------------------------
# Output


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                         enumerate(zip(cells, widths, strict=True))).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def fmt_rate(x: float) -> str:
    return f"{x:,.0f}"


def fmt_ms(x: float) -> str:
    return f"{x:.3f}"


def fmt_opt(x: float | None, spec: str = ".0f") -> str:
    return "-" if x is None else format(x, spec)


def machine_summary() -> str:
    import cryptography

    cpus = os.cpu_count()
    usable: int | None = cpus
    if hasattr(os, "sched_getaffinity"):
        usable = len(os.sched_getaffinity(0))
    model = ""
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                model = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0]
    busy = "  (other work is running: figures will be noisy)" if load > 0.5 else ""
    return (f"CPUs: {cpus} (usable by this process: {usable}){f'; {model}' if model else ''}\n"
            f"Python {sys.version.split()[0]}, cryptography {cryptography.__version__}; "
            f"load average at start: {load:.2f}{busy}")


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")
