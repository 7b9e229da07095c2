"""The provider-agnostic suite: every test here runs against each configured provider.

`provider_service` is parametrised by provider. A provider whose back-end is missing on this
machine is skipped with the reason; tests skip an operation only when the provider's own
ListOpcodes / CanDoCrypto says it does not support it (see `require_opcode`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from support import ServiceProcess

from pqparsec.client import BasicClient
from pqparsec.protocol.opcodes import Opcode

# provider name -> (config table factory, provider id). PKCS#11 and TPM join here.
PROVIDERS: dict[str, tuple[Callable[[str], dict[str, object]], int]] = {
    "software": (lambda tmp: {"provider_type": "MbedCrypto"}, 1),
}

_names = itertools.count()


@pytest.fixture(scope="session", params=sorted(PROVIDERS))
def provider_service(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    make_table, _ = PROVIDERS[request.param]
    tmp = str(tmp_path_factory.mktemp(f"prov-{request.param}"))
    svc = ServiceProcess(tmp, auth_type="Direct", admins=["admin"], providers=[make_table(tmp)])
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture
def client(provider_service: ServiceProcess) -> BasicClient:
    """A client with a fresh application name, so every test starts with no keys."""
    return provider_service.client(f"app-{next(_names)}")


@pytest.fixture
def require_opcode(client: BasicClient) -> Callable[[Opcode], None]:
    supported = set(client.list_opcodes(int(client.provider), include_extensions=True))

    def check(op: Opcode) -> None:
        if int(op) not in supported:
            pytest.skip(f"provider {client.provider.name} does not support {op.name}")
    return check
