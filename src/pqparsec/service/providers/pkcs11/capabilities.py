"""Capability discovery: CanDoCrypto, answered from the token's declaration table (caps.py) and
the checks the operations make, so that Success means the operation works."""

from __future__ import annotations

from pqparsec.protocol.operations import CanDoCryptoRequest, CheckType, EmptyResult
from pqparsec.protocol.psa import MacAlg, NoAlgorithm
from pqparsec.protocol.psa.policy import deprecated_reason, not_permitted, not_supported
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.providers.pkcs11.base import Pkcs11Base
from pqparsec.service.providers.pkcs11.caps import compatible


class CapabilityOps(Pkcs11Base):
    def can_do_crypto(self, app: Identity, req: CanDoCryptoRequest) -> EmptyResult:
        """Success, or PsaErrorNotPermitted when the algorithm does not fit the key type, or
        PsaErrorNotSupported for anything else this provider cannot do (Parsec's contract).

        As the software and TPM providers answer: generating a key with a deprecated primitive
        (a SHA-1 or MD5 policy) is not supported unless core_settings.allow_deprecated is set
        (PsaGenerateKey refuses it), nor is HMAC-SHA-1 for any check (PsaMacCompute refuses it);
        a MAC truncated to more bytes than it has, or fewer than 4, is not supported (the
        operation refuses it as InvalidArgument)."""
        attrs, check = req.attributes, req.check_type
        kt, alg = attrs.key_type, attrs.algorithm
        allow_deprecated = self.limits.allow_deprecated
        try:
            if check == CheckType.DERIVE:
                raise not_supported("the PKCS#11 provider does not derive keys")
            self.caps.check_key_type(attrs)
            if attrs.key_bits:
                self.caps.check_key(attrs)
            if check == CheckType.GENERATE and kt.is_public_key:
                raise not_supported("a public key cannot be generated")
            if check == CheckType.USE:
                if isinstance(alg, NoAlgorithm):
                    raise not_supported("a use check needs an algorithm")
                u = attrs.usage
                if not (u.encrypt or u.decrypt or u.sign_hash or u.sign_message or u.verify_hash
                        or u.verify_message):
                    raise not_supported("a use check needs a usage flag")
            if not isinstance(alg, NoAlgorithm):
                if not compatible(kt, alg):
                    raise not_permitted(f"the algorithm does not fit a {kt.describe()} key")
                self.caps.check_algorithm(alg)
                if isinstance(alg, MacAlg):
                    self.caps.check_mac_not_deprecated(alg, allow_deprecated)
            reason = deprecated_reason(attrs)
            if check == CheckType.GENERATE and reason and not allow_deprecated:
                raise not_supported(f"{reason}: generation is refused")
        except ParsecError as exc:
            if exc.status == ResponseStatus.PSA_ERROR_NOT_PERMITTED:
                raise
            raise not_supported(str(exc)) from None
        return EmptyResult()
