"""Fixtures of the service-core suite: services started on demand and stopped at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pqptest.service import ServiceProcess


@pytest.fixture
def make_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., ServiceProcess]]:
    """make_service(start=True, tmp=None, **config) -> a ServiceProcess stopped at teardown.
    Defaults: Direct authenticator, admin "admin", listener timeout 1000 ms."""
    made: list[ServiceProcess] = []

    def make(start: bool = True, tmp: str | None = None, **config: Any) -> ServiceProcess:
        config.setdefault("auth_type", "Direct")
        config.setdefault("admins", ["admin"])
        svc = ServiceProcess(tmp or str(tmp_path_factory.mktemp("svc")), **config)
        made.append(svc)
        if start:
            svc.start()
        return svc

    yield make
    for svc in made:
        svc.stop()
