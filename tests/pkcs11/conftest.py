"""Fixtures for the PKCS#11 provider's own tests: SoftHSM2 tokens and services that use them."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pqptest.service import ServiceProcess
from pqptest.softhsm import SoftHsm, TokenInfo

_labels = itertools.count()


@pytest.fixture
def hsm(tmp_path: Path) -> SoftHsm:
    """A SoftHSM2 configuration with its own (empty) token directory."""
    return SoftHsm(str(tmp_path))


@pytest.fixture
def token(hsm: SoftHsm) -> TokenInfo:
    return hsm.init_token(f"pqp-{next(_labels)}")


@pytest.fixture
def make_service(hsm: SoftHsm, tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Services on this test's token directory and key store; stopped at the end."""
    started: list[ServiceProcess] = []

    def make(*tables: dict[str, Any], **config: Any) -> ServiceProcess:
        svc = ServiceProcess(str(tmp_path), env=hsm.env, auth_type="Direct", admins=["admin"],
                             providers=list(tables), **config)
        started.append(svc)
        return svc

    yield make
    for svc in started:
        svc.stop()
