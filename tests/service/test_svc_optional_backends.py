"""A back-end that no [[provider]] table names is not loaded: the service on the software provider
maps none of the TPM or PKCS#11 libraries, although this venv has both extras installed, and it
loads pycryptodome and slh-dsa only when an operation needs them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pqptest.service import ServiceProcess

BACKENDS = {"tpm2-pytss / libtss2": ("tss2", "tpm2_pytss"), "python-pkcs11": ("pkcs11",)}
ON_FIRST_USE = {"pycryptodome": ("/Crypto/",), "slh-dsa": ("/slhdsa/",)}


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    s = ServiceProcess(str(tmp_path_factory.mktemp("optional")), auth_type="Direct")
    s.start()
    yield s
    s.stop()


def mapped(svc: ServiceProcess, table: dict[str, tuple[str, ...]]) -> list[str]:
    assert svc.proc is not None
    maps = Path(f"/proc/{svc.proc.pid}/maps").read_text()
    return [name for name, needles in table.items() if any(n in maps for n in needles)]


def test_unconfigured_back_ends_are_not_loaded(svc: ServiceProcess) -> None:
    pytest.importorskip("pkcs11")  # the check means something only where the extras are installed
    pytest.importorskip("tpm2_pytss")
    assert svc.client("a").ping() == (1, 0)
    assert mapped(svc, BACKENDS) == []


def test_pycryptodome_and_slh_dsa_load_on_first_use(svc: ServiceProcess) -> None:
    assert svc.client("a").ping() == (1, 0)
    assert mapped(svc, ON_FIRST_USE) == []
    # sanity: the needles do find a library the service has loaded
    assert mapped(svc, {"cryptography": ("_rust.abi3.so",)}) == ["cryptography"]
