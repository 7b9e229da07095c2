"""The software provider (Parsec provider id 1, "MbedCrypto"), built on `cryptography`.

Keys live wrapped in the key store (see wrap.py): the mapping *is* the key, so creation is one
SQLite transaction and a failed create leaves nothing behind. Each family of operations is a
mixin in its own module; the provider is their sum, and serves what `supported_opcodes` lists.
The post-quantum and Edwards keys of the extension are the pqc/ package, which the operations
call for the key types and algorithms it handles.
"""

from __future__ import annotations

import os

from pqparsec.protocol.opcodes import Opcode
from pqparsec.service.config import Config, ConfigError, ProviderConfig
from pqparsec.service.key_store import KeyStore
from pqparsec.service.providers.base import ServiceLimits
from pqparsec.service.providers.software.asymmetric import AsymmetricOps
from pqparsec.service.providers.software.capabilities import CapabilityOps
from pqparsec.service.providers.software.kem import KemOps
from pqparsec.service.providers.software.signatures import SignatureOps
from pqparsec.service.providers.software.symmetric import SymmetricOps
from pqparsec.service.providers.software.wrap import load_or_create_kek


class SoftwareProvider(CapabilityOps, KemOps, SymmetricOps, AsymmetricOps, SignatureOps):
    supported_opcodes = frozenset({
        # key management, random numbers and hashes (base.py)
        Opcode.PSA_GENERATE_KEY, Opcode.PSA_IMPORT_KEY, Opcode.PSA_DESTROY_KEY,
        Opcode.PSA_EXPORT_PUBLIC_KEY, Opcode.PSA_EXPORT_KEY, Opcode.PSA_GENERATE_RANDOM,
        Opcode.PSA_HASH_COMPUTE, Opcode.PSA_HASH_COMPARE,
        # signatures.py
        Opcode.PSA_SIGN_HASH, Opcode.PSA_VERIFY_HASH, Opcode.PSA_SIGN_MESSAGE,
        Opcode.PSA_VERIFY_MESSAGE,
        # asymmetric.py
        Opcode.PSA_ASYMMETRIC_ENCRYPT, Opcode.PSA_ASYMMETRIC_DECRYPT, Opcode.PSA_RAW_KEY_AGREEMENT,
        # symmetric.py
        Opcode.PSA_AEAD_ENCRYPT, Opcode.PSA_AEAD_DECRYPT, Opcode.PSA_CIPHER_ENCRYPT,
        Opcode.PSA_CIPHER_DECRYPT, Opcode.PSA_MAC_COMPUTE, Opcode.PSA_MAC_VERIFY,
        # kem.py (extension opcodes)
        Opcode.PSA_ENCAPSULATE, Opcode.PSA_DECAPSULATE,
        # capabilities.py
        Opcode.CAN_DO_CRYPTO,
    })

    @classmethod
    def from_config(cls, pc: ProviderConfig, config: Config, store: KeyStore,
                    limits: ServiceLimits) -> SoftwareProvider:
        opts = dict(pc.options)
        kek_path = opts.pop("kek_path", None)
        if opts:
            raise ConfigError(f"{config.source}: [[provider]] {pc.provider_type}: unknown key(s) "
                              f"{', '.join(sorted(opts))}")
        if kek_path is None:
            kek_path = os.path.join(os.path.dirname(store.path), "software-provider.kek")
        elif not isinstance(kek_path, str):
            raise ConfigError(f"{config.source}: [[provider]] kek_path: expected a string")
        elif not os.path.isabs(kek_path):
            kek_path = os.path.join(config.base_dir, kek_path)
        return cls(store, load_or_create_kek(kek_path), pc.name, limits)


__all__ = ["SoftwareProvider"]
