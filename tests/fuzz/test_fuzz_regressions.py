"""Regression tests: the fuzzers' findings, each with the exact input that found it."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz.harness import ADMIN
from fuzz.store import APP, changed, service_on_changed_copy, stored, use_every_key
from pqparsec.client.errors import ServiceError
from pqparsec.protocol.psa import Hash, MacAlg, MacKind
from pqparsec.protocol.psa import convert as cv
from pqparsec.protocol.status import ParsecError, ResponseStatus


@pytest.mark.parametrize("data", [bytes.fromhex("0b"), bytes.fromhex("ffff"), b""],
                         ids=["start-group-tag", "bad-varint", "empty"])
def test_stored_attributes_that_do_not_decode_are_data_corrupt(data: bytes) -> None:
    """Finding 1 (store-at-rest target, change ('a', 'key_attributes', 'flip', 0, b'')): key
    attributes read back from the key store that are not protobuf escaped as protobuf's
    DecodeError (an internal error, with a traceback, for ListKeys, DestroyKey, ExportKey,
    DeleteClient), and ones that parse but miss a field answered InvalidEncoding, a wire-format
    status. Both are PsaErrorDataCorrupt now."""
    with pytest.raises(ParsecError) as e:
        cv.attributes_from_bytes(data)
    assert e.value.status == ResponseStatus.PSA_ERROR_DATA_CORRUPT


def test_flipped_stored_attributes_answer_data_corrupt(pristine_store: Path) -> None:
    """Finding 1 through the handler: the exact change the fuzzer found (bit 0 of the first
    byte of key "a"'s stored attributes). No request has an internal error (the in-process
    transport asserts it); using the key answers PsaErrorDataCorrupt; another key of the
    application still works."""
    db = pristine_store / "kim.sqlite3"
    value = changed(stored(db, "a", "key_attributes"), "flip", 0, b"")
    assert value[0] == 0x0B
    with service_on_changed_copy(pristine_store, "a", "key_attributes", value) as service:
        alice = service.client(APP)
        with pytest.raises(ServiceError) as e:
            alice.export_key("a")
        assert e.value.status == ResponseStatus.PSA_ERROR_DATA_CORRUPT
        alice.mac_compute("h", MacAlg(MacKind.HMAC, Hash.SHA_256), b"data")
        use_every_key(service)
        service.client(ADMIN).list_clients()


def test_a_damaged_mapping_hides_nothing_and_can_be_removed(pristine_store: Path) -> None:
    """Finding 2 (the same change as finding 1): one mapping whose attributes do not decode made
    ListKeys answer no key at all for its application, and DestroyKey and DeleteClient answer
    DataCorrupt, so the damaged mapping could never be removed. Now ListKeys lists the healthy
    keys, DestroyKey removes the damaged mapping, and DeleteClient removes every mapping."""
    db = pristine_store / "kim.sqlite3"
    value = changed(stored(db, "a", "key_attributes"), "flip", 0, b"")
    with service_on_changed_copy(pristine_store, "a", "key_attributes", value) as service:
        alice = service.client(APP)
        assert sorted(k.name for k in alice.list_keys()) == ["h", "k"]
        alice.destroy_key("a")
        with pytest.raises(ServiceError) as e:
            alice.export_key("a")
        assert e.value.status == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST
    with service_on_changed_copy(pristine_store, "a", "key_attributes", value) as service:
        service.client(ADMIN).delete_client(APP)
        assert service.client(APP).list_keys() == []
        assert APP not in service.client(ADMIN).list_clients()
