"""TPM provider tests: a real swtpm per module (state in a temp dir), a real `pqparsec serve`."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from pqptest.service import ServiceProcess
from pqptest.swtpm import Swtpm, missing_reason

from pqparsec.client import BasicClient

_names = itertools.count()


@pytest.fixture(scope="module")
def swtpm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Swtpm]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    tpm = Swtpm(str(tmp_path_factory.mktemp("swtpm"))).start()
    yield tpm
    tpm.stop()


@pytest.fixture(scope="module")
def tpm_service(swtpm: Swtpm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The TPM provider first, the software provider beside it (for cross-checks)."""
    svc = ServiceProcess(str(tmp_path_factory.mktemp("tpm-svc")), auth_type="Direct",
                         admins=["admin"],
                         providers=[swtpm.table(), {"provider_type": "MbedCrypto"}])
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture
def client(tpm_service: ServiceProcess) -> BasicClient:
    """A fresh application on the TPM provider."""
    return tpm_service.client(f"tpm-app-{next(_names)}", provider=3)


@pytest.fixture
def sw_client(client: BasicClient, tpm_service: ServiceProcess) -> BasicClient:
    """The same application on the software provider."""
    assert client.app_name is not None
    return tpm_service.client(client.app_name, provider=1)
