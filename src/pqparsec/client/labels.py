"""Client-side key labels: name -> {label: value} kept next to the user, not in the service.

Parsec keys have a name and attributes, nothing else. Applications often want to tag keys ("role
= tls", "rotated-from = old-key") and find them again; `LabelStore` keeps such tags in a small
SQLite file per application under the user's data directory
(``$XDG_DATA_HOME/pqparsec/labels/`` or ``~/.local/share/pqparsec/labels/``), one row per
(service endpoint, key name, label). A label without a value is stored with the value "".

The service stays the source of truth for which keys exist: queries (`find`, `all`) first drop
the labels of keys that ListKeys no longer reports, and `BasicClient.destroy_key` forgets a
destroyed key's labels. Every call opens its own SQLite connection, so a store can be shared
between threads.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from pqparsec.client.errors import KeyNotFound
from pqparsec.protocol.status import ResponseStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS labels (
    endpoint TEXT NOT NULL,
    key_name TEXT NOT NULL,
    label TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (endpoint, key_name, label)
)
"""


def data_dir() -> Path:
    """The user's pqparsec data directory (XDG base directory spec)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local",
                                                            "share")
    return Path(base) / "pqparsec"


def store_path(application: str, directory: str | os.PathLike[str] | None = None) -> Path:
    """The label file of one application (its name made filename-safe)."""
    root = Path(directory) if directory is not None else data_dir() / "labels"
    return root / f"{quote(application, safe='')}.sqlite3"


class LabelStore:
    """Labels of one application's keys on one service endpoint.

    `existing_keys` returns the key names the service currently has for the application; it is
    called by `set` (to refuse labelling a missing key) and by the pruning queries.
    """

    def __init__(self, path: str | os.PathLike[str], endpoint: str,
                 existing_keys: Callable[[], Iterable[str]] | None = None) -> None:
        self.path = Path(path)
        self.endpoint = endpoint
        self._existing_keys = existing_keys

    # -- plumbing --------------------------------------------------------------------------------

    @contextmanager
    def _db(self, create: bool = True) -> Iterator[sqlite3.Connection | None]:
        if not create and not self.path.exists():
            yield None
            return
        if create and not self.path.exists():
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        conn = sqlite3.connect(self.path, timeout=10.0)
        try:
            conn.execute(SCHEMA)
            with conn:
                yield conn
        finally:
            conn.close()

    def _existing(self) -> set[str] | None:
        return None if self._existing_keys is None else set(self._existing_keys())

    # -- writing ---------------------------------------------------------------------------------

    def set(self, key_name: str, labels: Mapping[str, str] | None = None, /,
            **more: str) -> None:
        """Attach labels (label -> value) to a key, replacing the values of labels it has."""
        items = {**(labels or {}), **more}
        if not items:
            return
        existing = self._existing()
        if existing is not None and key_name not in existing:
            raise KeyNotFound(ResponseStatus.PSA_ERROR_DOES_NOT_EXIST, f"label {key_name!r}")
        for label in items:
            if not label:
                raise ValueError("a label needs a name")
        with self._db() as db:
            assert db is not None
            db.executemany("REPLACE INTO labels (endpoint, key_name, label, value) "
                           "VALUES (?, ?, ?, ?)",
                           [(self.endpoint, key_name, k, str(v)) for k, v in items.items()])

    def add(self, key_name: str, *labels: str) -> None:
        """Attach bare labels (value "")."""
        self.set(key_name, dict.fromkeys(labels, ""))

    def remove(self, key_name: str, *labels: str) -> None:
        """Remove some labels of a key, or all of them when none is named."""
        with self._db(create=False) as db:
            if db is None:
                return
            if labels:
                db.executemany("DELETE FROM labels WHERE endpoint = ? AND key_name = ? AND "
                               "label = ?", [(self.endpoint, key_name, lb) for lb in labels])
            else:
                db.execute("DELETE FROM labels WHERE endpoint = ? AND key_name = ?",
                           (self.endpoint, key_name))

    forget = remove

    # -- reading ---------------------------------------------------------------------------------

    def get(self, key_name: str) -> dict[str, str]:
        """The labels of one key (no pruning: cheap, no request to the service)."""
        with self._db(create=False) as db:
            if db is None:
                return {}
            rows = db.execute("SELECT label, value FROM labels WHERE endpoint = ? AND "
                              "key_name = ? ORDER BY label", (self.endpoint, key_name)).fetchall()
        return {label: value for label, value in rows}

    def prune(self) -> list[str]:
        """Drop the labels of keys the service no longer has; returns their names."""
        if not self.path.exists():
            return []  # nothing to prune: spare the service a ListKeys
        existing = self._existing()
        if existing is None:
            return []
        with self._db(create=False) as db:
            if db is None:
                return []
            names = [r[0] for r in db.execute(
                "SELECT DISTINCT key_name FROM labels WHERE endpoint = ?", (self.endpoint,))]
            gone = sorted(n for n in names if n not in existing)
            db.executemany("DELETE FROM labels WHERE endpoint = ? AND key_name = ?",
                           [(self.endpoint, n) for n in gone])
        return gone

    def all(self) -> dict[str, dict[str, str]]:
        """Every labelled key that still exists, with its labels."""
        self.prune()
        out: dict[str, dict[str, str]] = {}
        with self._db(create=False) as db:
            if db is None:
                return out
            for name, label, value in db.execute(
                    "SELECT key_name, label, value FROM labels WHERE endpoint = ? "
                    "ORDER BY key_name, label", (self.endpoint,)):
                out.setdefault(name, {})[label] = value
        return out

    def find(self, label: str, value: str | None = None) -> list[str]:
        """Names of the existing keys that carry `label` (with that value, if one is given)."""
        self.prune()
        with self._db(create=False) as db:
            if db is None:
                return []
            if value is None:
                rows = db.execute("SELECT key_name FROM labels WHERE endpoint = ? AND label = ? "
                                  "ORDER BY key_name", (self.endpoint, label))
            else:
                rows = db.execute("SELECT key_name FROM labels WHERE endpoint = ? AND label = ? "
                                  "AND value = ? ORDER BY key_name", (self.endpoint, label, value))
            return [r[0] for r in rows]
