"""The PKCS#11 provider (Parsec provider id 2, "Pkcs11"), driving a token through python-pkcs11.

Keys are token objects found by a random CKA_ID the key store records; hashing, DigestInfo and
(optionally) public-key operations happen here, everything needing a private or secret key
happens on the token. Each family of operations is a mixin in its own module.
"""

from __future__ import annotations

from pqparsec.protocol.opcodes import Opcode
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
    # AEAD and MAC only when the token has their mechanisms (Pkcs11Base.available_opcodes).
    supported_opcodes = frozenset({
        # key management (base.py, adopt.py)
        Opcode.PSA_GENERATE_KEY, Opcode.PSA_IMPORT_KEY, Opcode.PSA_DESTROY_KEY,
        Opcode.PSA_EXPORT_PUBLIC_KEY, Opcode.PSA_EXPORT_KEY, Opcode.ADOPT_KEY,
        Opcode.PSA_GENERATE_RANDOM,
        # signatures.py
        Opcode.PSA_SIGN_HASH, Opcode.PSA_VERIFY_HASH, Opcode.PSA_SIGN_MESSAGE,
        Opcode.PSA_VERIFY_MESSAGE,
        # asymmetric.py
        Opcode.PSA_ASYMMETRIC_ENCRYPT, Opcode.PSA_ASYMMETRIC_DECRYPT,
        # symmetric.py
        Opcode.PSA_AEAD_ENCRYPT, Opcode.PSA_AEAD_DECRYPT, Opcode.PSA_MAC_COMPUTE,
        Opcode.PSA_MAC_VERIFY,
        # capabilities.py
        Opcode.CAN_DO_CRYPTO,
    })

    @classmethod
    def from_config(cls, pc: ProviderConfig, config: Config, store: KeyStore,
                    limits: ServiceLimits) -> Pkcs11Provider:
        return cls(store, options.parse(pc, config), pc.name, limits)


__all__ = ["Pkcs11Provider"]
