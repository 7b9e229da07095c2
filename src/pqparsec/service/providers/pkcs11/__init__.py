"""The PKCS#11 provider (Parsec provider id 2, "Pkcs11"), driving a token through python-pkcs11.

Keys are token objects found by a random CKA_ID the key store records; hashing, DigestInfo and
(optionally) public-key operations happen here, everything needing a private or secret key
happens on the token. Each family of operations is a mixin in its own module.
"""

from __future__ import annotations

from pqparsec.service.config import Config, ProviderConfig
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


__all__ = ["Pkcs11Provider"]
