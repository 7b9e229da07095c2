"""The core provider (id 0): service discovery and client administration."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from pqparsec import __version__
from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import (
    DeleteClientRequest,
    EmptyResult,
    KeyInfo,
    ListAuthenticatorsRequest,
    ListAuthenticatorsResult,
    ListClientsRequest,
    ListClientsResult,
    ListKeysRequest,
    ListKeysResult,
    ListOpcodesRequest,
    ListOpcodesResult,
    ListProvidersRequest,
    ListProvidersResult,
    PingRequest,
    PingResult,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.providers.base import KeyProvider, Provider

if TYPE_CHECKING:
    from pqparsec.service.authenticators import Authenticator

log = logging.getLogger(__name__)


def _version() -> tuple[int, int, int]:
    parts = [int(p) for p in __version__.split(".")[:3] if p.isdigit()]
    padded = [*parts, 0, 0, 0]
    return padded[0], padded[1], padded[2]


class CoreProvider(Provider):
    provider_id = ProviderId.CORE
    description = "Software provider that implements only administrative (i.e. no cryptographic) operations"
    supported_opcodes = frozenset({
        Opcode.PING, Opcode.LIST_PROVIDERS, Opcode.LIST_OPCODES, Opcode.LIST_AUTHENTICATORS,
        Opcode.LIST_KEYS, Opcode.LIST_CLIENTS, Opcode.DELETE_CLIENT,
    })
    # The admin opcodes are served but, as in Parsec, not listed.
    unlisted_opcodes = frozenset({Opcode.LIST_CLIENTS, Opcode.DELETE_CLIENT})
    inline_opcodes = frozenset({Opcode.PING, Opcode.LIST_PROVIDERS, Opcode.LIST_OPCODES,
                                Opcode.LIST_AUTHENTICATORS})

    def __init__(self, providers: Callable[[], list[Provider]], authenticator: Authenticator) -> None:
        super().__init__()
        self.version = _version()
        self._providers = providers
        self.authenticator = authenticator

    def crypto_providers(self) -> list[Provider]:
        return [p for p in self._providers() if p.provider_id != ProviderId.CORE]

    def ping(self, app: Identity | None, req: PingRequest) -> PingResult:
        return PingResult(1, 0)

    def list_providers(self, app: Identity | None, req: ListProvidersRequest) -> ListProvidersResult:
        return ListProvidersResult([p.info() for p in self.crypto_providers()] + [self.info()])

    def list_opcodes(self, app: Identity | None, req: ListOpcodesRequest) -> ListOpcodesResult:
        try:
            pid = ProviderId(req.provider_id)
        except ValueError:
            raise ParsecError(ResponseStatus.PROVIDER_DOES_NOT_EXIST,
                              f"provider id {req.provider_id} does not exist") from None
        for p in [*self.crypto_providers(), self]:
            if p.provider_id == pid:
                return ListOpcodesResult(p.listed_opcodes(req.include_extensions))
        raise ParsecError(ResponseStatus.PROVIDER_NOT_REGISTERED,
                          f"provider {pid.name} is not configured")

    def list_authenticators(self, app: Identity | None,
                            req: ListAuthenticatorsRequest) -> ListAuthenticatorsResult:
        return ListAuthenticatorsResult([self.authenticator.info()])

    def list_keys(self, app: Identity, req: ListKeysRequest) -> ListKeysResult:
        keys = []
        for p in self.crypto_providers():
            try:
                records = p.key_records(app)
            except ParsecError as exc:
                log.warning("ListKeys: provider %s skipped: %s", p.name, exc)
                continue
            # A Parsec client fails the whole answer on a value it does not know: keys whose type
            # or algorithm only our extension defines are listed only when asked for. A PCR
            # binding only qualifies a key a Parsec client can use: such a key is listed, with
            # the binding left out unless asked for (an old client sees the bytes Parsec sends).
            if req.include_extensions:
                keys += [KeyInfo(int(p.provider_id), r.key_name, r.attributes) for r in records]
            else:
                keys += [KeyInfo(int(p.provider_id), r.key_name,
                                 r.attributes.without_extension_fields())
                         for r in records if not r.attributes.is_extension]
        return ListKeysResult(keys)

    def list_clients(self, app: Identity | None, req: ListClientsRequest) -> ListClientsResult:
        names: set[str] = set()
        for p in self.crypto_providers():
            if isinstance(p, KeyProvider):
                names.update(p.store.clients(self.authenticator.auth_type))
        return ListClientsResult(sorted(names))

    def delete_client(self, app: Identity, req: DeleteClientRequest) -> EmptyResult:
        # As in the Rust service: best effort, Success even for a client with no keys.
        client = Identity(app.auth_type, req.client)
        for p in self.crypto_providers():
            for name in p.key_names(client):  # damaged mappings too: they are removed
                try:
                    p.destroy_owned(client, name)
                except ParsecError as exc:
                    log.warning("DeleteClient %s: key %s on %s not destroyed: %s", req.client,
                                name, p.name, exc)
        log.info("DeleteClient: client %r deleted by admin %r", req.client, app.name)
        return EmptyResult()
