"""Memory of `pqparsec serve` (software provider): at rest, through a burst of large requests,
and with many keys stored.

    .venv/bin/python benchmarks/bench_memory.py                  # the service's default workers
    .venv/bin/python benchmarks/bench_memory.py --workers 2      # core_settings.workers = 2
    .venv/bin/python benchmarks/bench_memory.py --keys 10000 --burst 50   # quicker
    PYTHONPATH=/other/checkout/src .venv/bin/python benchmarks/bench_memory.py --src /other/checkout/src

Prints one table. Every figure is read from /proc: VmRSS of each of the service's processes
(the supervisor and its workers, found through /proc/PID/task/*/children or, without that file, by
scanning /proc), and their summed PSS (/proc/PID/smaps_rollup), which shares the pages several
processes map among them and so is the service's real footprint. Steps:

1. idle: the service started on a fresh directory, one ping answered, one second later;
2. burst: --burst connections (200) at once, each a PsaHashCompute over --body bytes (1 MiB).
   Every client sends half its request, waits until all have, then sends the rest, so that all
   the requests are inside the service together. The config admits them: body_len_limit above
   the body, and a per-client share (max_connections_per_client) of 256, since they all come
   from one user. RSS right after the last answer, then after --settle seconds (3);
3. keys: a second service on a key store that holds --keys keys (100,000), at rest and after
   100 ECDSA P-256 signatures with one of them (benchmarks/bench_keys.py has the latencies).
   The keys are written into the SQLite store before that service starts, by the service's own
   classes (SoftwareProvider.psa_import_key over a KeyStore, so the rows, the wrapping and the
   KEK are exactly what the service writes), with SQLite's fsync turned off on that connection
   only: through the socket, every key is one synchronous=FULL transaction, an fsync each, and
   100,000 of them take minutes (the rate through the socket is measured on --socket-keys keys).

The figures move by a few hundred KiB between runs, and PSS depends on what else maps the same
libraries (other Python processes share libpython's pages): compare runs made one after the
other.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HEADER_LEN = 36
_HAS_CHILDREN_FILE = os.path.exists(f"/proc/self/task/{os.getpid()}/children")


# -- processes ---------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    out: list[int] = []
    if _HAS_CHILDREN_FILE:
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    out += [int(x) for x in f.read().split()]
        except OSError:
            pass
        return out
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                data = Path(f"/proc/{name}/stat").read_bytes()
            except OSError:
                continue
            if int(data[data.rindex(b")") + 2:].split()[1]) == pid:
                out.append(int(name))
    return out


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        out.append(p)
        todo += children(p)
    return out


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def pss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


class Snapshot:
    """RSS of each process of the service (parents first) and the PSS of them all, in MiB."""

    def __init__(self, pid: int) -> None:
        self.rss: list[float] = []
        pss = 0
        for p in process_tree(pid):
            try:
                self.rss.append(status_kib(p, "VmRSS") / 1024)
                pss += pss_kib(p)
            except OSError:
                continue
        self.pss = pss / 1024

    def cells(self) -> str:
        each = " + ".join(f"{r:.1f}" for r in self.rss)
        return f"{each:>28} {sum(self.rss):8.1f} {self.pss:8.1f}"


# -- the service -------------------------------------------------------------------------------


def write_config(directory: str, workers: int | None, body_len_limit: int) -> str:
    core = [f"body_len_limit = {body_len_limit}", f"buffer_size_limit = {body_len_limit}"]
    if workers is not None:
        core.append(f"workers = {workers}")
    path = os.path.join(directory, "config.toml")
    Path(path).write_text(f"""\
[core_settings]
allow_root = true
log_level = "error"
max_connections = 256
# every request of the burst comes from this one user: let all be served at once
max_connections_per_client = 256
{chr(10).join(core)}

[listener]
listener_type = "DomainSocket"
timeout = 10000
socket_path = "{directory}/parsec.sock"

[authenticator]
auth_type = "Direct"

[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "{directory}/kim.sqlite3"

[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "sqlite-manager"
""")
    return path


class Service:
    def __init__(self, directory: str, config: str, src: str | None) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if src:
            env["PYTHONPATH"] = src
        self.socket_path = os.path.join(directory, "parsec.sock")
        self.log_path = os.path.join(directory, "service.log")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pqparsec", "serve", "--config", config], cwd=directory,
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited: {Path(self.log_path).read_text()}")
            try:
                if exchange(self.socket_path, ping())[0] == 0:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"service did not start: {Path(self.log_path).read_text()}")

    def snapshot(self) -> Snapshot:
        return Snapshot(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# -- requests ----------------------------------------------------------------------------------

APP = "bench"


def request(opcode: int, provider: int, body: bytes) -> bytes:
    from pqparsec.protocol.header import request_header
    from pqparsec.protocol.ids import AuthType

    auth = APP.encode()
    return request_header(opcode, provider, len(body), AuthType.DIRECT, len(auth)) + body + auth


def ping() -> bytes:
    from pqparsec.protocol.opcodes import Opcode

    return request(Opcode.PING, 0, b"")


def exchange(path: str, data: bytes, timeout: float = 60.0) -> tuple[int, bytes]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(data)
        parts = []
        while chunk := s.recv(1 << 16):
            parts.append(chunk)
    resp = b"".join(parts)
    if len(resp) < HEADER_LEN:
        raise OSError(f"short response ({len(resp)} bytes)")
    return int.from_bytes(resp[32:34], "little"), resp[HEADER_LEN:]


def hash_request(size: int) -> bytes:
    from pqparsec.protocol import operations as ops
    from pqparsec.protocol.ids import ProviderId
    from pqparsec.protocol.opcodes import Opcode
    from pqparsec.protocol.psa import Hash

    body = ops.encode_request(Opcode.PSA_HASH_COMPUTE,
                              ops.PsaHashComputeRequest(Hash.SHA_256, os.urandom(size)))
    return request(Opcode.PSA_HASH_COMPUTE, ProviderId.MBED_CRYPTO, body)


def burst(path: str, connections: int, data: bytes) -> int:
    """`connections` clients at once, each sending `data`; how many were answered with
    Success. Every client sends half its request, waits until all have, then sends the rest, so
    that all the requests are in the service at the same time."""
    ok = [0] * connections
    half = threading.Barrier(connections)

    def one(i: int) -> None:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(60)
                s.connect(path)
                s.sendall(data[:len(data) // 2])
                try:
                    half.wait(30)
                except threading.BrokenBarrierError:
                    pass
                s.sendall(data[len(data) // 2:])
                resp = b""
                while chunk := s.recv(1 << 16):
                    resp += chunk
                ok[i] = len(resp) >= HEADER_LEN and resp[32:34] == b"\0\0"
        except OSError:
            pass

    threads = [threading.Thread(target=one, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(ok)


# -- keys --------------------------------------------------------------------------------------


def sign_attrs() -> object:
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

    return KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, KeyPolicy(
        UsageFlags(sign_hash=True, verify_hash=True), SignAlg(SignKind.ECDSA, Hash.SHA_256)))


def fill_store(config_path: str, n: int) -> float:
    """n ECDSA P-256 keys ("key-0" ...) written by the service's own classes; returns the rate."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from pqparsec.protocol import operations as ops
    from pqparsec.protocol.ids import AuthType
    from pqparsec.service import config as config_mod
    from pqparsec.service.identity import Identity
    from pqparsec.service.key_store import KeyStore
    from pqparsec.service.providers.base import ServiceLimits
    from pqparsec.service.providers.software import SoftwareProvider

    cfg = config_mod.load(config_path)
    pc = cfg.providers[0]
    store = KeyStore(cfg.key_manager(pc.key_info_manager).sqlite_db_path)
    # Only this connection, only while filling: no fsync per transaction.
    store._db.execute("PRAGMA synchronous=OFF")
    limits = ServiceLimits(body_len_limit=cfg.core.body_len_limit,
                           buffer_size_limit=cfg.core.buffer_size_limit,
                           allow_deprecated=cfg.core.allow_deprecated)
    provider = SoftwareProvider.from_config(pc, cfg, store, limits)
    app = Identity(AuthType.DIRECT, APP)
    attrs = sign_attrs()
    scalar = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    material = scalar.to_bytes(32, "big")
    t0 = time.perf_counter()
    for i in range(n):
        provider.psa_import_key(app, ops.PsaImportKeyRequest(f"key-{i}", attrs, material))  # type: ignore[arg-type]
    rate = n / (time.perf_counter() - t0)
    provider.close()
    store.close()
    return rate


def sign_request(key_name: str) -> bytes:
    from pqparsec.protocol import operations as ops
    from pqparsec.protocol.ids import ProviderId
    from pqparsec.protocol.opcodes import Opcode
    from pqparsec.protocol.psa import Hash, SignAlg, SignKind

    body = ops.encode_request(Opcode.PSA_SIGN_HASH, ops.PsaSignHashRequest(
        key_name, SignAlg(SignKind.ECDSA, Hash.SHA_256), os.urandom(32)))
    return request(Opcode.PSA_SIGN_HASH, ProviderId.MBED_CRYPTO, body)


def sign_latency_ms(path: str, key_name: str, n: int = 300) -> float:
    data = sign_request(key_name)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        status, _ = exchange(path, data)
        times.append(time.perf_counter() - t0)
        if status:
            raise RuntimeError(f"sign failed with status {status}")
    return statistics.median(times) * 1000


def socket_import_rate(path: str, n: int, clients: int = 4) -> float:
    from pqparsec.protocol import operations as ops
    from pqparsec.protocol.ids import ProviderId
    from pqparsec.protocol.opcodes import Opcode

    attrs = sign_attrs()
    from cryptography.hazmat.primitives.asymmetric import ec
    scalar = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    material = scalar.to_bytes(32, "big")

    def one(start: int) -> None:
        for i in range(start, n, clients):
            body = ops.encode_request(Opcode.PSA_IMPORT_KEY, ops.PsaImportKeyRequest(
                f"socket-{i}", attrs, material))  # type: ignore[arg-type]
            status, _ = exchange(path, request(Opcode.PSA_IMPORT_KEY, ProviderId.MBED_CRYPTO, body))
            if status:
                raise RuntimeError(f"import failed with status {status}")

    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return n / (time.perf_counter() - t0)


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=None,
                    help="core_settings.workers (default: not written, the service's default)")
    ap.add_argument("--burst", type=int, default=200, help="concurrent large requests")
    ap.add_argument("--body", type=int, default=1 << 20, help="bytes of input per request")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds after the burst")
    ap.add_argument("--keys", type=int, default=100_000, help="keys stored for the last step")
    ap.add_argument("--socket-keys", type=int, default=500,
                    help="keys imported through the socket to measure that rate")
    ap.add_argument("--src", default=None, help="run the service from this source tree")
    args = ap.parse_args()

    rows: list[tuple[str, str]] = []
    notes: list[str] = []
    tmp = tempfile.mkdtemp(prefix="pqp-bench-mem-")
    try:
        d1 = os.path.join(tmp, "burst")
        os.makedirs(d1)
        limit = args.body + 4096
        svc = Service(d1, write_config(d1, args.workers, limit), args.src)
        try:
            time.sleep(1.0)
            idle = svc.snapshot()
            rows.append(("idle, after one ping", idle.cells()))
            data = hash_request(args.body)
            t0 = time.perf_counter()
            answered = burst(svc.socket_path, args.burst, data)
            took = time.perf_counter() - t0
            after = svc.snapshot()
            rows.append((f"after {args.burst} x {args.body >> 10} KiB bodies", after.cells()))
            time.sleep(args.settle)
            settled = svc.snapshot()
            rows.append((f"  and {args.settle:g} s later", settled.cells()))
            notes.append(f"burst: {answered}/{args.burst} answered Success in {took:.1f} s; "
                         f"total RSS after settling is {sum(settled.rss) - sum(idle.rss):+.1f} "
                         "MiB from idle")
            rate = socket_import_rate(svc.socket_path, args.socket_keys)
            notes.append(f"key creation through the socket (PsaImportKey, ECC P-256, 4 clients):"
                         f" {rate:.0f} keys/s over {args.socket_keys} keys")
        finally:
            svc.stop()

        d2 = os.path.join(tmp, "keys")
        os.makedirs(d2)
        config = write_config(d2, args.workers, limit)
        fill_rate = fill_store(config, args.keys)
        notes.append(f"{args.keys} keys written into the store before start at "
                     f"{fill_rate:.0f} keys/s (service classes, no fsync)")
        svc = Service(d2, config, args.src)
        try:
            time.sleep(1.0)
            rows.append((f"{args.keys} keys stored, idle", svc.snapshot().cells()))
            sign_latency_ms(svc.socket_path, f"key-{args.keys // 2}", n=100)
            rows.append(("  after 100 signatures with one", svc.snapshot().cells()))
        finally:
            svc.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    workers = "service default" if args.workers is None else str(args.workers)
    print(f"pqparsec serve memory, software provider, workers: {workers} (MiB)")
    print(f"{'':36} {'RSS per process':>28} {'RSS sum':>8} {'PSS sum':>8}")
    for label, cells in rows:
        print(f"{label:36} {cells}")
    for note in notes:
        print(f"  {note}")


if __name__ == "__main__":
    main()
