"""The SQLite key info manager: (authenticator, application, key name) -> provider key.

Every write is one transaction, committed with synchronous=FULL before the caller answers the
client, so an acknowledged key survives kill -9 and power loss. The provider key id is opaque
here: a token object id, or (software, TPM) the wrapped key itself.
"""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.psa import KeyAttributes
from pqparsec.protocol.psa.convert import attributes_from_bytes, attributes_to_bytes
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.files import make_dirs
from pqparsec.service.identity import Identity

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

# Migration n brings a store from version n-1 to n. Never edit a released one: append.
_MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE key_mapping (
            authenticator_id INTEGER NOT NULL,
            application_name TEXT NOT NULL,
            key_name TEXT NOT NULL,
            provider_id INTEGER NOT NULL,
            provider_name TEXT NOT NULL,
            key_id BLOB NOT NULL,
            key_attributes BLOB NOT NULL,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
            PRIMARY KEY (authenticator_id, application_name, key_name)
        )""",
        "CREATE INDEX key_mapping_provider ON key_mapping (provider_name)",
    ],
}


@dataclass(frozen=True)
class KeyRecord:
    owner: Identity
    key_name: str
    provider_id: ProviderId
    provider_name: str
    key_id: bytes
    attributes: KeyAttributes

    def __repr__(self) -> str:  # key_id may be wrapped key material: keep it out of logs
        return (f"KeyRecord(owner={self.owner}, key_name={self.key_name!r}, "
                f"provider={self.provider_name}, attributes={self.attributes})")


CACHE_SIZE = 1024  # mappings kept by KeyStore.get


def _storage_error(exc: sqlite3.Error) -> ParsecError:
    return ParsecError(ResponseStatus.KEY_INFO_MANAGER_ERROR, f"key store: {exc}")


class KeyStore:
    def __init__(self, path: str) -> None:
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        make_dirs(directory, 0o700)
        old_umask = os.umask(0o077)
        try:
            # The generation file first: its lock serialises opening the store across the
            # service's processes (workers start at the same time, and switching a new database
            # to WAL needs it to themselves: SQLite answers "database is locked" at once there,
            # without waiting for its busy timeout).
            gen_fd = os.open(path + "-generation", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(gen_fd, fcntl.LOCK_EX)
                self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                           timeout=30.0)
                os.chmod(path, 0o600)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.execute("PRAGMA foreign_keys=ON")
                self._lock = threading.RLock()
                # Mappings read recently, so a hot key costs no SQLite statement (each one hands
                # the GIL over twice, which under concurrent requests costs far more than the
                # query). Every write of this process clears it, and so does every write of
                # another process (the service's other workers): see _fresh_cache.
                self._cache: dict[tuple[int, str, str], KeyRecord] = {}
                self._gen_map = self._map_generation(gen_fd)
                self._cache_gen = self._generation()
                self._migrate()
            finally:
                # Unlock explicitly: the mapping keeps a duplicate of the descriptor, and with it
                # the lock, open.
                fcntl.flock(gen_fd, fcntl.LOCK_UN)
                os.close(gen_fd)
        finally:
            os.umask(old_umask)

    # -- the write generation shared by every process of the service ----------------------------

    # Eight bytes in a file beside the database, mapped into every process that opens the store.
    # After each committed write, the writer stores a fresh random value there; a reader compares
    # it with the value it saw when it last filled its cache, and empties the cache when it
    # differs. Reading it is a memory load: no system call and no SQLite statement, so the cache
    # stays worth having. A random value, rather than a counter, cannot lose an update when two
    # processes write at once (each write stores a value no reader has seen).
    @staticmethod
    def _map_generation(fd: int) -> mmap.mmap:
        if os.fstat(fd).st_size < 8:
            os.ftruncate(fd, 8)
        return mmap.mmap(fd, 8)

    def _generation(self) -> bytes:
        return self._gen_map[:8]

    def _bump_generation(self) -> None:
        self._gen_map[:8] = os.urandom(8)

    def _fresh_cache(self) -> None:
        """Empty the cache if any process wrote since it was filled (caller holds the lock)."""
        gen = self._gen_map[:8]
        if gen != self._cache_gen:
            self._cache.clear()
            self._cache_gen = gen

    # -- schema ---------------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS kim_metadata "
                       "(id TEXT NOT NULL PRIMARY KEY, int_value INTEGER NOT NULL)")
            row = db.execute("SELECT int_value FROM kim_metadata WHERE id='schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise ParsecError(ResponseStatus.KEY_INFO_MANAGER_ERROR,
                                  f"{self.path}: schema version {version} is newer than this "
                                  f"pqparsec understands ({SCHEMA_VERSION})")
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for stmt in _MIGRATIONS[target]:
                    db.execute(stmt)
                db.execute("REPLACE INTO kim_metadata (id, int_value) VALUES ('schema_version', ?)",
                           (target,))
                log.info("key store %s migrated to schema version %d", self.path, target)

    @property
    def schema_version(self) -> int:
        row = self._db.execute("SELECT int_value FROM kim_metadata WHERE id='schema_version'").fetchone()
        return int(row[0])

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._cache.clear()
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
                self._bump_generation()
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            finally:
                self._cache.clear()

    # -- queries --------------------------------------------------------------------------------

    def _record(self, row: tuple[int, str, str, int, str, bytes, bytes]) -> KeyRecord:
        auth, app, name, pid, pname, key_id, attrs = row
        return KeyRecord(Identity(AuthType(auth), app), name, ProviderId(pid), pname, bytes(key_id),
                         attributes_from_bytes(bytes(attrs)))

    _COLUMNS = ("authenticator_id, application_name, key_name, provider_id, provider_name, key_id, "
                "key_attributes")

    def get(self, owner: Identity, key_name: str) -> KeyRecord | None:
        ident = (int(owner.auth_type), owner.name, key_name)
        try:
            with self._lock:
                self._fresh_cache()
                rec = self._cache.get(ident)
                if rec is not None:
                    return rec
                row = self._db.execute(
                    f"SELECT {self._COLUMNS} FROM key_mapping WHERE authenticator_id=? AND "
                    "application_name=? AND key_name=?", ident).fetchone()
                if row is None:
                    return None
                rec = self._record(row)
                if len(self._cache) >= CACHE_SIZE:
                    self._cache.clear()
                self._cache[ident] = rec
                return rec
        except sqlite3.Error as exc:
            raise _storage_error(exc) from None

    def exists(self, owner: Identity, key_name: str) -> bool:
        return self.get(owner, key_name) is not None

    def insert(self, record: KeyRecord) -> None:
        """Add a mapping; PsaErrorAlreadyExists if the owner already has that name."""
        try:
            with self._transaction() as db:
                db.execute(
                    f"INSERT INTO key_mapping ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (int(record.owner.auth_type), record.owner.name, record.key_name,
                     int(record.provider_id), record.provider_name, record.key_id,
                     attributes_to_bytes(record.attributes)))
        except sqlite3.IntegrityError:
            raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS,
                              f"key {record.key_name!r} already exists") from None
        except sqlite3.Error as exc:
            raise _storage_error(exc) from None

    def delete(self, owner: Identity, key_name: str) -> bool:
        try:
            with self._transaction() as db:
                cur = db.execute("DELETE FROM key_mapping WHERE authenticator_id=? AND "
                                 "application_name=? AND key_name=?",
                                 (int(owner.auth_type), owner.name, key_name))
                return cur.rowcount > 0
        except sqlite3.Error as exc:
            raise _storage_error(exc) from None

    def _select(self, where: str, args: tuple[object, ...]) -> list[KeyRecord]:
        try:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT {self._COLUMNS} FROM key_mapping WHERE {where} "
                    "ORDER BY application_name, key_name", args).fetchall()
        except sqlite3.Error as exc:
            raise _storage_error(exc) from None
        records = []
        for r in rows:
            try:
                records.append(self._record(r))
            except ParsecError as exc:  # one damaged row must not hide the others
                log.warning("key store %s: the mapping of key %r of %r is damaged and skipped: "
                            "%s", self.path, r[2], r[1], exc)
        return records

    def provider_of(self, owner: Identity, key_name: str) -> str | None:
        """The provider name of a mapping, read without decoding the rest of it."""
        try:
            with self._lock:
                row = self._db.execute(
                    "SELECT provider_name FROM key_mapping WHERE authenticator_id=? AND "
                    "application_name=? AND key_name=?",
                    (int(owner.auth_type), owner.name, key_name)).fetchone()
        except sqlite3.Error as exc:
            raise _storage_error(exc) from None
        return None if row is None else str(row[0])

    def key_names(self, owner: Identity, provider_name: str) -> list[str]:
        """The names of the owner's keys on a provider, damaged mappings included."""
        try:
            with self._lock:
                rows = self._db.execute(
                    "SELECT key_name FROM key_mapping WHERE authenticator_id=? AND "
                    "application_name=? AND provider_name=? ORDER BY key_name",
                    (int(owner.auth_type), owner.name, provider_name)).fetchall()
        except sqlite3.Error as exc:
            raise _storage_error(exc) from None
        return [r[0] for r in rows]

    def keys_of(self, owner: Identity, provider_name: str | None = None) -> list[KeyRecord]:
        if provider_name is None:
            return self._select("authenticator_id=? AND application_name=?",
                                (int(owner.auth_type), owner.name))
        return self._select("authenticator_id=? AND application_name=? AND provider_name=?",
                            (int(owner.auth_type), owner.name, provider_name))

    def keys_of_provider(self, provider_name: str) -> list[KeyRecord]:
        return self._select("provider_name=?", (provider_name,))

    def clients(self, auth_type: AuthType | None = None) -> list[str]:
        try:
            with self._lock:
                if auth_type is None:
                    rows = self._db.execute(
                        "SELECT DISTINCT application_name FROM key_mapping").fetchall()
                else:
                    rows = self._db.execute(
                        "SELECT DISTINCT application_name FROM key_mapping WHERE authenticator_id=?",
                        (int(auth_type),)).fetchall()
        except sqlite3.Error as exc:
            raise _storage_error(exc) from None
        return sorted(r[0] for r in rows)

    def prune(self, provider_name: str, is_present: Callable[[KeyRecord], bool]) -> list[KeyRecord]:
        """Remove the mappings of a provider whose back-end key is gone (start-up coherency)."""
        removed = []
        for rec in self.keys_of_provider(provider_name):
            if not is_present(rec):
                self.delete(rec.owner, rec.key_name)
                removed.append(rec)
        return removed

    def close(self) -> None:
        with self._lock:
            self._cache.clear()
            self._db.close()
            self._gen_map.close()
