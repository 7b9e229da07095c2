"""What every provider shares: identity, scheduling hints, and the key-store bookkeeping that
makes key creation atomic and keeps applications apart.

The operations themselves, and the declaration of which ones a provider serves, are the contract
in contract.py (`Provide`), which `Provider` extends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from pqparsec.protocol.ids import DEFAULT_PROVIDER_NAMES, PROVIDER_UUIDS, ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import ProviderInfo
from pqparsec.protocol.psa import KeyAttributes
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord, KeyStore
from pqparsec.service.providers.contract import Provide

log = logging.getLogger(__name__)

VENDOR = "pqparsec"


@dataclass(frozen=True)
class ServiceLimits:
    body_len_limit: int = 1 << 20
    buffer_size_limit: int = 1 << 20
    allow_deprecated: bool = False


class Provider(Provide):
    provider_id: ProviderId
    description: str = ""
    version: tuple[int, int, int] = (0, 1, 0)
    # Opcodes cheap enough to run without an operation slot (no I/O, no crypto).
    inline_opcodes: frozenset[Opcode] = frozenset()
    # A provider whose back-end serialises (a TPM) brings its own request threads, so that
    # requests queued behind the back-end never hold the service's operation slots
    # (thread_pool_size).
    executor: Executor | None = None
    # Whether keys may be bound to platform state (the PcrBinding extension): only a provider
    # whose keys live in a TPM can enforce it.
    supports_pcr_binding: bool = False

    def __init__(self, name: str | None = None, limits: ServiceLimits | None = None) -> None:
        self.name = name or DEFAULT_PROVIDER_NAMES[self.provider_id]
        self.limits = limits or ServiceLimits()

    def runs_inline(self, opcode: Opcode, app: Identity | None, request: Any) -> bool:
        """Whether this request is cheap enough to run without taking one of the service's
        operation slots (thread_pool_size), so that it never waits behind slow operations."""
        return opcode in self.inline_opcodes

    @property
    def uuid(self) -> str:
        return PROVIDER_UUIDS[self.provider_id]

    def info(self) -> ProviderInfo:
        maj, mnr, rev = self.version
        return ProviderInfo(uuid=self.uuid, description=self.description, vendor=VENDOR,
                            version_maj=maj, version_min=mnr, version_rev=rev,
                            id=int(self.provider_id))

    def refuse_pcr_binding(self, attributes: KeyAttributes | None) -> None:
        """PsaErrorNotSupported for a PCR binding this provider cannot enforce: a key must never
        be created as if bound when nothing binds it."""
        if attributes is not None and attributes.pcr_binding is not None \
                and not self.supports_pcr_binding:
            raise ParsecError(ResponseStatus.PSA_ERROR_NOT_SUPPORTED,
                              f"{self.name} cannot bind keys to platform state (PCRs); only the "
                              "TPM provider can")

    def start(self) -> None:
        """Called once the service is assembled: open back-ends, check coherency."""

    def close(self) -> None:
        """Release back-end resources. Called on stop and on reload."""

    # Admin support used by the core provider (DeleteClient, ListKeys).
    def key_records(self, owner: Identity) -> list[KeyRecord]:
        return []

    def key_names(self, owner: Identity) -> list[str]:
        """The names of the owner's keys here, those with damaged mappings included."""
        return [r.key_name for r in self.key_records(owner)]

    def destroy_owned(self, owner: Identity, key_name: str) -> None:
        raise ParsecError(ResponseStatus.PSA_ERROR_NOT_SUPPORTED, "no keys on this provider")


class KeyProvider(Provider):
    """A provider with keys in a key store."""

    def __init__(self, store: KeyStore, name: str | None = None,
                 limits: ServiceLimits | None = None) -> None:
        super().__init__(name, limits)
        self.store = store

    def start(self) -> None:
        """Start-up coherency: drop mappings whose back-end key is gone, and say so. A provider
        whose mapping is the key itself keeps the default `backend_key_exists` and has nothing
        to check, so its mappings are not read: with 100,000 keys, reading and parsing them all
        made every worker start seconds later and stay about 10 MiB larger."""
        if type(self).backend_key_exists is KeyProvider.backend_key_exists:
            return
        for rec in self.store.prune(self.name, self.backend_key_exists):
            log.warning("%s: key %r of %s had no back-end key; mapping removed", self.name,
                        rec.key_name, rec.owner)

    def backend_key_exists(self, record: KeyRecord) -> bool:
        """Whether the back-end still holds a key (True where the mapping is the key)."""
        return True

    # -- lookups --------------------------------------------------------------------------------

    def load(self, owner: Identity, key_name: str) -> KeyRecord:
        """The caller's key on this provider. Another application's key, a key of another
        provider and a missing key all look the same: PsaErrorDoesNotExist."""
        rec = self.store.get(owner, key_name)
        if rec is None or rec.provider_name != self.name:
            raise ParsecError(ResponseStatus.PSA_ERROR_DOES_NOT_EXIST,
                              f"key {key_name!r} does not exist")
        return rec

    def key_records(self, owner: Identity) -> list[KeyRecord]:
        return self.store.keys_of(owner, self.name)

    def key_names(self, owner: Identity) -> list[str]:
        return self.store.key_names(owner, self.name)

    # -- creation and destruction ---------------------------------------------------------------

    def create(self, owner: Identity, key_name: str, attributes: KeyAttributes,
               make_key: Callable[[], bytes], drop_key: Callable[[bytes], None] | None = None) -> None:
        """Create a back-end key and its mapping, or neither.

        `make_key` creates the back-end key and returns its key id; `drop_key` removes it again if
        the mapping cannot be written (name taken meanwhile, storage failure)."""
        if not key_name:
            raise ParsecError(ResponseStatus.PSA_ERROR_INVALID_ARGUMENT, "empty key name")
        self.refuse_pcr_binding(attributes)  # whichever operation creates the key
        if self.store.exists(owner, key_name):
            raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS,
                              f"key {key_name!r} already exists")
        key_id = make_key()
        try:
            self.store.insert(KeyRecord(owner, key_name, self.provider_id, self.name, key_id,
                                        attributes))
        except BaseException:
            if drop_key is not None:
                try:
                    drop_key(key_id)
                except Exception:  # the mapping error is the one to report
                    log.exception("%s: could not remove back-end key after a failed create",
                                  self.name)
            raise

    def remove(self, owner: Identity, key_name: str,
               drop_key: Callable[[KeyRecord], None] | None = None) -> None:
        """Destroy a key: the back-end key first, then its mapping. A mapping whose attributes
        no longer decode (PsaErrorDataCorrupt) is removed on its own: nothing can use it, and its
        back-end key, if any, cannot be identified safely."""
        try:
            rec = self.load(owner, key_name)
        except ParsecError as exc:
            if exc.status != ResponseStatus.PSA_ERROR_DATA_CORRUPT:
                raise
            if self.store.provider_of(owner, key_name) != self.name:
                raise ParsecError(ResponseStatus.PSA_ERROR_DOES_NOT_EXIST,
                                  f"key {key_name!r} does not exist") from None
            log.warning("%s: the damaged mapping of key %r of %s is removed; a back-end key it "
                        "named, if any, stays", self.name, key_name, owner)
            self.store.delete(owner, key_name)
            return
        if drop_key is not None:
            drop_key(rec)
        self.store.delete(owner, key_name)

    def destroy_owned(self, owner: Identity, key_name: str) -> None:
        self.remove(owner, key_name, self.drop_backend_key)

    def drop_backend_key(self, record: KeyRecord) -> None:
        """Remove the back-end object of a key (nothing to do where the mapping is the key)."""
