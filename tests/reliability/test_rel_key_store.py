"""The key store at rest: file modes, schema version, key material never in clear, and a wrapped
key bound to its owner and name (a row copied in the SQLite file does not hand the key over)."""

from __future__ import annotations

import glob
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pqptest.psa import ecc_p256_sign_attrs, rsa_sign_attrs
from pqptest.service import ServiceProcess, run_serve

from pqparsec.client.errors import ServiceError
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus as S

ALG = SignAlg(SignKind.ECDSA, Hash.SHA_256)
DIGEST = hashlib.sha256(b"at rest").digest()
# What a key that fails its integrity check may answer: never success, never the key.
CORRUPT = {S.PSA_ERROR_DATA_CORRUPT, S.PSA_ERROR_CORRUPTION_DETECTED, S.PSA_ERROR_DATA_INVALID}


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[ServiceProcess]:
    s = ServiceProcess(str(tmp_path), auth_type="Direct", admins=["admin"],
                       core={"log_level": "info"})
    s.start()
    yield s
    s.stop()


def db_path(svc: ServiceProcess) -> str:
    return os.path.join(svc.tmp, "kim.sqlite3")


def kek_path(svc: ServiceProcess) -> str:
    return os.path.join(svc.tmp, "software-provider.kek")


def status(fn: Callable[[], Any]) -> int:
    with pytest.raises(ServiceError) as e:
        fn()
    return int(e.value.status)


def mode(path: str) -> int:
    return os.stat(path).st_mode & 0o777


def test_file_modes_and_schema_version(svc: ServiceProcess) -> None:
    svc.client("alice").generate_key("k", ecc_p256_sign_attrs())
    assert mode(db_path(svc)) == 0o600
    assert mode(kek_path(svc)) == 0o600
    assert os.path.getsize(kek_path(svc)) == 32
    for extra in glob.glob(db_path(svc) + "-*"):  # WAL and shared-memory files
        assert mode(extra) & 0o077 == 0, (extra, oct(mode(extra)))
    db = sqlite3.connect(f"file:{db_path(svc)}?mode=ro", uri=True)
    try:
        assert db.execute("SELECT int_value FROM kim_metadata WHERE id='schema_version'").fetchone() \
            == (1,)
        assert db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
        rows = db.execute("SELECT authenticator_id, application_name, key_name, provider_name "
                          "FROM key_mapping").fetchall()
    finally:
        db.close()
    assert rows == [(1, "alice", "k", "mbed-crypto-provider")]


def test_key_material_is_not_stored_in_clear(svc: ServiceProcess) -> None:
    c = svc.client("alice")
    c.generate_key("exportable", ecc_p256_sign_attrs(export=True))
    secret = c.export_key("exportable")
    assert len(secret) == 32
    assert svc.stop() == 0  # checkpoints the WAL into the main file
    blobs = b"".join(Path(p).read_bytes() for p in glob.glob(db_path(svc) + "*"))
    assert blobs and secret not in blobs


@pytest.fixture
def copied(svc: ServiceProcess) -> dict[str, Any]:
    """alice's keys, then (service stopped) her rows copied to mallory and to a new name."""
    alice = svc.client("alice")
    alice.generate_key("k", ecc_p256_sign_attrs(export=True))
    alice.generate_key("r", rsa_sign_attrs(2048))
    pub = alice.export_public_key("k")
    secret = alice.export_key("k")
    assert svc.stop() == 0
    db = sqlite3.connect(db_path(svc))
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(key_mapping)")]
        rest = ", ".join(c for c in cols if c not in ("application_name", "key_name"))
        with db:
            for key in ("k", "r"):
                db.execute(f"INSERT INTO key_mapping (application_name, key_name, {rest}) "
                           f"SELECT 'mallory', key_name, {rest} FROM key_mapping "
                           "WHERE application_name='alice' AND key_name=?", (key,))
            db.execute(f"INSERT INTO key_mapping (application_name, key_name, {rest}) "
                       f"SELECT application_name, 'k-renamed', {rest} FROM key_mapping "
                       "WHERE application_name='alice' AND key_name='k'")
        assert db.execute("SELECT COUNT(*) FROM key_mapping").fetchone()[0] == 5
    finally:
        db.close()
    svc.start()
    return {"pub": pub, "secret": secret}


def test_row_copied_to_another_owner_does_not_unwrap(svc: ServiceProcess,
                                                     copied: dict[str, Any]) -> None:
    mallory = svc.client("mallory")
    for fn in (lambda: mallory.sign_hash("k", ALG, DIGEST),
               lambda: mallory.export_key("k"),
               lambda: mallory.export_public_key("k"),
               lambda: mallory.sign_hash("r", SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256),
                                         DIGEST)):
        assert status(fn) in CORRUPT
    # the original still works, and is the same key
    alice = svc.client("alice")
    assert alice.export_public_key("k") == copied["pub"]
    assert alice.export_key("k") == copied["secret"]
    sig = alice.sign_hash("k", ALG, DIGEST)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), copied["pub"]).verify(
        der, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))
    alice.sign_hash("r", SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256), DIGEST)
    assert "Traceback" not in svc.log()


def test_row_renamed_does_not_unwrap(svc: ServiceProcess, copied: dict[str, Any]) -> None:
    alice = svc.client("alice")
    assert status(lambda: alice.sign_hash("k-renamed", ALG, DIGEST)) in CORRUPT
    assert status(lambda: alice.export_key("k-renamed")) in CORRUPT
    # the bad copies can be destroyed, and the originals are untouched by that
    svc.client("mallory").destroy_key("k")
    alice.destroy_key("k-renamed")
    assert sorted(k.name for k in alice.list_keys()) == ["k", "r"]
    assert alice.export_key("k") == copied["secret"]


def test_tampered_key_blob_is_detected(svc: ServiceProcess) -> None:
    alice = svc.client("alice")
    alice.generate_key("k", ecc_p256_sign_attrs())
    assert svc.stop() == 0
    db = sqlite3.connect(db_path(svc))
    try:
        (blob,) = db.execute("SELECT key_id FROM key_mapping WHERE key_name='k'").fetchone()
        flipped = bytearray(blob)
        flipped[-5] ^= 0x01
        with db:
            db.execute("UPDATE key_mapping SET key_id=? WHERE key_name='k'", (bytes(flipped),))
    finally:
        db.close()
    svc.start()
    assert status(lambda: alice.sign_hash("k", ALG, DIGEST)) in CORRUPT


def test_kek_readable_by_others_is_refused(svc: ServiceProcess) -> None:
    svc.client("alice").generate_key("k", ecc_p256_sign_attrs())
    assert svc.stop() == 0
    os.chmod(kek_path(svc), 0o644)
    run = run_serve(svc.config_path)
    assert run.returncode != 0
    assert kek_path(svc) in run.stderr, run.stderr
    os.chmod(kek_path(svc), 0o600)
    svc.start()
    svc.client("alice").sign_hash("k", ALG, DIGEST)


def test_newer_schema_is_refused(svc: ServiceProcess) -> None:
    svc.client("alice").generate_key("k", ecc_p256_sign_attrs())
    assert svc.stop() == 0
    db = sqlite3.connect(db_path(svc))
    try:
        with db:
            db.execute("UPDATE kim_metadata SET int_value=99 WHERE id='schema_version'")
    finally:
        db.close()
    run = run_serve(svc.config_path)
    assert run.returncode != 0 and "schema version 99" in run.stderr, run.stderr
    db = sqlite3.connect(db_path(svc))
    try:
        with db:
            db.execute("UPDATE kim_metadata SET int_value=1 WHERE id='schema_version'")
    finally:
        db.close()
    svc.start()
    svc.client("alice").sign_hash("k", ALG, DIGEST)


def test_policy_widened_in_the_key_store_does_not_unwrap(svc: ServiceProcess) -> None:
    """Someone who can write the key store adds the export flag to a key: the key's wrapping is
    bound to its attributes, so it no longer unwraps, and its secret never leaves."""
    from pqparsec.protocol.psa.convert import attributes_from_bytes, attributes_to_bytes

    alice = svc.client("alice")
    alice.generate_key("k", ecc_p256_sign_attrs(export=False))
    assert status(lambda: alice.export_key("k")) == S.PSA_ERROR_NOT_PERMITTED
    assert svc.stop() == 0
    db = sqlite3.connect(db_path(svc))
    try:
        (raw,) = db.execute("SELECT key_attributes FROM key_mapping WHERE key_name='k'").fetchone()
        attrs = attributes_from_bytes(raw)
        wider = replace(attrs, policy=replace(attrs.policy,
                                              usage_flags=replace(attrs.usage, export=True)))
        with db:
            db.execute("UPDATE key_mapping SET key_attributes=? WHERE key_name='k'",
                       (attributes_to_bytes(wider),))
    finally:
        db.close()
    svc.start()
    assert status(lambda: alice.export_key("k")) in CORRUPT
    assert status(lambda: alice.sign_hash("k", ALG, DIGEST)) in CORRUPT


def test_warm_key_cache_does_not_hand_over_a_copied_row(svc: ServiceProcess) -> None:
    """The software provider caches recently used private-key objects; a row copied to another
    owner while alice's key is hot in that cache must still fail to unwrap for the copier."""
    alice = svc.client("alice")
    alice.generate_key("k", ecc_p256_sign_attrs())
    pub = alice.export_public_key("k")
    alice.sign_hash("k", ALG, DIGEST)  # the key object is now cached
    db = sqlite3.connect(db_path(svc), timeout=10)
    try:
        cols = [r[1] for r in db.execute("PRAGMA table_info(key_mapping)")]
        rest = ", ".join(c for c in cols if c != "application_name")
        with db:
            db.execute(f"INSERT INTO key_mapping (application_name, {rest}) SELECT 'mallory', "
                       f"{rest} FROM key_mapping WHERE application_name='alice'")
    finally:
        db.close()
    assert status(lambda: svc.client("mallory").sign_hash("k", ALG, DIGEST)) in CORRUPT
    sig = alice.sign_hash("k", ALG, DIGEST)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub).verify(
        der, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))
    # Destroyed and re-created under the same name: the new key signs, not the cached old one.
    alice.destroy_key("k")
    alice.generate_key("k", ecc_p256_sign_attrs())
    new_pub = alice.export_public_key("k")
    assert new_pub != pub
    sig = alice.sign_hash("k", ALG, DIGEST)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), new_pub).verify(
        der, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))
