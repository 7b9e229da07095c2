"""A swtpm (TPM 2.0 simulator) process for the tests: its state in a temp dir, on a free
localhost port pair (TPM commands on `port`, control on `port + 1`)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from typing import Any

import pytest


def missing_reason() -> str | None:
    """Why the TPM tests cannot run here, or None."""
    if shutil.which("swtpm") is None:
        return "swtpm is not installed (apt-get install swtpm swtpm-tools)"
    try:
        import tpm2_pytss  # noqa: F401
    except ImportError as exc:
        return f"tpm2-pytss is not usable ({exc}; pip install tpm2-pytss, needs libtss2-dev)"
    return None


def require_swtpm() -> None:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)


def free_port_pair() -> int:
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port >= 65535:
            continue
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free TCP port pair for swtpm")


class Swtpm:
    def __init__(self, tmpdir: str) -> None:
        self.tmpdir = tmpdir
        self.state = os.path.join(tmpdir, "swtpm-state")
        self.log_path = os.path.join(tmpdir, "swtpm.log")
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def tcti(self) -> str:
        return f"swtpm:host=127.0.0.1,port={self.port}"

    def table(self, **extra: Any) -> dict[str, Any]:
        """The [[provider]] table of a Tpm provider on this swtpm."""
        return {"provider_type": "Tpm", "tcti": self.tcti, "owner_hierarchy_auth": "", **extra}

    def start(self, timeout: float = 10.0) -> Swtpm:
        """Start (or start again, on the same port and state)."""
        os.makedirs(self.state, exist_ok=True)
        if not self.port:
            self.port = free_port_pair()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                ["swtpm", "socket", "--tpm2",
                 "--server", f"type=tcp,port={self.port},bindaddr=127.0.0.1",
                 "--ctrl", f"type=tcp,port={self.port + 1},bindaddr=127.0.0.1",
                 "--tpmstate", f"dir={self.state}", "--flags", "not-need-init,startup-clear"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"swtpm exited with {self.proc.returncode}: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"swtpm did not open port {self.port}: {self.log()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""
