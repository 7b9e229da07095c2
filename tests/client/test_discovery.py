"""Endpoint, authenticator and provider discovery; transport errors; threads."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pqptest.service import ServiceProcess

from pqparsec.client import (
    AuthenticationFailed,
    BasicClient,
    ClientConfigError,
    NotSupported,
    ParsecClientError,
    ServiceError,
    TransportError,
    templates,
)
from pqparsec.client.transport import DEFAULT_ENDPOINT
from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.status import ResponseStatus


def test_endpoint_from_argument_wins_over_environment(direct_service: ServiceProcess,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARSEC_SERVICE_ENDPOINT", "unix:/nonexistent/parsec.sock")
    c = BasicClient(endpoint=direct_service.endpoint)
    assert c.endpoint == direct_service.endpoint
    assert c.ping() == (1, 0)


def test_endpoint_from_environment(direct_service: ServiceProcess,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARSEC_SERVICE_ENDPOINT", direct_service.endpoint)
    c = BasicClient()
    assert c.endpoint == direct_service.endpoint
    assert c.ping() == (1, 0)


def test_default_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARSEC_SERVICE_ENDPOINT", raising=False)
    c = BasicClient()
    assert c.endpoint == DEFAULT_ENDPOINT == "unix:/run/parsec/parsec.sock"
    assert c.transport.path == "/run/parsec/parsec.sock"


def test_bad_endpoint_scheme() -> None:
    with pytest.raises(TransportError, match="unix:/path"):
        BasicClient(endpoint="tcp://localhost:1234")


def test_missing_socket_raises_transport_error(tmp_path: Path) -> None:
    c = BasicClient(endpoint=f"unix:{tmp_path}/none.sock", timeout=2)
    with pytest.raises(TransportError) as info:
        c.ping()
    assert isinstance(info.value, ParsecClientError)
    assert info.value.reason == f"no service socket at {tmp_path}/none.sock"
    assert info.value.endpoint == f"unix:{tmp_path}/none.sock"
    assert "is the service running?" in str(info.value)


def test_timeout_zero_means_wait_forever(direct_service: ServiceProcess) -> None:
    c = BasicClient(endpoint=direct_service.endpoint, timeout=0)
    assert c.timeout is None
    assert c.ping() == (1, 0)


def test_direct_authenticator_is_discovered(client: BasicClient) -> None:
    assert client.auth_type == AuthType.DIRECT
    assert client.application == f"direct-{client.app_name}"
    client.generate_key("k", templates.ecc_signing())
    assert [k.name for k in client.list_keys()] == ["k"]


def test_direct_without_app_name_is_a_config_error(direct_service: ServiceProcess) -> None:
    c = BasicClient(endpoint=direct_service.endpoint)
    assert c.ping() == (1, 0)  # unauthenticated operations still work
    assert c.generate_random(4)
    with pytest.raises(ClientConfigError, match="application name"):
        c.list_keys()
    with pytest.raises(ValueError):  # compatible with the earlier ValueError
        c.list_keys()


def test_default_provider_is_the_first_listed(client: BasicClient) -> None:
    first = client.list_providers()[0]
    assert client.provider == ProviderId(first.id) == ProviderId.MBED_CRYPTO


def test_provider_override(direct_service: ServiceProcess) -> None:
    c = BasicClient(app_name="prov-override", endpoint=direct_service.endpoint, provider=0)
    assert c.provider == ProviderId.CORE
    with pytest.raises(NotSupported) as info:
        c.generate_key("k", templates.ecc_signing())
    assert info.value.status == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    c.provider = 1
    c.generate_key("k", templates.ecc_signing())
    c.destroy_key("k")


def test_auth_type_override(direct_service: ServiceProcess) -> None:
    c = BasicClient(app_name="x", endpoint=direct_service.endpoint, auth_type=AuthType.NO_AUTH)
    with pytest.raises(AuthenticationFailed) as info:
        c.list_keys()
    assert info.value.status == ResponseStatus.NOT_AUTHENTICATED
    assert isinstance(info.value, ServiceError)


def test_context_manager(direct_service: ServiceProcess) -> None:
    with BasicClient(app_name="cm", endpoint=direct_service.endpoint) as c:
        assert c.ping() == (1, 0)
    assert c.ping() == (1, 0)  # one connection per request: nothing was closed for good


@pytest.fixture(scope="module")
def peercred_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(str(tmp_path_factory.mktemp("peercred")), auth_type="UnixPeerCredentials",
                         admins=[str(os.getuid())])
    svc.start()
    yield svc
    svc.stop()


def test_unix_peer_credentials_are_discovered(peercred_service: ServiceProcess,
                                              tmp_path: Path) -> None:
    c = BasicClient(endpoint=peercred_service.endpoint, labels_dir=tmp_path)
    assert c.auth_type == AuthType.UNIX_PEER_CREDENTIALS
    assert c.application == f"uid-{os.getuid()}"
    c.generate_key("peer-key", templates.ecc_signing())
    try:
        assert "peer-key" in [k.name for k in c.list_keys()]
        assert str(os.getuid()) in c.list_clients()  # our uid is the admin here
        # An app name is irrelevant under peer credentials: the uid is the identity.
        other = BasicClient(app_name="whoever", endpoint=peercred_service.endpoint)
        assert "peer-key" in [k.name for k in other.list_keys()]
    finally:
        c.destroy_key("peer-key")


def test_one_client_many_threads(client: BasicClient) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(i: int) -> None:
        try:
            start.wait()
            name = f"t{i}"
            client.generate_key(name, templates.ecc_signing())
            sig = client.sign(name, b"data %d" % i)
            client.verify(name, b"data %d" % i, sig)
            client.destroy_key(name)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert client.list_keys() == []


def test_discovery_is_done_once_under_concurrency(direct_service: ServiceProcess) -> None:
    c = BasicClient(app_name="disc", endpoint=direct_service.endpoint)
    seen: list[tuple[ProviderId, AuthType]] = []
    start = threading.Barrier(6)

    def work() -> None:
        start.wait()
        seen.append((c.provider, c.auth_type))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert seen == [(ProviderId.MBED_CRYPTO, AuthType.DIRECT)] * 6
