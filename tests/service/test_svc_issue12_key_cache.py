"""The software provider's cache of parsed private keys (issue 12), seen from outside.

Whether a request was served from the cache or unwrapped its key again shows in the service's
debug log: "<provider>: key '<name>' of <app> unwrapped into the key cache" is logged on every
miss. A key-store row put back after its key was destroyed therefore shows whether the destroyed
key's object was still cached: an identical row unwraps to the same key, so only the log can
tell a stale hit from a fresh unwrap.

The service is the only writer of its key store while it runs, so its read cache (KeyStore.get)
does not see a row edited behind its back until the service writes the store itself; the tests
make it do so where they need the edit seen.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pqptest.psa import ecc_p256_sign_attrs, rsa_sign_attrs
from pqptest.service import ServiceProcess

from pqparsec.client.errors import ServiceError
from pqparsec.protocol.psa import Hash, KeyAttributes, KeyPolicy, SignAlg, SignKind, UsageFlags
from pqparsec.protocol.psa.convert import attributes_from_bytes, attributes_to_bytes
from pqparsec.protocol.status import ResponseStatus as S

ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
PKCS1 = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
DIGEST = hashlib.sha256(b"issue 12").digest()
# What a key that fails its integrity check may answer (as tests/reliability/test_rel_key_store.py)
CORRUPT = {S.PSA_ERROR_DATA_CORRUPT, S.PSA_ERROR_CORRUPTION_DETECTED, S.PSA_ERROR_DATA_INVALID}


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[ServiceProcess]:
    s = ServiceProcess(str(tmp_path), auth_type="Direct", admins=["admin"],
                       core={"log_level": "debug"})
    s.start()
    yield s
    s.stop()


def status(fn: Callable[[], Any]) -> S:
    with pytest.raises(ServiceError) as e:
        fn()
    return e.value.status


def unwraps(svc: ServiceProcess, app: str, key: str) -> int:
    return svc.log().count(f"key {key!r} of {app} unwrapped into the key cache")


def db(svc: ServiceProcess) -> sqlite3.Connection:
    return sqlite3.connect(os.path.join(svc.tmp, "kim.sqlite3"), timeout=10)


def rows_of(svc: ServiceProcess, app: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    conn = db(svc)
    try:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(key_mapping)")]
        rows = conn.execute("SELECT * FROM key_mapping WHERE application_name=?", (app,)).fetchall()
    finally:
        conn.close()
    return cols, rows


def put_back(svc: ServiceProcess, cols: list[str], rows: list[tuple[Any, ...]]) -> None:
    conn = db(svc)
    try:
        with conn:
            conn.executemany(f"INSERT INTO key_mapping ({', '.join(cols)}) VALUES "
                             f"({', '.join('?' * len(cols))})", rows)
    finally:
        conn.close()


def warm(svc: ServiceProcess, app: str) -> None:
    """alice's keys k (ECDSA) and r (RSA), used once each: both parsed and cached."""
    c = svc.client(app)
    c.generate_key("k", ecc_p256_sign_attrs())
    c.generate_key("r", rsa_sign_attrs(1024))
    for _ in range(2):
        c.sign_hash("k", ECDSA, DIGEST)
        c.sign_hash("r", PKCS1, DIGEST)
    # one unwrap each: the second signatures came from the cache
    assert (unwraps(svc, app, "k"), unwraps(svc, app, "r")) == (1, 1), svc.log()


def test_delete_client_evicts_the_clients_cached_keys(svc: ServiceProcess) -> None:
    warm(svc, "alice")
    cols, rows = rows_of(svc, "alice")
    assert len(rows) == 2
    svc.client("admin").delete_client("alice")
    alice = svc.client("alice")
    assert alice.list_keys() == []
    assert status(lambda: alice.sign_hash("k", ECDSA, DIGEST)) == S.PSA_ERROR_DOES_NOT_EXIST
    put_back(svc, cols, rows)  # the same rows: they unwrap to the same keys
    alice.sign_hash("k", ECDSA, DIGEST)
    alice.sign_hash("r", PKCS1, DIGEST)
    # both keys had to be unwrapped again: DeleteClient left nothing of alice's in the cache
    assert (unwraps(svc, "alice", "k"), unwraps(svc, "alice", "r")) == (2, 2), svc.log()


def test_destroy_key_evicts_the_cached_key(svc: ServiceProcess) -> None:
    warm(svc, "alice")
    cols, rows = rows_of(svc, "alice")
    alice = svc.client("alice")
    alice.destroy_key("k")
    put_back(svc, cols, [r for r in rows if r[cols.index("key_name")] == "k"])
    alice.sign_hash("k", ECDSA, DIGEST)
    alice.sign_hash("r", PKCS1, DIGEST)
    # k was unwrapped again; r, not destroyed, still came from the cache
    assert (unwraps(svc, "alice", "k"), unwraps(svc, "alice", "r")) == (2, 1), svc.log()


def test_policy_widened_while_the_key_is_cached_is_refused(svc: ServiceProcess) -> None:
    """The warm-cache twin of test_rel_key_store.py's widened-policy test (which restarts the
    service, so its cache is cold): the cache must not hand a widened policy a parsed key."""
    alice = svc.client("alice")
    verify_only = KeyAttributes(ecc_p256_sign_attrs().key_type, 256,
                                KeyPolicy(UsageFlags(verify_hash=True), ECDSA))
    alice.generate_key("k", verify_only)
    pub = alice.export_public_key("k")  # parses the private key: k is now in the cache
    assert unwraps(svc, "alice", "k") == 1
    assert status(lambda: alice.sign_hash("k", ECDSA, DIGEST)) == S.PSA_ERROR_NOT_PERMITTED
    assert status(lambda: alice.export_key("k")) == S.PSA_ERROR_NOT_PERMITTED

    conn = db(svc)
    try:
        (raw,) = conn.execute("SELECT key_attributes FROM key_mapping WHERE key_name='k'").fetchone()
        attrs = attributes_from_bytes(raw)
        wider = replace(attrs, policy=replace(attrs.policy, usage_flags=replace(
            attrs.usage, sign_hash=True, sign_message=True, export=True)))
        with conn:
            conn.execute("UPDATE key_mapping SET key_attributes=? WHERE key_name='k'",
                         (attributes_to_bytes(wider),))
    finally:
        conn.close()
    alice.generate_key("flush", ecc_p256_sign_attrs())  # a write: the edited row is read next

    assert status(lambda: alice.sign_hash("k", ECDSA, DIGEST)) in CORRUPT
    assert status(lambda: alice.export_key("k")) in CORRUPT
    assert status(lambda: alice.export_public_key("k")) in CORRUPT
    # put back as it was, the key works again, from the cache
    conn = db(svc)
    try:
        with conn:
            conn.execute("UPDATE key_mapping SET key_attributes=? WHERE key_name='k'", (raw,))
    finally:
        conn.close()
    alice.destroy_key("flush")
    assert alice.export_public_key("k") == pub
    assert unwraps(svc, "alice", "k") == 1
    assert status(lambda: alice.sign_hash("k", ECDSA, DIGEST)) == S.PSA_ERROR_NOT_PERMITTED
