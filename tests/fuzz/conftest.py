from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fuzz.harness import FuzzEnv, InProcessService
from fuzz.seeds import client_requests, mock_vector_requests
from fuzz.store import make_pristine


@pytest.fixture(scope="session")
def fuzz_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzEnv]:
    """One in-process service for the fuzz targets, and the seed corpus recorded against it."""
    service = InProcessService(tmp_path_factory.mktemp("fuzz"))
    try:
        yield FuzzEnv(service, client_requests(service), mock_vector_requests())
    finally:
        service.close()


@pytest.fixture(scope="session")
def pristine_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stopped service's state directory holding fuzz.store.APP's keys (copied, never
    changed)."""
    return make_pristine(tmp_path_factory.mktemp("store"))
