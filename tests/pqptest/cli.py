"""Helpers of the CLI tests (and of the TPM PCR test of the `--pcr` option): run the installed
`pqparsec` executable and openssl."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

import pytest

from pqparsec.client import BasicClient


def pqparsec_executable() -> str:
    """The console script installed next to the interpreter running the tests (the venv's)."""
    exe = shutil.which("pqparsec", path=os.path.dirname(sys.executable))
    if exe is None:
        pytest.fail("the pqparsec console script is not installed in this environment")
    return exe


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


@dataclass
class Cli:
    """Runs `pqparsec --app-name <app> ARGS` against the test service."""

    exe: str
    endpoint: str
    app: str
    env: dict[str, str]

    def __call__(self, *args: str, app: str | None = "", check: bool = True,
                 stdin: str | bytes | None = None, env: dict[str, str] | None = None,
                 timeout: float = 120) -> Result:
        argv = [self.exe]
        chosen = self.app if app == "" else app
        if chosen is not None:
            argv += ["--app-name", chosen]
        argv += list(args)
        data = stdin.encode() if isinstance(stdin, str) else stdin
        proc = subprocess.run(argv, input=data, capture_output=True, timeout=timeout,
                              env={**self.env, **(env or {})})
        res = Result(proc.returncode, proc.stdout.decode(errors="replace"),
                     proc.stderr.decode(errors="replace"))
        if check and res.returncode != 0:
            raise AssertionError(f"{argv} exited with {res.returncode}\nstdout:\n{res.stdout}\n"
                                 f"stderr:\n{res.stderr}")
        assert "Traceback" not in res.stderr, res.stderr
        return res

    def client(self, app: str | None = None) -> BasicClient:
        return BasicClient(app_name=app or self.app, endpoint=self.endpoint, timeout=30)


def run_openssl(openssl: str, *args: str, stdin: bytes | None = None) -> str:
    proc = subprocess.run([openssl, *args], input=stdin, capture_output=True, timeout=60)
    assert proc.returncode == 0, f"openssl {' '.join(args)}: {proc.stderr.decode()}"
    return proc.stdout.decode(errors="replace")
