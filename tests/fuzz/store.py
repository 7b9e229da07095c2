"""A key store at rest to change: a stopped service's state directory holding one application's
keys, copied and changed row by row before a service starts on it."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fuzz.harness import ADMIN, InProcessService
from pqparsec.client import templates
from pqparsec.client.errors import ServiceError
from pqparsec.protocol.psa import Hash, MacAlg, MacKind, SignAlg, SignKind

APP = "alice"
KEYS = {"k": templates.ecc_signing(), "h": templates.hmac(),
        "a": templates.aead(bits=128, exportable=True)}
COLUMNS = ("key_attributes", "key_id")


def make_pristine(tmp: Path) -> Path:
    service = InProcessService(tmp)
    try:
        client = service.client(APP)
        for name, attrs in KEYS.items():
            client.generate_key(name, attrs)
    finally:
        service.close()
    return tmp


def stored(db_path: Path, key_name: str, column: str) -> bytes:
    assert column in COLUMNS
    db = sqlite3.connect(db_path)
    try:
        (value,) = db.execute(f"SELECT {column} FROM key_mapping WHERE key_name=?",
                              (key_name,)).fetchone()
    finally:
        db.close()
    return bytes(value)


def tamper(db_path: Path, key_name: str, column: str, value: bytes) -> None:
    assert column in COLUMNS
    db = sqlite3.connect(db_path)
    try:
        with db:
            db.execute(f"UPDATE key_mapping SET {column}=? WHERE key_name=?", (value, key_name))
    finally:
        db.close()


@contextmanager
def service_on_changed_copy(pristine: Path, key_name: str, column: str,
                            value: bytes) -> Iterator[InProcessService]:
    """A service started on a copy of `pristine` whose row `key_name` has `value` in `column`."""
    with tempfile.TemporaryDirectory(prefix="pqp-fuzz-") as d:
        tmp = Path(d) / "state"
        shutil.copytree(pristine, tmp)
        tamper(tmp / "kim.sqlite3", key_name, column, value)
        service = InProcessService(tmp)
        try:
            yield service
        finally:
            service.close()


def use_every_key(service: InProcessService) -> None:
    """ListKeys, each key's operations, DestroyKey, DeleteClient, ListClients: the in-process
    transport checks each answer (well formed, no internal error)."""
    alice, admin = service.client(APP), service.client(ADMIN)
    calls: list[Callable[[], object]] = [
        lambda: alice.list_keys(include_extensions=True),
        lambda: alice.sign_hash("k", SignAlg(SignKind.ECDSA, Hash.SHA_256), bytes(32)),
        lambda: alice.export_public_key("k"),
        lambda: alice.mac_compute("h", MacAlg(MacKind.HMAC, Hash.SHA_256), b"data"),
        lambda: alice.export_key("a"),
        lambda: alice.destroy_key("k"),
        lambda: admin.delete_client(APP),
        lambda: admin.list_clients(),
    ]
    for call in calls:
        try:
            call()
        except ServiceError:
            pass


def changed(old: bytes, how: str, at: int, data: bytes) -> bytes:
    """`old` with one change: a bit flipped at `at`, cut at `at`, `data` appended, or `data`."""
    if how == "flip":
        if not old:
            return b"\x00"
        i = at % (len(old) * 8)
        return old[:i // 8] + bytes([old[i // 8] ^ 1 << i % 8]) + old[i // 8 + 1:]
    if how == "cut":
        return old[:at % (len(old) + 1)]
    if how == "extend":
        return old + data
    return data
