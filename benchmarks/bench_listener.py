"""The listener itself: the threaded listener (service/listener.py) against event-loop listeners
on uvloop (listener_uvloop.py beside this file), in one run, each in a real service process.

Every listener runs in `pqparsec serve`'s own composition root (app.serve: config, providers,
key store, dispatcher, signals), started through this file's --serve mode, which only swaps the
Listener class app.Worker builds. With 2 workers (core_settings.workers) the supervisor binds
the socket and forks the workers, each with its own listener on the shared socket: the deployment
shape of issue 13.

Cells: Ping at 1 and 8 clients, ECDSA P-256 sign (PsaSignHash, a key the dispatcher runs inline)
at 8 clients; server CPU per request is the user + system time of all the service's processes
over the cell. Cells are interleaved across the services and repeated; the best round of each is
reported (the least disturbed), with ratios to the threaded listener of the same worker count.

    .venv/bin/python benchmarks/bench_listener.py [--quick] [--rounds N] [--duration S]
        [--listeners threaded,uvloop,uvloop-protocol] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from benchlib import (
    CONFIG,
    ClientPool,
    Measurement,
    Service,
    fmt_ms,
    fmt_rate,
    machine_summary,
    process_cpu_seconds,
    raw_request,
    send_once,
    table,
    toml_table,
)

if TYPE_CHECKING:
    from pqparsec.service.dispatcher import Dispatcher

LISTENERS = {
    "threaded": "pqparsec.service.listener:Listener",
    "uvloop": "listener_uvloop:AsyncListener",
    "uvloop-protocol": "listener_uvloop:ProtocolListener",
}
APP = "bench"
def config_text(workers: int, socket_path: str, db: str) -> str:
    """benchlib's service config (software provider, Direct authenticator) with `workers`."""
    return CONFIG.format(core=toml_table({"workers": workers}) + "\n", socket=socket_path, db=db,
                         provider=toml_table({"provider_type": "MbedCrypto"}))
CELLS = (("ping", 1), ("ping", 8), ("sign", 8))


# ------------------------------------------------------------------------------------------------
# --serve: the service with a chosen listener (runs in the child process)


def _serve(listener: str, config_path: str) -> None:
    """`pqparsec serve --config` (app.serve: one process, or the supervisor and its workers),
    with app.Worker building the chosen listener class."""
    import importlib

    from pqparsec.service import app
    from pqparsec.service import config as config_mod

    module, name = LISTENERS[listener].split(":")
    # app.Worker builds app.Listener: the one name to swap.
    app.__dict__["Listener"] = getattr(importlib.import_module(module), name)
    app.serve(config_mod.load(config_path), reload_from=config_path)


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


# ------------------------------------------------------------------------------------------------
# Bare servers: the least each design does per connection (accept, read the 36-byte header,
# answer 38 bytes, close), with no parsing or dispatch. What a listener of that design costs at
# the least; the service's figures minus these are pqparsec's own work.

_BARE_THREADED = r"""
import socket, sys, threading
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(socket.SOMAXCONN)
resp = bytes(38)
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
            conn.sendall(resp)
for _ in range(4):
    threading.Thread(target=serve, daemon=True).start()
print("ready", flush=True)
threading.Event().wait()
"""

_BARE_UVLOOP = r"""
import socket, sys, uvloop
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(socket.SOMAXCONN)
srv.setblocking(False)
loop = uvloop.new_event_loop()
resp, DONTWAIT = bytes(38), socket.MSG_DONTWAIT
def answer(conn):
    conn.send(resp, DONTWAIT)
    conn.close()
def later(conn):
    loop.remove_reader(conn.fileno())
    conn.recv(4096, DONTWAIT)
    answer(conn)
def accept():
    for _ in range(32):
        try:
            conn, _ = srv.accept()
        except BlockingIOError:
            return
        try:
            conn.recv(4096, DONTWAIT)
        except BlockingIOError:
            loop.add_reader(conn.fileno(), later, conn)
            continue
        answer(conn)
loop.add_reader(srv.fileno(), accept)
print("ready", flush=True)
loop.run_forever()
"""

_BARE_PROTOCOL = r"""
import asyncio, socket, sys, uvloop
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(socket.SOMAXCONN)
resp = bytes(38)
class Bare(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.got = transport, 0
    def data_received(self, data):
        self.got += len(data)
        if self.got >= 36:
            self.transport.write(resp)
            self.transport.close()
loop = uvloop.new_event_loop()
loop.run_until_complete(loop.create_unix_server(Bare, sock=srv, backlog=socket.SOMAXCONN))
print("ready", flush=True)
loop.run_forever()
"""

BARE = {"bare threaded": _BARE_THREADED, "bare uvloop": _BARE_UVLOOP,
        "bare uvloop-protocol": _BARE_PROTOCOL}


class BareServer:
    def __init__(self, directory: str, name: str) -> None:
        self.label = self.listener = name
        self.n_workers = 1
        self.socket_path = os.path.join(directory, name.replace(" ", "-") + ".sock")
        self.proc = subprocess.Popen([sys.executable, "-c", BARE[name], self.socket_path],
                                     stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != b"ready":
            self.stop()
            raise RuntimeError(f"{name} did not start")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


# ------------------------------------------------------------------------------------------------
# In-process: what pqparsec's own code costs per request, without any socket


def in_process_costs(directory: str) -> dict[str, float]:
    """Microseconds per request of parsing the request and dispatching it (the listener's call
    of Dispatcher.dispatch), on this thread, for Ping and for the sign request."""
    from listener_uvloop import parse_request

    from pqparsec.service import app
    from pqparsec.service import config as config_mod
    from pqparsec.service.dispatcher import Dispatcher

    os.makedirs(directory)
    path = os.path.join(directory, "config.toml")
    Path(path).write_text(config_text(1, os.path.join(directory, "p.sock"),
                                      os.path.join(directory, "kim.sqlite3")))
    cfg = config_mod.load(path)
    stores = app.KeyStores()
    state = app.build_state(cfg, stores)
    dispatcher = Dispatcher(lambda: state, 2)
    out = {}
    try:
        requests = _requests_for(dispatcher)
        for name, request in requests.items():
            def once(request: bytes = request) -> bytes:
                parsed = parse_request(request, 1 << 20)
                assert parsed is not None
                raw = parsed[0]
                return dispatcher.dispatch(raw.header.check_fields(), raw.body, raw.auth, None)
            for _ in range(200):
                once()
            n, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < 0.5:
                for _ in range(50):
                    once()
                n += 50
            out[name] = (time.perf_counter() - t0) / n * 1e6
    finally:
        state.close()
        stores.close()
    return out


def _requests_for(dispatcher: Dispatcher) -> dict[str, bytes]:
    """Ping and sign requests for an in-process dispatcher (the key made through it)."""
    from listener_uvloop import parse_request

    from pqparsec.protocol.opcodes import Opcode

    gen, sign = _key_requests()
    for request in (gen, sign):
        parsed = parse_request(request, 1 << 20)
        assert parsed is not None
        raw = parsed[0]
        resp = dispatcher.dispatch(raw.header.check_fields(), raw.body, raw.auth, None)
        if resp[32:34] != b"\0\0":
            raise RuntimeError("in-process request failed")
    return {"ping": raw_request(int(Opcode.PING), 0, b""), "sign": sign}


def _key_requests() -> tuple[bytes, bytes]:
    """The raw PsaGenerateKey request of the benchmark's key, and the sign request."""
    from pqparsec.protocol import operations as ops
    from pqparsec.protocol.ids import AuthType, ProviderId
    from pqparsec.protocol.opcodes import Opcode
    from pqparsec.protocol.psa import (
        EccFamily,
        Hash,
        KeyAttributes,
        KeyPolicy,
        KeyType,
        SignAlg,
        SignKind,
        UsageFlags,
    )

    alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)

    def request(opcode: Opcode, body: object) -> bytes:
        return raw_request(int(opcode), int(ProviderId.MBED_CRYPTO),
                           ops.encode_request(opcode, body), int(AuthType.DIRECT), APP.encode())

    gen = request(Opcode.PSA_GENERATE_KEY, ops.PsaGenerateKeyRequest("ecc-p256", KeyAttributes(
        KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
        KeyPolicy(UsageFlags(sign_hash=True, verify_hash=True), alg))))
    sign = request(Opcode.PSA_SIGN_HASH, ops.PsaSignHashRequest(
        "ecc-p256", alg, hashlib.sha256(b"pqparsec listener benchmark").digest()))
    return gen, sign


# ------------------------------------------------------------------------------------------------
# The benchmark


class ListenerService(Service):
    """A service process started through --serve with one listener and N workers."""

    def __init__(self, directory: str, listener: str, workers: int) -> None:
        os.makedirs(directory)
        self.dir = directory
        self.listener = listener
        self.n_workers = workers
        self.socket_path = os.path.join(directory, "parsec.sock")
        self.config_path = os.path.join(directory, "config.toml")
        self.log_path = os.path.join(directory, "service.log")
        Path(self.config_path).write_text(config_text(
            workers, self.socket_path, os.path.join(directory, "kim.sqlite3")))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "--serve", listener, self.config_path],
                cwd=directory, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        self._wait_ready(20.0)
        if workers > 1:
            deadline = time.monotonic() + 20
            while len(_children(self.proc.pid)) < workers and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)  # every worker has started (one answered the first ping)

    @property
    def label(self) -> str:
        return f"{self.listener}, {self.n_workers} worker{'s' if self.n_workers > 1 else ''}"

    def cpu_seconds(self) -> float:
        """User + system time of the service's processes (the supervisor and its workers)."""
        total = 0.0
        for pid in [self.proc.pid, *_children(self.proc.pid)]:
            try:
                total += process_cpu_seconds(pid)
            except OSError:
                pass  # a worker that has just exited
        return total


def prepare_requests(service: ListenerService | BareServer) -> dict[str, bytes]:
    """Ping, and sign with an ECDSA P-256 key created in this service's key store."""
    from pqparsec.protocol.opcodes import Opcode

    ping = raw_request(int(Opcode.PING), 0, b"")
    if isinstance(service, BareServer):
        return {"ping": ping}
    gen, sign = _key_requests()
    status, _ = send_once(service.socket_path, gen)
    if status != 0:
        raise RuntimeError(f"{service.label}: PsaGenerateKey answered status {status}")
    requests = {"ping": ping, "sign": sign}
    for name, req in requests.items():
        for _ in range(20 * service.n_workers):  # every worker has the key cached
            status, _ = send_once(service.socket_path, req)
            if status != 0:
                raise RuntimeError(f"{service.label}: {name} answered status {status}")
    return requests


@dataclass
class Cell:
    runs: list[Measurement] = field(default_factory=list)

    @property
    def best(self) -> Measurement:
        return max(self.runs, key=lambda m: m.rate)


Server = ListenerService | BareServer


def measure(pool: ClientPool, services: list[Server], requests: dict[str, dict[str, bytes]],
            rounds: int, duration: float) -> dict[tuple[str, str, int], Cell]:
    cells: dict[tuple[str, str, int], Cell] = {}
    for r in range(rounds):
        for op, clients in CELLS:
            # Interleaved, in a rotating order, so that a disturbance hits every server alike.
            k = r % len(services)
            for svc in services[k:] + services[:k]:
                if op not in requests[svc.label]:
                    continue  # a bare server only answers the ping cells
                cpu0 = svc.cpu_seconds()
                m = pool.run(clients, svc.socket_path, requests[svc.label][op], duration,
                             check_status=not isinstance(svc, BareServer))
                m.server_cpu_s = svc.cpu_seconds() - cpu0
                cells.setdefault((svc.label, op, clients), Cell()).runs.append(m)
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return cells


def _median(xs: list[float]) -> float:
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def _cpu(m: Measurement) -> float:
    return m.server_cpu_us_per_req or float("nan")


def report(services: list[Server], cells: dict[tuple[str, str, int], Cell],
           rounds: int, duration: float, costs: dict[str, float]) -> str:
    rows = []
    for svc in services:
        for op, clients in CELLS:
            if (svc.label, op, clients) not in cells:
                continue
            runs = cells[(svc.label, op, clients)].runs
            m = cells[(svc.label, op, clients)].best
            rows.append([svc.label, op, str(clients), fmt_rate(m.rate),
                         fmt_rate(_median([x.rate for x in runs])), fmt_ms(m.p50_ms),
                         fmt_ms(m.p99_ms), f"{_median([_cpu(x) for x in runs]):.0f}",
                         str(sum(x.failed for x in runs))])
    out = [f"Listeners ({duration:g} s per cell, {rounds} interleaved rounds: the best round's "
           "rate and latencies, the median rate and the median server CPU per request; new "
           "connection per request, client processes)",
           table(["server", "op", "clients", "best req/s", "median req/s", "p50 ms", "p99 ms",
                  "server CPU us/req", "errors"], rows), ""]
    ratio_rows = []
    for svc in services:
        base_name = "bare threaded" if isinstance(svc, BareServer) else "threaded"
        base = next((s for s in services if s.listener == base_name
                     and s.n_workers == svc.n_workers), None)
        if base is None or base is svc:
            continue
        for op, clients in CELLS:
            if (svc.label, op, clients) not in cells:
                continue
            mine, theirs = cells[(svc.label, op, clients)], cells[(base.label, op, clients)]
            # Paired by round: the two cells of a round ran a few seconds apart.
            rate = sorted(a.rate / b.rate for a, b in zip(mine.runs, theirs.runs, strict=True))
            cpu = sorted(_cpu(a) / _cpu(b) for a, b in zip(mine.runs, theirs.runs, strict=True))
            ratio_rows.append([svc.label, op, str(clients), f"{_median(rate):.2f}x",
                               f"{rate[0]:.2f}-{rate[-1]:.2f}",
                               f"{mine.best.rate / theirs.best.rate:.2f}x",
                               f"{_median(cpu):.2f}x", f"{cpu[0]:.2f}-{cpu[-1]:.2f}"])
    if ratio_rows:
        out += ["Against the threaded listener with as many workers (bare servers: against the "
                "bare threaded one), paired by round (rate: > 1 is faster; server CPU per "
                "request: < 1 is cheaper)",
                table(["server", "op", "clients", "rate ratio (median)", "range",
                       "best/best", "CPU ratio (median)", "range"], ratio_rows), ""]
    if costs:
        out.append("In-process, no socket (this process, one thread): request parsing + "
                   "Dispatcher.dispatch = " + ", ".join(f"{op} {us:.1f} us"
                                                        for op, us in costs.items()))
    return "\n".join(out)


def main() -> None:
    if sys.argv[1:2] == ["--serve"]:
        _serve(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s cells, one round")
    parser.add_argument("--rounds", type=int, help="rounds (default 5)")
    parser.add_argument("--duration", type=float, help="seconds per cell (default 2)")
    parser.add_argument("--listeners", default="threaded,uvloop,uvloop-protocol")
    parser.add_argument("--workers", default="1,2", help="worker counts, e.g. 1,2")
    parser.add_argument("--no-bare", action="store_true",
                        help="leave out the bare servers (one per design, ping cells)")
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 5)
    duration = args.duration or (1.0 if args.quick else 2.0)
    listeners = args.listeners.split(",")
    for name in listeners:
        if name not in LISTENERS:
            parser.error(f"unknown listener {name!r} (one of {', '.join(LISTENERS)})")
    workers = [int(w) for w in args.workers.split(",")]
    if any(name != "threaded" for name in listeners) or not args.no_bare:
        import importlib.util
        if importlib.util.find_spec("uvloop") is None:
            parser.error("the uvloop listeners need uvloop: .venv/bin/pip install uvloop "
                         "(or --listeners threaded --no-bare)")
    print(machine_summary())
    print(f"service: the software provider, Direct authenticator, log_level error, "
          f"thread_pool_size default; listeners: {', '.join(listeners)}; workers: "
          f"{', '.join(map(str, workers))}", flush=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pqp-bench-listener-") as tmp:
        costs = in_process_costs(os.path.join(tmp, "in-process"))
        pool = ClientPool(8)
        services: list[Server] = []
        try:
            for w in workers:
                for name in listeners:
                    services.append(ListenerService(os.path.join(tmp, f"{name}-{w}"), name, w))
            if not args.no_bare:
                services += [BareServer(tmp, name) for name in BARE]
            requests = {svc.label: prepare_requests(svc) for svc in services}
            cells = measure(pool, services, requests, rounds, duration)
        finally:
            pool.close()
            for svc in services:
                svc.stop()
    print()
    print(report(services, cells, rounds, duration, costs))
    print(f"\n(total {time.monotonic() - t0:.0f} s)")


if __name__ == "__main__":
    main()
