"""The provider-agnostic suite: every test here runs against each configured provider.

`provider_service` is parametrised by provider. A provider whose back-end is missing on this
machine is skipped with the reason; tests skip an operation only when the provider's own
ListOpcodes / CanDoCrypto says it does not support it (see `require_opcode`).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support import ServiceProcess
from tpm.swtpm_helper import Swtpm, require_swtpm

from pqparsec.client import BasicClient
from pqparsec.protocol.opcodes import Opcode


def _tpm_table(tmp: str) -> Iterator[dict[str, object]]:
    """A swtpm with its state in the temp dir, for the session."""
    require_swtpm()
    swtpm = Swtpm(tmp).start()
    try:
        yield swtpm.table()
    finally:
        swtpm.stop()


def _pkcs11_table(tmp: str) -> dict[str, object]:
    """A private SoftHSM2 token in the temp dir; the service finds it through SOFTHSM2_CONF."""
    helpers = str(Path(__file__).resolve().parent.parent / "pkcs11")
    if helpers not in sys.path:
        sys.path.append(helpers)
    from softhsm_helper import SoftHsm  # skips the provider when SoftHSM2 is missing

    hsm = SoftHsm(tmp)
    return {**hsm.table(hsm.init_token("pqp-suite")), "__env__": hsm.env}


# provider name -> (config table factory, provider id). PKCS#11 joins here. A factory returns
# the [[provider]] table, or is a generator that starts a helper process (a simulator), yields
# the table and stops the helper when resumed; pytest.skip() in it skips the provider.
PROVIDERS: dict[str, tuple[Callable[[str], dict[str, object] | Iterator[dict[str, object]]],
                           int]] = {
    "software": (lambda tmp: {"provider_type": "MbedCrypto"}, 1),
    "tpm": (_tpm_table, 3),
    "pkcs11": (_pkcs11_table, 2),
}

_names = itertools.count()


@pytest.fixture(scope="session", params=sorted(PROVIDERS))
def provider_service(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    make_table, _ = PROVIDERS[request.param]
    tmp = str(tmp_path_factory.mktemp(f"prov-{request.param}"))
    made = make_table(tmp)
    helper = made if isinstance(made, Iterator) else None
    table = next(helper) if helper is not None else made
    assert isinstance(table, dict)
    env = table.pop("__env__", None)  # environment the service process needs (SOFTHSM2_CONF)
    svc = ServiceProcess(tmp, env=env, auth_type="Direct", admins=["admin"], providers=[table])
    try:
        svc.start()
        yield svc
    finally:
        svc.stop()
        if helper is not None:
            helper.close()


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
