"""The PKCS#11 provider (Parsec provider id 2, "Pkcs11"), driving a token through python-pkcs11.

Keys are token objects found by a random CKA_ID the key store records; hashing, DigestInfo and
(optionally) public-key operations happen here, everything needing a private or secret key
happens on the token. Each family of operations is a mixin in its own module.
"""

from __future__ import annotations

from pqparsec.protocol.operations import (
    AdoptKeyRequest,
    CanDoCryptoRequest,
    EmptyResult,
    PsaGenerateKeyRequest,
    PsaImportKeyRequest,
)
from pqparsec.service.config import Config, ProviderConfig
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyStore
from pqparsec.service.providers.base import ServiceLimits
from pqparsec.service.providers.pkcs11 import options
from pqparsec.service.providers.pkcs11.adopt import AdoptOps
from pqparsec.service.providers.pkcs11.asymmetric import AsymmetricOps
from pqparsec.service.providers.pkcs11.capabilities import CapabilityOps
from pqparsec.service.providers.pkcs11.signatures import SignatureOps
from pqparsec.service.providers.pkcs11.symmetric import SymmetricOps


class Pkcs11Provider(CapabilityOps, SymmetricOps, AsymmetricOps, SignatureOps, AdoptOps):
    @classmethod
    def from_config(cls, pc: ProviderConfig, config: Config, store: KeyStore,
                    limits: ServiceLimits) -> Pkcs11Provider:
        return cls(store, options.parse(pc, config), pc.name, limits)

    # Keys bound to PCRs need a TPM: refused before the token is asked for anything, and
    # CanDoCrypto says so (KeyProvider.create refuses them on every other creating path).

    def psa_generate_key(self, app: Identity, req: PsaGenerateKeyRequest) -> EmptyResult:
        self.refuse_pcr_binding(req.attributes)
        return super().psa_generate_key(app, req)

    def psa_import_key(self, app: Identity, req: PsaImportKeyRequest) -> EmptyResult:
        self.refuse_pcr_binding(req.attributes)
        return super().psa_import_key(app, req)

    def adopt_key(self, app: Identity, req: AdoptKeyRequest) -> EmptyResult:
        self.refuse_pcr_binding(req.attributes)
        return super().adopt_key(app, req)

    def can_do_crypto(self, app: Identity, req: CanDoCryptoRequest) -> EmptyResult:
        self.refuse_pcr_binding(req.attributes)
        return super().can_do_crypto(app, req)


__all__ = ["Pkcs11Provider"]
