"""Crypto throughput through the service beside the same operation in-process.

ECDSA P-256 sign and verify of a SHA-256 digest (PsaSignHash / PsaVerifyHash), AES-256-GCM
encryption of 1 KiB (PsaAeadEncrypt), and the post-quantum rows: ML-KEM-768 encapsulate /
decapsulate (PsaEncapsulate / PsaDecapsulate, extension opcodes 0x0100 / 0x0101) and pure ML-DSA-65
sign / verify of a 32-byte message (PsaSignMessage / PsaVerifyMessage), with 1 and 8 concurrent
client processes, each request on a new connection. The in-process figure is `cryptography` on
one core in this process, with the key already loaded: the ceiling a single-threaded caller
could reach without any service.
The service runs twice, with `workers = 1` and `workers = <CPUs>`, each row measured on both.
Targets (issue 13): with 8 clients the service's ECDSA P-256 sign rate is at least 35% of the
in-process rate, aiming at 50%.

Run alone: .venv/bin/python benchmarks/bench_crypto.py [--quick]
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from benchlib import (
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
)

APP = "bench"
SIGN_TARGET = 0.35  # the least: ECDSA P-256 sign at 8 clients as a share of in-process
SIGN_AIM = 0.5  # what issue 13 aims at
PAYLOAD = 1024
MESSAGE = hashlib.sha256(b"pqparsec ML-DSA benchmark").digest()  # 32 bytes, signed as a message


@dataclass
class CryptoRow:
    name: str
    in_process: float  # ops/s
    service: dict[int, dict[int, Measurement]] = field(default_factory=dict)  # workers, clients
    unavailable: str | None = None  # why the service row could not be measured


def _in_process_rate(op: Callable[[], object], duration: float) -> float:
    """Operations per second of `op` on this thread (one core)."""
    op()
    n = 0
    start = time.perf_counter()
    end = start + duration
    now = start
    while now < end:
        for _ in range(20):
            op()
        n += 20
        now = time.perf_counter()
    return n / (now - start)


def in_process_ops() -> dict[str, Callable[[], object]]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, mldsa, mlkem
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = ec.generate_private_key(ec.SECP256R1())
    pub = key.public_key()
    digest = hashlib.sha256(b"pqparsec benchmark").digest()
    alg = ec.ECDSA(Prehashed(hashes.SHA256()))
    sig = key.sign(digest, alg)
    aead = AESGCM(AESGCM.generate_key(256))
    nonce = os.urandom(12)
    plaintext = os.urandom(PAYLOAD)
    kem = mlkem.MLKEM768PrivateKey.generate()
    kem_pub = kem.public_key()
    _, kem_ct = kem_pub.encapsulate()
    dsa = mldsa.MLDSA65PrivateKey.generate()
    dsa_pub = dsa.public_key()
    dsa_sig = dsa.sign(MESSAGE)
    return {
        "sign": lambda: key.sign(digest, alg),
        "verify": lambda: pub.verify(sig, digest, alg),
        "aead": lambda: aead.encrypt(nonce, plaintext, b""),
        "mlkem-encaps": kem_pub.encapsulate,
        "mlkem-decaps": lambda: kem.decapsulate(kem_ct),
        "mldsa-sign": lambda: dsa.sign(MESSAGE),
        "mldsa-verify": lambda: dsa_pub.verify(dsa_sig, MESSAGE),
    }


def _status_name(status: int) -> str:
    from pqparsec.protocol.status import ResponseStatus

    try:
        return ResponseStatus(status).parsec_name
    except ValueError:
        return str(status)


def service_requests(service: Service) -> tuple[dict[str, bytes], dict[str, str]]:
    """Create the keys and build each request once. Returns the requests, and for operations
    the service cannot do, why."""
    from pqparsec.client import BasicClient, ServiceError
    from pqparsec.protocol import operations as ops
    from pqparsec.protocol.ids import AuthType, ProviderId
    from pqparsec.protocol.opcodes import Opcode
    from pqparsec.protocol.psa import (
        AeadAlg,
        AeadKind,
        EccFamily,
        Hash,
        KemAlg,
        KemKind,
        KeyAttributes,
        KeyKind,
        KeyPolicy,
        KeyType,
        SignAlg,
        SignKind,
        UsageFlags,
    )

    client = BasicClient(app_name=APP, endpoint=service.endpoint, timeout=30,
                         provider=ProviderId.MBED_CRYPTO, auth_type=AuthType.DIRECT)
    path = service.socket_path

    def request(opcode: Opcode, req: object) -> bytes:
        return raw_request(int(opcode), int(ProviderId.MBED_CRYPTO),
                           ops.encode_request(opcode, req), int(AuthType.DIRECT), APP.encode())

    requests: dict[str, bytes] = {}
    unavailable: dict[str, str] = {}

    sign_alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    client.generate_key("ecc-p256", KeyAttributes(
        KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
        KeyPolicy(UsageFlags(sign_hash=True, verify_hash=True), sign_alg)))
    digest = hashlib.sha256(b"pqparsec benchmark").digest()
    requests["sign"] = request(Opcode.PSA_SIGN_HASH, ops.PsaSignHashRequest("ecc-p256", sign_alg,
                                                                            digest))
    status, body = send_once(path, requests["sign"])
    if status != 0:
        raise RuntimeError(f"PsaSignHash failed: {_status_name(status)}")
    signature = ops.decode_result(Opcode.PSA_SIGN_HASH, body).signature
    requests["verify"] = request(Opcode.PSA_VERIFY_HASH, ops.PsaVerifyHashRequest(
        "ecc-p256", sign_alg, digest, signature))

    gcm = AeadAlg(AeadKind.GCM)
    aead_request = request(Opcode.PSA_AEAD_ENCRYPT, ops.PsaAeadEncryptRequest(
        "aes-256", gcm, os.urandom(12), b"", os.urandom(PAYLOAD)))
    try:
        client.generate_key("aes-256", KeyAttributes(
            KeyType.simple(KeyKind.AES), 256,
            KeyPolicy(UsageFlags(encrypt=True, decrypt=True), gcm)))
    except ServiceError as exc:
        unavailable["aead"] = f"n/a (AES key: {exc.status.parsec_name})"
    else:
        status, _ = send_once(path, aead_request)
        if status == 1134:  # PsaErrorNotSupported
            unavailable["aead"] = "n/a (not supported)"
        elif status != 0:
            unavailable["aead"] = f"n/a ({_status_name(status)})"
        else:
            requests["aead"] = aead_request

    # Post-quantum: ML-KEM-768 and pure (hedged) ML-DSA-65, extension operations.
    try:
        client.generate_key("mlkem-768", KeyAttributes(
            KeyType(KeyKind.ML_KEM_KEY_PAIR), 768,
            KeyPolicy(UsageFlags(encrypt=True, decrypt=True), KemAlg(KemKind.ML_KEM))))
        ct, _ = client.encapsulate("mlkem-768", KemKind.ML_KEM)
        requests["mlkem-encaps"] = request(Opcode.PSA_ENCAPSULATE, ops.PsaEncapsulateRequest(
            "mlkem-768", KemKind.ML_KEM))
        requests["mlkem-decaps"] = request(Opcode.PSA_DECAPSULATE, ops.PsaDecapsulateRequest(
            "mlkem-768", KemKind.ML_KEM, ct))
    except ServiceError as exc:
        for name in ("mlkem-encaps", "mlkem-decaps"):
            unavailable[name] = f"n/a (ML-KEM: {exc.status.parsec_name})"
    ml_dsa = SignAlg(SignKind.ML_DSA)
    try:
        client.generate_key("mldsa-65", KeyAttributes(
            KeyType(KeyKind.ML_DSA_KEY_PAIR), 192,
            KeyPolicy(UsageFlags(sign_message=True, verify_message=True), ml_dsa)))
        dsa_sig = client.sign_message("mldsa-65", ml_dsa, MESSAGE)
        requests["mldsa-sign"] = request(Opcode.PSA_SIGN_MESSAGE, ops.PsaSignMessageRequest(
            "mldsa-65", ml_dsa, MESSAGE))
        requests["mldsa-verify"] = request(Opcode.PSA_VERIFY_MESSAGE, ops.PsaVerifyMessageRequest(
            "mldsa-65", ml_dsa, MESSAGE, dsa_sig))
    except ServiceError as exc:
        for name in ("mldsa-sign", "mldsa-verify"):
            unavailable[name] = f"n/a (ML-DSA: {exc.status.parsec_name})"
    for name, req in requests.items():
        status, _ = send_once(path, req)
        if status != 0:
            raise RuntimeError(f"{name}: the prepared request fails: {_status_name(status)}")
    return requests, unavailable


LABELS = {
    "sign": "ECDSA P-256 sign (PsaSignHash)",
    "verify": "ECDSA P-256 verify (PsaVerifyHash)",
    "aead": "AES-256-GCM encrypt 1 KiB (PsaAeadEncrypt)",
    "mlkem-encaps": "ML-KEM-768 encapsulate (PsaEncapsulate)",
    "mlkem-decaps": "ML-KEM-768 decapsulate (PsaDecapsulate)",
    "mldsa-sign": "ML-DSA-65 sign 32 B (PsaSignMessage)",
    "mldsa-verify": "ML-DSA-65 verify 32 B (PsaVerifyMessage)",
}


def measure_ceiling(bench: Bench) -> dict[str, Measurement]:
    """With the most clients, best of the rounds: the zero-work C server (what the clients can
    drive) and the sign-only threaded Python server (the most a CPython service could do)."""
    n = max(bench.settings.concurrency)
    out = {}
    servers = {"sign-only": bench.sign_only.path}
    if bench.ideal.available:
        servers["ideal"] = bench.ideal.path
    for name, path in servers.items():
        out[name] = best([bench.pool.run(n, path, bytes(36), bench.settings.duration,
                                         check_status=False)
                          for _ in range(bench.settings.rounds)])
    return out


def measure(bench: Bench) -> list[CryptoRow]:
    """Each row: the in-process rate before and after the row's service cells (the higher is
    kept: other work on the machine only ever lowers it), and the service cells. The ECDSA sign
    row, which the targets are judged on, has its cells repeated in interleaved rounds (the
    best of each is kept, as for Ping); the other rows have one round."""
    s = bench.settings
    local = in_process_ops()
    prepared = {w: service_requests(service) for w, service in bench.services.items()}
    rows = []
    for name in LABELS:  # ECDSA sign first: `report` checks the target on rows[0]
        row = CryptoRow(LABELS[name], _in_process_rate(local[name], s.duration))
        runs: dict[tuple[int, int], list[Measurement]] = {}
        for _ in range(s.rounds if name == "sign" else 1):
            for w, service in bench.services.items():
                requests, unavailable = prepared[w]
                if name in unavailable:
                    row.unavailable = unavailable[name]
                    continue
                for n in s.concurrency:
                    runs.setdefault((w, n), []).append(bench.pool.run(
                        n, service.socket_path, requests[name], s.duration,
                        server_pid=service.pid))
        for (w, n), ms in runs.items():
            row.service.setdefault(w, {})[n] = best(ms)
        row.in_process = max(row.in_process, _in_process_rate(local[name], s.duration))
        rows.append(row)
    return rows


def sign_target_line(label: str, rate: float, in_process: float, clients: int) -> str:
    share = rate / in_process
    verdict = ("met, and the aim" if share >= SIGN_AIM else "met" if share >= SIGN_TARGET
               else "NOT met")
    return (f"Target: {label} with {clients} clients >= {SIGN_TARGET:.0%} of in-process "
            f"(aim {SIGN_AIM:.0%}): {share:.1%} -> {verdict}")


def report(rows: list[CryptoRow], bench: Bench, baseline: Measurement | None = None,
           ceilings: dict[str, Measurement] | None = None) -> str:
    """The table; `baseline` (the bare server at the highest concurrency) puts the sign target in
    scale: no service that takes one connection per request can beat it on this machine."""
    s = bench.settings
    top = max(s.concurrency)
    headers = ["operation", "workers", "in-process 1 core ops/s"]
    for n in s.concurrency:
        headers += [f"service {n}c ops/s", f"{n}c / in-process", f"{n}c p50 ms", f"{n}c p99 ms"]
    headers += [f"server CPU us/op ({top}c)"]
    table_rows = []
    for r in rows:
        for w in bench.services:
            cells = [r.name, str(w), fmt_rate(r.in_process)]
            ms = r.service.get(w, {})
            for n in s.concurrency:
                m = ms.get(n)
                if m is None:
                    cells += [r.unavailable or "n/a", "-", "-", "-"]
                else:
                    cells += [fmt_rate(m.rate), f"{m.rate / r.in_process:.1%}", fmt_ms(m.p50_ms),
                              fmt_ms(m.p99_ms)]
            last = ms.get(top)
            cells.append(fmt_opt(last.server_cpu_us_per_req if last else None))
            table_rows.append(cells)
    failures = sum(m.failed for r in rows for ms in r.service.values() for m in ms.values())
    out = [
        "Crypto through the service (new connection per request; client processes) beside "
        f"`cryptography` in-process on one core ({s.duration:g} s per cell; ECDSA sign best of "
        f"{s.rounds} interleaved round(s); in-process: the better of a cell before and one after "
        "the row's; server CPU = the service's supervisor + workers)",
        table(headers, table_rows),
    ]
    if failures:
        out.append(f"WARNING: {failures} requests failed during the measurements")
    sign = rows[0]
    for w in bench.services:
        if top in sign.service.get(w, {}):
            out.append(sign_target_line(f"ECDSA P-256 sign, workers={w},",
                                         sign.service[w][top].rate, sign.in_process, top))
    ws = sorted(w for w in bench.services if top in sign.service.get(w, {}))
    if len(ws) > 1:
        lo, hi = sign.service[ws[0]][top], sign.service[ws[-1]][top]
        out.append(f"Scaling: ECDSA P-256 sign, {top} clients, workers={ws[-1]} / workers={ws[0]}: "
                   f"{div(hi.rate, lo.rate):.2f}x")
    if top in sign.service.get(max(bench.services), {}):
        rate = sign.service[max(bench.services)][top].rate
        if baseline is not None:
            out.append(f"For scale: the bare asyncio baseline (connect, answer, no work at all) did "
                       f"{fmt_rate(baseline.rate)} req/s with {baseline.clients} clients, "
                       f"{baseline.rate / sign.in_process:.1%} of the in-process sign rate: the most "
                       "a single-process Python asyncio server that takes one connection per "
                       "request reaches here.")
        ceilings = ceilings or {}
        if "ideal" in ceilings:
            c = ceilings["ideal"]
            out.append(f"Clients' ceiling: a zero-work C server (accept, read, write 38 bytes, "
                       f"close) did {fmt_rate(c.rate)} req/s with {c.clients} clients, "
                       f"{c.rate / sign.in_process:.1%} of the in-process sign rate: what the "
                       "client processes can drive on this machine.")
        elif bench.ideal.why_not:
            out.append(f"Clients' ceiling: not measured: {bench.ideal.why_not}")
        if "sign-only" in ceilings:
            c = ceilings["sign-only"]
            out.append(f"One-process CPython ceiling: a threaded Python server that only reads the "
                       f"header, signs (ECDSA P-256, key loaded) and answers did "
                       f"{fmt_rate(c.rate)} req/s with {c.clients} clients, "
                       f"{c.rate / sign.in_process:.1%} of the in-process sign rate (the service "
                       f"with the most workers: {div(rate, c.rate):.2f}x of it).")
    return "\n".join(out)


def main() -> None:
    from benchlib import FULL, QUICK, machine_summary

    settings = QUICK if "--quick" in sys.argv[1:] else FULL
    print(machine_summary())
    with Bench(settings) as bench:
        print()
        print(report(measure(bench), bench, ceilings=measure_ceiling(bench)))


if __name__ == "__main__":
    main()
