"""The provider-agnostic suite: every test here runs against each configured provider.

Which (provider, case) pairs exist is decided at collection, from the pinned tables in
`capabilities/` and never from a live answer: a test runs for a provider whose table says it
supports what the test needs, and the pairs a table says are unsupported get tests of their own
that the service refuses them over the socket. `test_pinned_capabilities.py` checks the tables
against the service's ListOpcodes and CanDoCrypto, so a provider that loses a capability fails
there and in the refusal tests instead of skipping. A provider whose back-end is missing on this
machine (SoftHSM2, swtpm) is skipped with the reason; nothing else here skips.

Markers (helpers in `capabilities`): `for_providers(pred)` keeps the providers whose table
satisfies `pred`; `per_provider(argnames, values, where, ids)` parametrises the test with the
(provider, value) pairs for which `where(table, value)` holds; `capabilities.needs.Needs` builds
both from what tests need, and the refusal test for the rest. Without any, a test runs for every
provider.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from capabilities import Pinned, pinned
from pqptest.service import ServiceProcess
from pqptest.softhsm import SoftHsm
from pqptest.swtpm import Swtpm, require_swtpm

from pqparsec.client import BasicClient


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
    hsm = SoftHsm(tmp)  # skips the provider when SoftHSM2 is missing
    return {**hsm.table(hsm.init_token("pqp-suite")), "__env__": hsm.env}


# provider name -> (config table factory, provider id). A factory returns the [[provider]] table,
# or is a generator that starts a helper process (a simulator), yields the table and stops the
# helper when resumed; pytest.skip() in it skips the provider. Each name has a pinned table,
# capabilities/pinned_<name>.py.
PROVIDERS: dict[str, tuple[Callable[[str], dict[str, object] | Iterator[dict[str, object]]],
                           int]] = {
    "software": (lambda tmp: {"provider_type": "MbedCrypto"}, 1),
    "tpm": (_tpm_table, 3),
    "pkcs11": (_pkcs11_table, 2),
}

_names = itertools.count()


class _Services:
    """One service per provider for the session, started when a test first needs it. A provider
    that cannot start (a skip: its back-end is missing; or an error) answers every later test
    the same way, without trying again."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.running: dict[str, tuple[ServiceProcess, Iterator[dict[str, object]] | None]] = {}
        self.failed: dict[str, BaseException] = {}

    def get(self, name: str) -> ServiceProcess:
        if name in self.failed:
            raise self.failed[name]
        if name not in self.running:
            try:
                self.running[name] = self._start(name)
            except BaseException as exc:  # pytest.skip() is a BaseException
                self.failed[name] = exc
                raise
        return self.running[name][0]

    def _start(self, name: str) -> tuple[ServiceProcess, Iterator[dict[str, object]] | None]:
        make_table, _ = PROVIDERS[name]
        tmp = str(self.tmp_path_factory.mktemp(f"prov-{name}"))
        made = make_table(tmp)
        helper = made if isinstance(made, Iterator) else None
        table = next(helper) if helper is not None else made
        assert isinstance(table, dict)
        env = table.pop("__env__", None)  # environment the service process needs (SOFTHSM2_CONF)
        svc = ServiceProcess(tmp, env=env, auth_type="Direct", admins=["admin"], providers=[table])
        try:
            svc.start()
        except BaseException:
            if helper is not None:
                helper.close()
            raise
        return svc, helper

    def close(self) -> None:
        for svc, helper in self.running.values():
            svc.stop()
            if helper is not None:
                helper.close()


@pytest.fixture(scope="session")
def provider_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Services]:
    services = _Services(tmp_path_factory)
    yield services
    services.close()


@pytest.fixture
def provider_service(provider: str, provider_services: _Services) -> ServiceProcess:
    """The service of the test's provider (`provider` is parametrised at collection)."""
    return provider_services.get(provider)


@pytest.fixture
def table(provider: str) -> Pinned:
    """The test's provider's pinned capabilities."""
    return pinned(provider)


@pytest.fixture
def client(provider_service: ServiceProcess) -> BasicClient:
    """A client with a fresh application name, so every test starts with no keys."""
    return provider_service.client(f"app-{next(_names)}")


def _value_id(value: Any) -> str:
    if isinstance(value, tuple):
        return "-".join(_value_id(v) for v in value)
    if hasattr(value, "describe"):
        return str(value.describe())
    if hasattr(value, "name") and not isinstance(value, str):
        return str(value.name)
    return str(value)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "provider" not in metafunc.fixturenames:
        return
    filters: list[Callable[[Pinned], bool]] = []
    cases: tuple[tuple[str, ...], Any, Callable[[Pinned, int, Any], bool], Any, Any] | None = None
    for mark in metafunc.definition.iter_markers("provider_cases"):
        argnames, values, where, ids, marks = mark.args
        if argnames is None:
            filters.append(where)
        elif cases is None:
            cases = (argnames, values, where, ids, marks)
        else:
            raise ValueError(f"{metafunc.definition.nodeid}: one per_provider() per test")
    rows = []
    for name in sorted(PROVIDERS):
        table = pinned(name)
        if not all(f(table) for f in filters):
            continue
        if cases is None:
            rows.append(pytest.param(name, id=name))
            continue
        argnames, values, where, ids, marks = cases
        for i, value in enumerate(values() if callable(values) else values):
            if not where(table, i, value):
                continue
            vid = ids(value) if callable(ids) else ids[i] if ids is not None else _value_id(value)
            args = value if len(argnames) > 1 else (value,)
            rows.append(pytest.param(name, *args, id=f"{name}-{vid}",
                                     marks=marks(table, value) if marks else ()))
    if not rows:
        # A test no provider gets would be reported as skipped: the tables make this static, so
        # it is an error in the test's selection.
        raise ValueError(f"{metafunc.definition.nodeid}: no provider's pinned table selects any "
                         f"case of this test")
    argnames_all = ["provider", *(cases[0] if cases else ())]
    metafunc.parametrize(argnames_all, rows)
