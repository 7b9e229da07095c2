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
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
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


def _exchange_loop(path: str, request: bytes, start_at: float, end_at: float,
                   check_status: bool) -> tuple[bytes, int, int, float]:
    """Run requests back to back until end_at. Returns latencies (array of doubles, as bytes),
    successes, failures and the time the last request finished."""
    lat = array("d")
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
        s = new_socket(family, kind)
        try:
            s.connect(path)
            s.sendall(request)
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

    def run(self, clients: int, path: str, request: bytes, duration: float,
            check_status: bool = True, server_pid: int | None = None) -> Measurement:
        if clients > len(self._conns):
            raise ValueError(f"only {len(self._conns)} client processes")
        start_at = time.monotonic() + 0.2
        end_at = start_at + duration
        for conn in self._conns[:clients]:
            conn.send((path, request, start_at, end_at, check_status))
        cpu0 = None
        if server_pid is not None:
            time.sleep(max(0.0, start_at - time.monotonic()))
            cpu0 = process_cpu_seconds(server_pid)
        results = []
        for conn in self._conns[:clients]:
            if not conn.poll(duration + 60):
                raise RuntimeError("a client process did not finish (is the server stuck?)")
            results.append(conn.recv())
        cpu = None
        if server_pid is not None and cpu0 is not None:
            cpu = process_cpu_seconds(server_pid) - cpu0
        lat = array("d")
        ok = failed = 0
        last = start_at
        for raw, n_ok, n_failed, t_end in results:
            lat.frombytes(raw)
            ok += n_ok
            failed += n_failed
            last = max(last, t_end)
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


class Service:
    """`pqparsec serve --config` in a child process, on a socket in its own temp dir."""

    def __init__(self, directory: str, provider: dict[str, Any] | None = None,
                 env: dict[str, str] | None = None) -> None:
        """`provider` is the [[provider]] table (default: the software provider); `env` is added
        to the service's environment (e.g. SOFTHSM2_CONF)."""
        self.dir = directory
        self.socket_path = os.path.join(directory, "parsec.sock")
        self.config_path = os.path.join(directory, "config.toml")
        self.log_path = os.path.join(directory, "service.log")
        Path(self.config_path).write_text(CONFIG.format(
            socket=self.socket_path, db=os.path.join(directory, "kim.sqlite3"),
            provider=toml_table(provider or {"provider_type": "MbedCrypto"})))
        env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pqparsec", "serve", "--config", self.config_path],
                cwd=directory, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        self._wait_ready(20.0)

    @property
    def endpoint(self) -> str:
        return f"unix:{self.socket_path}"

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
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
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


class Bench:
    """One run: a temp dir, the service, the baseline server and the client processes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._tmp = tempfile.TemporaryDirectory(prefix="pqp-bench-")
        self.dir = self._tmp.name
        self.pool = ClientPool(max(settings.concurrency))
        self.service = Service(self.dir)
        self.baseline = BaselineServer(self.dir)
        self.ideal = IdealServer(self.dir)
        self.sign_only = SignOnlyServer(self.dir)

    def close(self) -> None:
        self.pool.close()
        self.baseline.stop()
        self.ideal.stop()
        self.sign_only.stop()
        self.service.stop()
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
