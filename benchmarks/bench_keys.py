"""A large key store: ECDSA P-256 sign latency with 100 keys stored against 100,000, the
key-creation rate, and the service's memory.

Two software-provider services, alike but for their key stores (`workers` = CPUs, the default),
run side by side: one holds 100 keys, the other 100,000. In each, the key that is signed with
is created through the service (PsaGenerateKey); the others are written into the store before
the service starts, in one transaction, because creating 100,000 keys through the service takes
minutes. Each of those is a real key as the service stores it: its own P-256 key pair, wrapped
with the service's key-encryption key (AES-256-GCM, bound to its owner, name and attributes)
exactly as the software provider does, under 100 keys per owner (Direct authenticator,
applications bulk-app-0000, ...); one of them is signed with through the service as a check.

Figures: sign latency with one client (p50, p99; cells interleaved between the two services,
best round by rate), the ratio 100,000 / 100 (target: within 10%), the time from spawn to READY=1
(the service's start-up reads the store), PsaGenerateKey (ECC P-256) with
the most clients as keys/s, and the RSS and PSS summed over the service's processes.

Run alone: .venv/bin/python benchmarks/bench_keys.py [--quick]
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench_crypto import _status_name
from benchlib import (
    UNIQUE_NAME,
    Bench,
    Measurement,
    Service,
    best,
    div,
    fmt_ms,
    fmt_opt,
    fmt_rate,
    raw_request,
    send_once,
    table,
    tree_memory_kib,
)

if TYPE_CHECKING:
    from pqparsec.protocol.psa import KeyAttributes

APP = "bench"
SIGN_KEY = "ecc-p256"
DIGEST = hashlib.sha256(b"pqparsec benchmark").digest()
SIZES = (100, 100_000)
PER_OWNER = 100
LATENCY_TARGET = 1.10  # p50 with the most keys at most this many times the p50 with the fewest


def ecc_attributes() -> KeyAttributes:
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

    return KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
                         KeyPolicy(UsageFlags(sign_hash=True, verify_hash=True),
                                   SignAlg(SignKind.ECDSA, Hash.SHA_256)))


def generate_request(provider_id: int, key_name: str = UNIQUE_NAME, app: str = APP) -> bytes:
    """PsaGenerateKey of an ECC P-256 signing key (by default named UNIQUE_NAME, for
    ClientPool.run(unique_names=True))."""
    from pqparsec.protocol import operations as ops
    from pqparsec.protocol.ids import AuthType
    from pqparsec.protocol.opcodes import Opcode

    body = ops.encode_request(Opcode.PSA_GENERATE_KEY,
                              ops.PsaGenerateKeyRequest(key_name, ecc_attributes()))
    return raw_request(int(Opcode.PSA_GENERATE_KEY), provider_id, body, int(AuthType.DIRECT),
                       app.encode())


def sign_request(provider_id: int, key_name: str = SIGN_KEY, app: str = APP) -> bytes:
    from pqparsec.protocol import operations as ops
    from pqparsec.protocol.ids import AuthType
    from pqparsec.protocol.opcodes import Opcode
    from pqparsec.protocol.psa import Hash, SignAlg, SignKind

    req = ops.PsaSignHashRequest(key_name, SignAlg(SignKind.ECDSA, Hash.SHA_256), DIGEST)
    return raw_request(int(Opcode.PSA_SIGN_HASH), provider_id,
                       ops.encode_request(Opcode.PSA_SIGN_HASH, req), int(AuthType.DIRECT),
                       app.encode())


def bulk_owner(i: int) -> tuple[str, str]:
    """(application, key name) of the i-th key written by fill_store."""
    return f"bulk-app-{i // PER_OWNER:04d}", f"bulk-key-{i % PER_OWNER:02d}"


def fill_store(db_path: str, count: int) -> None:
    """Write `count` software-provider ECC P-256 keys into the key store at db_path (the
    service not running), in one transaction, each wrapped as the provider wraps its keys."""
    from pqparsec.protocol.ids import DEFAULT_PROVIDER_NAMES, AuthType, ProviderId
    from pqparsec.protocol.psa.convert import attributes_to_bytes
    from pqparsec.service.identity import Identity
    from pqparsec.service.key_store import KeyStore
    from pqparsec.service.providers.software import keys
    from pqparsec.service.providers.software.wrap import KeyWrapper, load_or_create_kek

    KeyStore(db_path).close()  # the schema, as the service creates it
    provider = ProviderId.MBED_CRYPTO
    name = DEFAULT_PROVIDER_NAMES[provider]
    wrapper = KeyWrapper(load_or_create_kek(os.path.join(os.path.dirname(db_path),
                                                         "software-provider.kek")), name)
    attrs = ecc_attributes()
    attrs_blob = attributes_to_bytes(attrs)

    def rows() -> Iterator[tuple[int, str, str, int, str, bytes, bytes]]:
        for i in range(count):
            app, key_name = bulk_owner(i)
            owner = Identity(AuthType.DIRECT, app)
            material = keys.generate(attrs)
            yield (int(AuthType.DIRECT), app, key_name, int(provider), name,
                   wrapper.wrap(owner, key_name, attrs, material), attrs_blob)

    db = sqlite3.connect(db_path, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO key_mapping (authenticator_id, application_name, key_name, "
                       "provider_id, provider_name, key_id, key_attributes) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", rows())
        db.execute("COMMIT")
    finally:
        db.close()


@dataclass
class StoreFigures:
    keys: int
    fill_s: float = 0.0  # writing the keys before the service starts
    start_s: float = 0.0  # spawn to READY=1
    sign: list[Measurement] = field(default_factory=list)  # 1 client, one per round
    create: Measurement | None = None  # PsaGenerateKey, the most clients
    memory: tuple[int, int, int] = (0, 0, 0)  # processes, RSS KiB, PSS KiB (after the signs)
    memory_after_create: tuple[int, int, int] = (0, 0, 0)


def _check(status: int, what: str) -> None:
    if status != 0:
        raise RuntimeError(f"{what}: {_status_name(status)}")


def measure(bench: Bench) -> list[StoreFigures]:
    from pqparsec.protocol.ids import ProviderId

    s = bench.settings
    pid = int(ProviderId.MBED_CRYPTO)
    workers = max(bench.services)
    figs: list[StoreFigures] = []
    services: list[Service] = []
    try:
        for size in SIZES:
            fig = StoreFigures(size)
            figs.append(fig)

            def fill(db_path: str, fig: StoreFigures = fig) -> None:
                t0 = time.perf_counter()
                fill_store(db_path, fig.keys - 1)
                fig.fill_s = time.perf_counter() - t0

            # A large store can take long to start (it is read at start-up, by every worker).
            service = Service(os.path.join(bench.dir, f"keys-{size}"), workers=workers,
                              before_start=fill, ready_timeout=60.0 + size / 500)
            fig.start_s = service.ready_s
            services.append(service)
            _check(send_once(service.socket_path, generate_request(pid, SIGN_KEY))[0],
                   "PsaGenerateKey")
            _check(send_once(service.socket_path, sign_request(pid))[0], "PsaSignHash")
            app, name = bulk_owner(fig.keys - 2)
            _check(send_once(service.socket_path, sign_request(pid, name, app))[0],
                   f"PsaSignHash with the pre-written key {app}/{name}")
        request = sign_request(pid)
        for _ in range(s.rounds):  # interleaved, so a disturbance hits both alike
            for fig, service in zip(figs, services, strict=True):
                fig.sign.append(bench.pool.run(1, service.socket_path, request, s.duration,
                                               server_pid=service.pid))
        top = max(s.concurrency)
        for fig, service in zip(figs, services, strict=True):
            fig.memory = tree_memory_kib(service.pid)
            fig.create = bench.pool.run(top, service.socket_path, generate_request(pid),
                                        s.duration, server_pid=service.pid, unique_names=True)
            fig.memory_after_create = tree_memory_kib(service.pid)
    finally:
        for service in services:
            service.stop()
    return figs


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def report(figs: list[StoreFigures], bench: Bench) -> str:
    s = bench.settings
    top = max(s.concurrency)
    workers = max(bench.services)
    rows = []
    for f in figs:
        m = best(f.sign)
        c = f.create
        rows.append([f"{f.keys:,}", f"{f.fill_s:.1f}", f"{f.start_s:.2f}", fmt_rate(m.rate),
                     fmt_ms(m.p50_ms), fmt_ms(m.p99_ms), fmt_opt(m.server_cpu_us_per_req),
                     fmt_rate(c.rate) if c else "-", fmt_ms(c.p50_ms) if c else "-",
                     str(f.memory[0]), _mib(f.memory[1]), _mib(f.memory[2]),
                     _mib(f.memory_after_create[1])])
    out = [
        f"Key store size (software provider, workers={workers}; {s.duration:g} s per cell, sign "
        f"cells best of {s.rounds} interleaved round(s); all keys but the signing one written "
        "before start, see bench_keys.py)",
        table(["keys stored", "fill s", "spawn to READY s", "sign 1c ops/s", "p50 ms", "p99 ms",
               "server CPU us/op", f"create {top}c keys/s", "create p50 ms", "processes",
               "RSS MiB", "PSS MiB", "RSS after create MiB"], rows),
    ]
    failures = sum(m.failed for f in figs for m in [*f.sign, *([f.create] if f.create else [])])
    if failures:
        out.append(f"WARNING: {failures} requests failed during the measurements")
    if len(figs) == 2:
        a, b = best(figs[0].sign), best(figs[1].sign)
        p50, p99 = b.p50_ms / a.p50_ms, b.p99_ms / a.p99_ms
        out.append(f"Sign latency, {figs[1].keys:,} keys / {figs[0].keys:,} keys, 1 client: "
                   f"p50 {p50:.2f}x, p99 {p99:.2f}x, rate {div(b.rate, a.rate):.2f}x (target: p50 "
                   f"within {LATENCY_TARGET - 1:.0%}) -> "
                   f"{'met' if p50 <= LATENCY_TARGET else 'NOT met'}")
        ca, cb = figs[0].create, figs[1].create
        if ca and cb:
            out.append(f"Key creation, {figs[1].keys:,} / {figs[0].keys:,} keys stored, {top} "
                       f"clients: {div(cb.rate, ca.rate):.2f}x")
    out.append("(RSS sums each process's resident set, so pages the workers share count once "
               "per worker; PSS shares them out: the sum is the service's real footprint)")
    return "\n".join(out)


def main() -> None:
    from benchlib import FULL, QUICK, machine_summary

    settings = QUICK if "--quick" in sys.argv[1:] else FULL
    print(machine_summary())
    with Bench(settings) as bench:
        print()
        print(report(measure(bench), bench))


if __name__ == "__main__":
    main()
