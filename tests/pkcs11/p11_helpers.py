"""Small helpers of the PKCS#11 provider tests (the shared ones are in `pqptest`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pqptest.service import ServiceProcess


def key_id(svc: ServiceProcess, app: str, key_name: str) -> str:
    """The CKA_ID (hex) the key store records for a key."""
    with sqlite3.connect(str(Path(svc.tmp) / "kim.sqlite3")) as db:
        row = db.execute("SELECT key_id FROM key_mapping WHERE application_name=? AND key_name=?",
                         (app, key_name)).fetchone()
    assert row is not None, f"no mapping for {app}/{key_name}"
    return bytes(row[0]).hex()
