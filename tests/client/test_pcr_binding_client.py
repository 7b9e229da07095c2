"""The client side of PCR bindings, without a service: a service that ignores the extension
field (a Rust Parsec service would) must not leave an unbound key behind as if it were bound;
a NotPermitted from a bound key reads as a platform state change."""

from __future__ import annotations

from typing import Any

import pytest

from pqparsec.client import BasicClient, NotPermitted, NotSupported, PlatformStateChanged, templates
from pqparsec.protocol import operations as ops
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.status import ResponseStatus

ECC = templates.ecc_signing(256)


class FakeService:
    """Stands in for BasicClient.call: remembers keys, drops or keeps PCR bindings."""

    def __init__(self, keeps_bindings: bool) -> None:
        self.keeps = keeps_bindings
        self.keys: dict[str, Any] = {}
        self.refuse_signing = False

    def call(self, opcode: Opcode, request: Any, provider: int | None = None) -> Any:
        if opcode == Opcode.PSA_GENERATE_KEY:
            attrs = request.attributes if self.keeps else \
                request.attributes.without_extension_fields()
            self.keys[request.key_name] = attrs
            return ops.EmptyResult()
        if opcode == Opcode.PSA_DESTROY_KEY:
            del self.keys[request.key_name]
            return ops.EmptyResult()
        if opcode == Opcode.PSA_SIGN_HASH and self.refuse_signing:
            raise NotPermitted(ResponseStatus.PSA_ERROR_NOT_PERMITTED, opcode.name)
        raise AssertionError(opcode)

    def list_keys(self, include_extensions: bool = False) -> list[ops.KeyInfo]:
        return [ops.KeyInfo(3, name, attrs) for name, attrs in self.keys.items()]


def fake_client(monkeypatch: pytest.MonkeyPatch, service: FakeService) -> BasicClient:
    client = BasicClient(app_name="fake", endpoint="unix:/nonexistent")
    monkeypatch.setattr(client, "call", service.call)
    monkeypatch.setattr(client, "list_keys", service.list_keys)
    monkeypatch.setattr(client, "_forget_labels", lambda name: None)
    return client


def test_a_binding_the_service_ignored_is_not_left_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    service = FakeService(keeps_bindings=False)
    client = fake_client(monkeypatch, service)
    with pytest.raises(NotSupported, match="ignored the PCR binding"):
        client.generate_key("k", ECC, pcrs=[7])
    assert service.keys == {}
    client.generate_key("plain", ECC)  # no binding asked: nothing to check
    assert list(service.keys) == ["plain"]


def test_a_bound_key_refused_reads_as_a_platform_state_change(
        monkeypatch: pytest.MonkeyPatch) -> None:
    service = FakeService(keeps_bindings=True)
    client = fake_client(monkeypatch, service)
    client.generate_key("k", ECC, pcrs=[16, 7])
    service.refuse_signing = True
    with pytest.raises(PlatformStateChanged) as exc:
        client.sign("k", b"data")
    assert exc.value.status == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert "platform state changed" in exc.value.description
    # An unbound key refused is just NotPermitted.
    client.generate_key("plain", ECC)
    with pytest.raises(NotPermitted) as plain:
        client.sign("plain", b"data")
    assert not isinstance(plain.value, PlatformStateChanged)
