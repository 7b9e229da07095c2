"""CanDoCrypto: answered from what the provider's code itself checks.

Key types and sizes, and the asymmetric algorithms each key type performs, come from
`keys.KEY_SPECS`, the table key creation and the asymmetric operations enforce. Symmetric
algorithms are judged by the symmetric operations' own validation functions. An algorithm also
needs the provider to serve an opcode that performs it. So an answer cannot drift from
what a real request would do.

Semantics (Parsec's book and service): Success, or PsaErrorNotSupported for anything the
provider cannot do, including a key type the algorithm does not fit.
- Use: an existing key of this type (and size; key_bits 0 = any size) can perform the policy's
  algorithm. The algorithm must not be None and at least one usage flag that permits an
  operation must be set (Parsec asks the same).
- Generate / Import: a key with these attributes can be generated / imported; if the policy
  names an algorithm, the Use check too. Generation of a deprecated primitive counts as not
  supported unless core_settings.allow_deprecated is set (PsaGenerateKey would refuse it).
- Derive: the provider has no key derivation, so always NotSupported.
- A hash algorithm in the policy (an extension of ours: Parsec finds a hash compatible with no
  key type and answers NotSupported) asks whether PsaHashCompute / PsaHashCompare compute that
  hash. A hash needs no key, so the usage flags do not matter; the key type must still be one the
  provider knows (RawData will do). The answer comes from `crypto.HASHES`, the table the hash
  operations, signatures and HMAC use.
"""

from __future__ import annotations

from collections.abc import Iterable

from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CanDoCryptoRequest, CheckType, EmptyResult
from pqparsec.protocol.psa import (
    AeadAlg,
    Algorithm,
    CipherAlg,
    EncryptAlg,
    HashAlg,
    KeyAgreementAlg,
    KeyAttributes,
    MacAlg,
    NoAlgorithm,
    SignAlg,
    crypto,
)
from pqparsec.protocol.psa.policy import (
    check_aead_key,
    check_cipher_key,
    check_mac_key,
    deprecated_reason,
    not_supported,
)
from pqparsec.protocol.status import ParsecError
from pqparsec.service.identity import Identity
from pqparsec.service.providers.software import keys, pqc
from pqparsec.service.providers.software.base import SoftwareBase

# Usage flags that let a key take part in some operation.
_OPERATION_FLAGS = ("encrypt", "decrypt", "sign_message", "verify_message", "sign_hash",
                    "verify_hash", "derive")

# Algorithm class -> the opcodes that perform it (any one is enough).
_OPCODES: tuple[tuple[type, tuple[Opcode, ...]], ...] = (
    (SignAlg, (Opcode.PSA_SIGN_HASH, Opcode.PSA_VERIFY_HASH, Opcode.PSA_SIGN_MESSAGE,
               Opcode.PSA_VERIFY_MESSAGE)),
    (EncryptAlg, (Opcode.PSA_ASYMMETRIC_ENCRYPT, Opcode.PSA_ASYMMETRIC_DECRYPT)),
    (KeyAgreementAlg, (Opcode.PSA_RAW_KEY_AGREEMENT,)),
    (AeadAlg, (Opcode.PSA_AEAD_ENCRYPT, Opcode.PSA_AEAD_DECRYPT)),
    (CipherAlg, (Opcode.PSA_CIPHER_ENCRYPT, Opcode.PSA_CIPHER_DECRYPT)),
    (MacAlg, (Opcode.PSA_MAC_COMPUTE, Opcode.PSA_MAC_VERIFY)),
    (HashAlg, (Opcode.PSA_HASH_COMPUTE, Opcode.PSA_HASH_COMPARE)),
)


class CapabilityOps(SoftwareBase):
    def can_do_crypto(self, app: Identity | None, req: CanDoCryptoRequest) -> EmptyResult:
        attrs = req.attributes
        # Attributes using anything of the extension are answered by pqc (None: nothing of it).
        verdict = pqc.pqc_capability(req.check_type, attrs)
        if verdict is not None:
            if not verdict:
                raise not_supported(f"the software provider cannot do this with "
                                    f"{attrs.key_type.describe()} keys")
            return EmptyResult()
        spec = keys.spec_of(attrs.key_type)
        if spec is None:
            raise not_supported(f"key type {attrs.key_type.describe()} is not supported")
        if attrs.key_bits and attrs.key_bits not in spec.sizes:
            raise not_supported(f"{attrs.key_type.describe()} keys of {attrs.key_bits} bits are "
                                f"not supported")
        if req.check_type == CheckType.USE:
            self._use_check(attrs)
        elif req.check_type == CheckType.GENERATE:
            if not spec.generate or not self.serves(Opcode.PSA_GENERATE_KEY):
                raise not_supported(f"{attrs.key_type.describe()} keys cannot be generated")
            reason = deprecated_reason(attrs)
            if reason and not self.limits.allow_deprecated:
                raise not_supported(f"{reason}: generation is refused")
            self._optional_use_check(attrs)
        elif req.check_type == CheckType.IMPORT:
            if not self.serves(Opcode.PSA_IMPORT_KEY):
                raise not_supported("keys cannot be imported")
            self._optional_use_check(attrs)
        else:
            raise not_supported("the software provider has no key derivation")
        return EmptyResult()

    def _optional_use_check(self, attrs: KeyAttributes) -> None:
        if not isinstance(attrs.algorithm, NoAlgorithm):
            self._use_check(attrs)

    def _use_check(self, attrs: KeyAttributes) -> None:
        alg = attrs.algorithm
        if isinstance(alg, NoAlgorithm):
            raise not_supported("the policy names no algorithm")
        if isinstance(alg, HashAlg):
            if not self._performs(alg) or alg.hash not in crypto.HASHES:
                raise not_supported(f"hash {alg.hash.name} is not supported")
            return
        if not any(getattr(attrs.usage, flag) for flag in _OPERATION_FLAGS):
            raise not_supported("the policy sets no usage flag that permits an operation")
        if not self._performs(alg):
            raise not_supported("the provider implements no operation for this algorithm")
        if isinstance(alg, (SignAlg, EncryptAlg, KeyAgreementAlg)):
            if not keys.algorithm_supported(attrs.key_type, alg):
                raise not_supported(f"{attrs.key_type.describe()} keys cannot perform this "
                                    f"algorithm here")
            return
        if not any(self._symmetric_ok(attrs, bits, alg) for bits in self._sizes_to_try(attrs)):
            raise not_supported(f"{attrs.key_type.describe()} keys cannot perform this algorithm "
                                f"here")

    def _performs(self, alg: Algorithm) -> bool:
        for cls, opcodes in _OPCODES:
            if isinstance(alg, cls):
                return any(self.serves(op) for op in opcodes)
        return False

    @staticmethod
    def _sizes_to_try(attrs: KeyAttributes) -> Iterable[int]:
        if attrs.key_bits:
            return (attrs.key_bits,)
        spec = keys.spec_of(attrs.key_type)
        sizes = spec.sizes if spec is not None else ()
        return sorted(sizes) if len(sizes) <= 16 else (0,)

    def _symmetric_ok(self, attrs: KeyAttributes, bits: int, alg: Algorithm) -> bool:
        # The symmetric operations' own checks (imported here: that module is another mixin's).
        from pqparsec.service.providers.software import symmetric as sym

        sized = KeyAttributes(attrs.key_type, bits, attrs.policy)
        try:
            if isinstance(alg, AeadAlg):
                check_aead_key(sized, alg)
                sym.check_aead_tag(alg)
            elif isinstance(alg, CipherAlg):
                check_cipher_key(sized, alg.mode)
            elif isinstance(alg, MacAlg):
                check_mac_key(sized, alg)
                sym.check_mac_alg(alg, self.limits.allow_deprecated)
            else:
                return False
        except ParsecError:
            return False
        return True
