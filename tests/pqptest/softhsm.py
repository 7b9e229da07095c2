"""SoftHSM2 tokens for tests: a private token directory and config per test directory.

The service gets the token through SOFTHSM2_CONF (see `SoftHsm.env`). Direct manipulation of a
token behind the service's back runs python-pkcs11 in a child process, so that the test process
never loads the module with one test's configuration and reuses it with another's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SOFTHSM_LIBS = ("/usr/lib/softhsm/libsofthsm2.so",
                "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
                "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
                "/usr/local/lib/softhsm/libsofthsm2.so")
USER_PIN = "1234"
SO_PIN = "5678"


def find_softhsm() -> tuple[str, str] | None:
    util = shutil.which("softhsm2-util")
    lib = next((p for p in SOFTHSM_LIBS if os.path.exists(p)), None)
    return (util, lib) if util and lib else None


def require_softhsm() -> tuple[str, str]:
    found = find_softhsm()
    if found is None:
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)")
    try:
        import pkcs11  # noqa: F401
    except ImportError:
        pytest.skip("python-pkcs11 is not installed")
    return found


@dataclass(frozen=True)
class TokenInfo:
    label: str
    serial: str
    slot: int


class SoftHsm:
    """A SoftHSM2 configuration with its own token directory."""

    def __init__(self, tmp: str) -> None:
        self.util, self.lib = require_softhsm()
        self.dir = Path(tmp)
        tokens = self.dir / "softhsm-tokens"
        tokens.mkdir(parents=True, exist_ok=True)
        self.conf = str(self.dir / "softhsm2.conf")
        Path(self.conf).write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n"
                                   "log.level = ERROR\n")
        self.env = {"SOFTHSM2_CONF": self.conf}

    def _util(self, *args: str) -> str:
        return subprocess.run([self.util, *args], check=True, capture_output=True, text=True,
                              env={**os.environ, **self.env}).stdout

    def init_token(self, label: str, pin: str = USER_PIN, so_pin: str = SO_PIN) -> TokenInfo:
        self._util("--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin)
        for t in self.tokens():
            if t.label == label:
                return t
        raise RuntimeError(f"token {label!r} not found after initialisation")

    def import_key(self, token: TokenInfo, pem_path: str, label: str, key_id: bytes,
                   pin: str = USER_PIN) -> None:
        """Provision a key pair from a PKCS#8 PEM file the way an operator does, with
        `softhsm2-util --import` (it creates the private and the public key object)."""
        self._util("--import", pem_path, "--token", token.label, "--label", label,
                   "--id", key_id.hex(), "--pin", pin)

    def tokens(self) -> list[TokenInfo]:
        out, slot, serial, found = self._util("--show-slots"), None, None, []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("Slot ") and line[5:].isdigit():
                slot = int(line[5:])
            elif line.startswith("Serial number:"):
                serial = line.split(":", 1)[1].strip()
            elif line.startswith("Label:") and slot is not None and serial:
                label = line.split(":", 1)[1].strip()
                if label:
                    found.append(TokenInfo(label, serial, slot))
        return found

    def table(self, token: TokenInfo, **overrides: Any) -> dict[str, Any]:
        """A [[provider]] table for `token` (selected by serial), with the user PIN."""
        table: dict[str, Any] = {"provider_type": "Pkcs11", "library_path": self.lib,
                                 "serial_number": token.serial, "user_pin": USER_PIN}
        table.update(overrides)
        return {k: v for k, v in table.items() if v is not None}

    def run(self, script: str, *args: str) -> Any:
        """Run python-pkcs11 `script` in a child process; it prints one JSON value."""
        prelude = ("import json, sys, pkcs11\n"
                   "from pkcs11 import Attribute, ObjectClass\n"
                   f"lib = pkcs11.lib({self.lib!r})\n")
        out = subprocess.run([sys.executable, "-c", prelude + script, *args], check=True,
                             capture_output=True, text=True, env={**os.environ, **self.env})
        return json.loads(out.stdout)

    def objects(self, token: TokenInfo, pin: str = USER_PIN) -> list[dict[str, Any]]:
        """The token's objects: class, CKA_ID (hex), label."""
        return list(self.run(
            "tok = next(lib.get_tokens(token_serial=sys.argv[1].encode()))\n"
            "with tok.open(user_pin=sys.argv[2]) as s:\n"
            "    print(json.dumps([{'class': o[Attribute.CLASS].name, 'id': o[Attribute.ID].hex(),\n"
            "                       'label': o[Attribute.LABEL]} for o in s.get_objects()]))\n",
            token.serial, pin))

    def private_objects(self, token: TokenInfo, pin: str = USER_PIN) -> list[dict[str, Any]]:
        """The token's private keys: CKA_ID (hex), CKA_EXTRACTABLE, CKA_SENSITIVE, CKA_PRIVATE."""
        return list(self.run(
            "tok = next(lib.get_tokens(token_serial=sys.argv[1].encode()))\n"
            "with tok.open(user_pin=sys.argv[2]) as s:\n"
            "    print(json.dumps([{'id': o[Attribute.ID].hex(),\n"
            "                       'extractable': o[Attribute.EXTRACTABLE],\n"
            "                       'sensitive': o[Attribute.SENSITIVE],\n"
            "                       'private': o[Attribute.PRIVATE]}\n"
            "                      for o in s.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})]))\n",
            token.serial, pin))

    def delete_objects(self, token: TokenInfo, key_id_hex: str, pin: str = USER_PIN) -> int:
        """Delete every object with CKA_ID `key_id_hex`, behind the service's back."""
        return int(self.run(
            "tok = next(lib.get_tokens(token_serial=sys.argv[1].encode()))\n"
            "with tok.open(rw=True, user_pin=sys.argv[2]) as s:\n"
            "    objs = list(s.get_objects({Attribute.ID: bytes.fromhex(sys.argv[3])}))\n"
            "    for o in objs:\n"
            "        o.destroy()\n"
            "print(len(objs))\n",
            token.serial, pin, key_id_hex))
