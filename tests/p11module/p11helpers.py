"""Helpers of the PKCS#11 module tests."""

from __future__ import annotations

import hashlib
import shutil
import subprocess

import pytest

# Debian package of each consumer; a test skips with this stable reason when it is missing.
PACKAGES = {"pkcs11-tool": "opensc", "p11tool": "gnutls-bin", "openssl": "openssl",
            "ssh-keygen": "openssh-client", "ssh-agent": "openssh-client",
            "ssh-add": "openssh-client"}


def need(tool: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed (Debian package {PACKAGES[tool]})")
    return exe


def key_id(name: str) -> str:
    """The CKA_ID the module gives a key, in hex."""
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def run(cmd: list[str], env: dict[str, str], *, input: bytes | None = None,
        check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    res = subprocess.run(cmd, env=env, input=input if input is not None else b"",
                         capture_output=True, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"{cmd[0]} exited with {res.returncode}:\n"
                             f"{res.stdout.decode(errors='replace')}\n"
                             f"{res.stderr.decode(errors='replace')}")
    return res
