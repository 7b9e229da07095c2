"""KeyStore.get serves recently read mappings from memory; every write of the store must be seen
by the next read, as without the cache."""

from __future__ import annotations

from pathlib import Path

from pqptest.psa import ecc_p256_sign_attrs, rsa_sign_attrs

from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord, KeyStore

ALICE = Identity(AuthType.DIRECT, "alice")


def record(key_id: bytes, rsa: bool = False) -> KeyRecord:
    attrs = rsa_sign_attrs() if rsa else ecc_p256_sign_attrs()
    return KeyRecord(ALICE, "k", ProviderId.MBED_CRYPTO, "mbed-crypto-provider", key_id, attrs)


def test_writes_are_seen_by_the_next_read(tmp_path: Path) -> None:
    store = KeyStore(str(tmp_path / "kim.sqlite3"))
    assert store.get(ALICE, "k") is None  # a miss is not remembered
    store.insert(record(b"one"))
    first = store.get(ALICE, "k")
    assert first is not None and first.key_id == b"one"
    assert store.get(ALICE, "k") is first  # served from memory
    assert store.delete(ALICE, "k")
    assert store.get(ALICE, "k") is None
    store.insert(record(b"two", rsa=True))
    second = store.get(ALICE, "k")
    assert second is not None and second.key_id == b"two"
    assert second.attributes == rsa_sign_attrs()
    # pruning (start-up coherency) goes through the same writes
    assert store.prune("mbed-crypto-provider", lambda rec: False) == [second]
    assert store.get(ALICE, "k") is None
    store.close()
    # a new store on the same file reads what was committed
    again = KeyStore(str(tmp_path / "kim.sqlite3"))
    assert again.get(ALICE, "k") is None
    again.close()
