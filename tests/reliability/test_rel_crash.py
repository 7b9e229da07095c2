"""kill -9 in the middle of key creation: every acknowledged key survives and works, nothing
half-made blocks a name, and no key appears that nobody asked for."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pqptest.psa import ecc_p256_sign_attrs, rsa_sign_attrs
from pqptest.service import ServiceProcess

from pqparsec.client import BasicClient
from pqparsec.client.errors import ParsecClientError, ServiceError
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus as S

APPS = ("crash-a", "crash-b")
THREADS_PER_APP = 2
ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
PKCS1 = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
DIGEST = hashlib.sha256(b"after the crash").digest()


@dataclass
class Ledger:
    attempted: dict[tuple[str, str], str] = field(default_factory=dict)  # (app, name) -> "rsa"/"ecc"
    acked: set[tuple[str, str]] = field(default_factory=set)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def generator(svc: ServiceProcess, app: str, tag: str, ledger: Ledger, killed: threading.Event) -> None:
    client = svc.client(app, timeout=30.0)
    n = 0
    while True:
        kind = "rsa" if n % 3 == 0 else "ecc"
        name = f"{tag}-{n}-{kind}"
        n += 1
        with ledger.lock:
            ledger.attempted[(app, name)] = kind
        try:
            client.generate_key(name, rsa_sign_attrs(2048) if kind == "rsa" else ecc_p256_sign_attrs())
        except ParsecClientError as exc:
            if not killed.is_set():
                ledger.unexpected.append(f"{app}/{name}: {exc!r}")
            return
        with ledger.lock:
            ledger.acked.add((app, name))
        if killed.is_set():
            return


def check_usable(client: BasicClient, name: str, kind: str) -> None:
    pub = client.export_public_key(name)
    if kind == "ecc":
        sig = client.sign_hash(name, ECDSA, DIGEST)
        client.verify_hash(name, ECDSA, DIGEST, sig)
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub).verify(
            der, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))
    else:
        sig = client.sign_hash(name, PKCS1, DIGEST)
        client.verify_hash(name, PKCS1, DIGEST, sig)
        pem = b"-----BEGIN RSA PUBLIC KEY-----\n" + base64.encodebytes(pub) + \
            b"-----END RSA PUBLIC KEY-----\n"  # PSA exports RSA public keys as PKCS#1 DER
        key = serialization.load_pem_public_key(pem)
        assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048
        key.verify(sig, DIGEST, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


def one_round(svc: ServiceProcess, ledger: Ledger, round_no: int, rng: random.Random) -> int:
    killed = threading.Event()
    threads = [threading.Thread(target=generator, args=(svc, app, f"r{round_no}t{t}", ledger, killed))
               for app in APPS for t in range(THREADS_PER_APP)]
    before = len(ledger.acked)
    for t in threads:
        t.start()
    # let a good number of keys through, then kill at a random moment mid-stream
    deadline = time.monotonic() + 30
    while len(ledger.acked) - before < 12 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(rng.uniform(0.05, 0.4))
    assert svc.proc is not None
    killed.set()
    svc.kill()  # SIGKILL
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert not ledger.unexpected, ledger.unexpected[:5]
    return len(ledger.acked) - before


def test_kill_9_during_key_creation(tmp_path: Path) -> None:
    rng = random.Random(os.getpid())
    svc = ServiceProcess(str(tmp_path), auth_type="Direct", admins=["admin"],
                         core={"log_level": "info"})
    ledger = Ledger()
    svc.start()
    stats = {"acked": 0, "unacked_committed": 0, "unacked_free": 0}
    try:
        for round_no in range(2):
            made = one_round(svc, ledger, round_no, rng)
            assert made >= 12
            assert os.path.exists(svc.socket_path)  # left behind by the kill: must be replaced
            svc.start()

            for app in APPS:
                client = svc.client(app)
                listed = {k.name for k in client.list_keys()}
                acked = {name for (a, name) in ledger.acked if a == app}
                attempted = {name for (a, name) in ledger.attempted if a == app}
                assert acked <= listed, f"acknowledged keys lost: {sorted(acked - listed)}"
                assert listed <= attempted, f"keys nobody created: {sorted(listed - attempted)}"
                for name in sorted(listed):
                    check_usable(client, name, ledger.attempted[(app, name)])
                # the names whose creation was never acknowledged are not blocked: either the key
                # was committed (AlreadyExists, and it works) or the name is free
                for name in sorted(attempted - acked):
                    kind = ledger.attempted[(app, name)]
                    try:
                        client.generate_key(name, rsa_sign_attrs(2048) if kind == "rsa"
                                            else ecc_p256_sign_attrs())
                    except ServiceError as exc:
                        assert exc.status == S.PSA_ERROR_ALREADY_EXISTS, exc
                        assert name in listed
                        stats["unacked_committed"] += 1
                    else:
                        assert name not in listed
                        stats["unacked_free"] += 1
                    check_usable(client, name, kind)
                    ledger.acked.add((app, name))

        db = sqlite3.connect(f"file:{tmp_path / 'kim.sqlite3'}?mode=ro", uri=True)
        try:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = db.execute("SELECT application_name, key_name FROM key_mapping").fetchall()
        finally:
            db.close()
        assert set(rows) == ledger.acked
        stats["acked"] = len(ledger.acked)
        print(f"kill -9 rounds: {stats}")
        assert "Traceback" not in svc.log()
    finally:
        svc.stop()
