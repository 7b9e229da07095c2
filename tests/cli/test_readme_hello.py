"""The README's "Hello pqparsec" walkthrough, run as written against a real service."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from pqptest.service import ROOT, ServiceProcess


def _block(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```\w+\n(.*?)```", text, re.S)
    assert match, f"README has no {marker} block"
    return match.group(1)


def _service(tmp_path: Path) -> ServiceProcess:
    # The embedded default's authenticator: Unix peer credentials.
    return ServiceProcess(str(tmp_path), auth_type="UnixPeerCredentials").start()


def test_readme_cli_walkthrough(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    try:
        script = _block("hello-cli").replace(
            "export PARSEC_SERVICE_ENDPOINT=unix:$PWD/.pqparsec/parsec.sock",
            f"export PARSEC_SERVICE_ENDPOINT={svc.endpoint}")
        out = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "Service wire protocol version is 1.0." in out.stdout
        assert "Verified OK" in out.stdout
        assert "* hello (" in out.stdout
    finally:
        svc.stop()


def test_readme_python_example(tmp_path: Path) -> None:
    svc = _service(tmp_path)
    try:
        code = _block("hello-python")
        assert len(code.strip().splitlines()) <= 16
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60, env={**os.environ, "PARSEC_SERVICE_ENDPOINT": svc.endpoint})
        assert out.returncode == 0, out.stdout + out.stderr
        assert "signature verified outside the service" in out.stdout
        assert svc.client().list_keys() == []
    finally:
        svc.stop()
