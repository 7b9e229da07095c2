"""Fixtures of the post-quantum extension tests: one real `pqparsec serve` per session."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from pqptest.service import ServiceProcess

from pqparsec.client.pqc import PqcClient

_names = itertools.count()


@pytest.fixture(scope="session")
def pqc_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    tmp = str(tmp_path_factory.mktemp("pqc-svc"))
    svc = ServiceProcess(tmp, auth_type="Direct", admins=["admin"],
                         providers=[{"provider_type": "MbedCrypto"}])
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture
def pq(pqc_service: ServiceProcess) -> PqcClient:
    """A client with the extension operations and a fresh application (no keys)."""
    return PqcClient(app_name=f"pqc-{next(_names)}", endpoint=pqc_service.endpoint, timeout=60.0)
