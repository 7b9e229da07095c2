"""Small helpers shared by the PKCS#11 provider tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from support import ServiceProcess

from pqparsec.client import ServiceError
from pqparsec.protocol.psa import (
    Algorithm,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    NoAlgorithm,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus


def attrs(kt: KeyType, bits: int, alg: Algorithm | None = None, **flags: bool) -> KeyAttributes:
    return KeyAttributes(kt, bits, KeyPolicy(UsageFlags(**flags), alg or NoAlgorithm()))


def status(fn: Callable[..., object], *args: object) -> ResponseStatus:
    with pytest.raises(ServiceError) as err:
        fn(*args)
    return err.value.status


def key_id(svc: ServiceProcess, app: str, key_name: str) -> str:
    """The CKA_ID (hex) the key store records for a key."""
    with sqlite3.connect(str(Path(svc.tmp) / "kim.sqlite3")) as db:
        row = db.execute("SELECT key_id FROM key_mapping WHERE application_name=? AND key_name=?",
                         (app, key_name)).fetchone()
    assert row is not None, f"no mapping for {app}/{key_name}"
    return bytes(row[0]).hex()
