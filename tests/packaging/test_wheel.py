"""The distribution as a user gets it: `python -m build` makes a wheel and an sdist; the wheel,
installed with its core dependencies only into a fresh venv outside the checkout, serves on the
embedded default and answers the installed CLI's ping; a config naming a back-end whose extra is
not installed refuses to start with one line that names the extra.

Needs PyPI (pip fetches setuptools for the build and the core dependencies for the venv)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = re.search(r'^__version__ = "([^"]+)"$',
                    (ROOT / "src/pqparsec/__init__.py").read_text(), re.M)
assert VERSION is not None
TIMEOUT = 600  # a cold pip cache downloads cryptography, protobuf, pycryptodome, ...


def run(*cmd: str | Path, cwd: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    # A clean environment: nothing may come from the checkout or the test venv.
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PARSEC_SERVICE_ENDPOINT")}
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=TIMEOUT, **kw)  # type: ignore[call-overload]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    res = run(sys.executable, "-m", "build", "--outdir", out, ROOT, cwd=out)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def core_venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv outside the checkout with the wheel and its core dependencies only."""
    venv = tmp_path_factory.mktemp("venv") / "v"
    assert ROOT not in venv.parents
    res = run(sys.executable, "-m", "venv", venv, cwd=venv.parent)
    assert res.returncode == 0, res.stderr
    (wheel,) = dist.glob("pqparsec-*.whl")
    # --only-binary: the core must install without a compiler or system development packages.
    res = run(venv / "bin/python", "-m", "pip", "install", "-q", "--only-binary", ":all:", wheel,
              cwd=venv.parent)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return venv


def test_build_makes_a_wheel_and_an_sdist(dist: Path) -> None:
    version = VERSION.group(1)
    (wheel,) = dist.glob(f"pqparsec-{version}-py3-none-any.whl")
    (sdist,) = dist.glob(f"pqparsec-{version}.tar.gz")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = z.read(f"pqparsec-{version}.dist-info/METADATA").decode()
    for needed in ("pqparsec/cli/serve.py", "pqparsec/py.typed",
                   "pqparsec/protocol/proto/psa_algorithm_pb2.py",
                   "pqparsec/protocol/proto/psa_algorithm.proto"):
        assert needed in names
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)
    # the back-ends are extras, not core requirements
    core = [line for line in meta.splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line]
    assert not any("pkcs11" in line or "tpm2-pytss" in line for line in core), core
    assert "Provides-Extra: pkcs11" in meta and "Provides-Extra: tpm" in meta
    assert "Provides-Extra: all" in meta
    with tarfile.open(sdist) as t:
        members = {m.split("/", 1)[1] for m in t.getnames() if "/" in m}
    assert {"LICENSE", "README.md", "pyproject.toml", "src/pqparsec/__init__.py"} <= members


def test_core_venv_has_no_back_end_packages(core_venv: Path) -> None:
    res = run(core_venv / "bin/python", "-c",
              "import importlib.util as u, pqparsec; print(pqparsec.__file__); "
              "print(u.find_spec('pkcs11'), u.find_spec('tpm2_pytss'))", cwd=core_venv)
    assert res.returncode == 0, res.stderr
    location, specs = res.stdout.splitlines()
    assert Path(location).is_relative_to(core_venv)  # the installed copy, not the checkout
    assert specs == "None None"


def test_installed_cli_reports_the_version(core_venv: Path) -> None:
    res = run(core_venv / "bin/pqparsec", "--version", cwd=core_venv)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"pqparsec, version {VERSION.group(1)}"


@pytest.fixture()
def served(core_venv: Path, tmp_path: Path) -> Iterator[str]:
    """The installed `pqparsec serve` on its embedded default, in a directory of its own."""
    proc = subprocess.Popen([core_venv / "bin/pqparsec", "serve"], cwd=tmp_path,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    sock = tmp_path / ".pqparsec" / "parsec.sock"
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the installed service did not create its socket"
            time.sleep(0.05)
        yield f"unix:{sock}"
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0]
    assert proc.returncode == 0, out


def test_installed_service_answers_the_installed_cli(core_venv: Path, served: str,
                                                     tmp_path: Path) -> None:
    cli = core_venv / "bin/pqparsec"
    deadline = time.monotonic() + 20
    while True:
        res = run(cli, "--endpoint", served, "ping", cwd=tmp_path)
        if res.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == "Service wire protocol version is 1.0."
    # the software provider and its key store work in the core install
    res = run(cli, "-q", "--endpoint", served, "create-ecc-key", "-k", "wheel-key", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    res = run(cli, "-q", "--endpoint", served, "list-keys", cwd=tmp_path)
    assert "wheel-key" in res.stdout, res.stdout + res.stderr


@pytest.mark.parametrize("provider, extra, host", [
    ("Tpm", "tpm", "libtss2-dev"),
    ("Pkcs11", "pkcs11", "softhsm2"),
])
def test_missing_extra_refuses_to_start_in_one_line(core_venv: Path, tmp_path: Path, provider: str,
                                                    extra: str, host: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""
[core_settings]
allow_root = true
[listener]
listener_type = "DomainSocket"
timeout = 200
socket_path = "{tmp_path}/parsec.sock"
[authenticator]
auth_type = "UnixPeerCredentials"
[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "{tmp_path}/kim.sqlite3"
[[provider]]
provider_type = "{provider}"
key_info_manager = "sqlite-manager"
""")
    res = run(core_venv / "bin/pqparsec", "serve", "--config", config, cwd=tmp_path)
    assert res.returncode == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert f"pip install 'pqparsec[{extra}]'" in lines[0] and host in lines[0], lines[0]
    assert f'provider_type "{provider}"' in lines[0] and str(config) in lines[0]
    assert not (tmp_path / "parsec.sock").exists()
