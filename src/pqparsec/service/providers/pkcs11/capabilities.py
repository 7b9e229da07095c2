"""Capability discovery: CanDoCrypto, answered from the token's declaration table (caps.py)."""

from __future__ import annotations

from pqparsec.protocol.operations import CanDoCryptoRequest, CheckType, EmptyResult
from pqparsec.protocol.psa import NoAlgorithm
from pqparsec.protocol.psa.policy import not_permitted, not_supported
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.providers.pkcs11.base import Pkcs11Base
from pqparsec.service.providers.pkcs11.caps import compatible


class CapabilityOps(Pkcs11Base):
    def can_do_crypto(self, app: Identity, req: CanDoCryptoRequest) -> EmptyResult:
        """Success, or PsaErrorNotPermitted when the algorithm does not fit the key type, or
        PsaErrorNotSupported for anything else this provider cannot do (Parsec's contract)."""
        attrs, check = req.attributes, req.check_type
        kt, alg = attrs.key_type, attrs.algorithm
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
        except ParsecError as exc:
            if exc.status == ResponseStatus.PSA_ERROR_NOT_PERMITTED:
                raise
            raise not_supported(str(exc)) from None
        return EmptyResult()
