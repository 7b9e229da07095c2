from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import ServiceProcess


@pytest.fixture(scope="module")
def direct_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """One service per test module: Direct authenticator, admin "admin", software provider."""
    tmp = tmp_path_factory.mktemp("svc")
    svc = ServiceProcess(str(tmp), auth_type="Direct", admins=["admin"])
    svc.start()
    yield svc
    svc.stop()
