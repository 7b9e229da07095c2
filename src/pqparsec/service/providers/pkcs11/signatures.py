"""Signatures: PsaSignHash/PsaVerifyHash and PsaSignMessage/PsaVerifyMessage.

The hash is always computed here and the token gets the raw mechanism: CKM_RSA_PKCS over a
DigestInfo we encode, CKM_RSA_PKCS_PSS over the hash, CKM_ECDSA over the hash (which returns
r||s, the PSA format). Tokens differ in which hash-and-sign mechanisms they have (SoftHSM has no
CKM_ECDSA_SHA256); the raw ones are everywhere.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pkcs11 import Mechanism, ObjectClass

from pqparsec.protocol.operations import (
    EmptyResult,
    PsaSignHashRequest,
    PsaSignMessageRequest,
    PsaVerifyHashRequest,
    PsaVerifyMessageRequest,
    SignatureResult,
)
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.psa.policy import check_sign_hash_length, check_sign_request, invalid_argument
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers.pkcs11 import formats
from pqparsec.service.providers.pkcs11.base import Pkcs11Base
from pqparsec.service.providers.pkcs11.caps import PKCS11_HASHES
from pqparsec.service.providers.software import keys
from pqparsec.service.providers.software.base import digest, hash_algorithm


def _bad_signature() -> ParsecError:
    return ParsecError(ResponseStatus.PSA_ERROR_INVALID_SIGNATURE, "signature is not valid")


class SignatureOps(Pkcs11Base):
    def _mechanism(self, alg: SignAlg, hashed: bytes) -> tuple[Mechanism, Any, bytes]:
        """(mechanism, parameter, data to give the token) for a signature over `hashed`."""
        assert isinstance(alg.hash, Hash)
        if alg.kind == SignKind.RSA_PKCS1V15_SIGN:
            return Mechanism.RSA_PKCS, None, formats.digest_info(alg.hash, hashed)
        if alg.kind == SignKind.RSA_PSS:
            mech, mgf = PKCS11_HASHES[alg.hash]
            return Mechanism.RSA_PKCS_PSS, (mech, mgf, alg.hash.digest_size), hashed
        return Mechanism.ECDSA, None, hashed

    def _sign(self, rec: KeyRecord, alg: SignAlg, hashed: bytes) -> bytes:
        self.caps.check_sign(alg)
        if rec.attributes.key_type.is_public_key:
            raise invalid_argument("a public key cannot sign")
        self.need_login("signing")
        mech, param, data = self._mechanism(alg, hashed)
        with self.session("signing") as s:
            key = self.require(s, rec, ObjectClass.PRIVATE_KEY)
            return bytes(key.sign(data, mechanism=mech, mechanism_param=param))

    def _verify(self, rec: KeyRecord, alg: SignAlg, hashed: bytes, signature: bytes) -> None:
        self.caps.check_sign(alg)
        assert isinstance(alg.hash, Hash)
        bits = rec.attributes.key_bits
        if alg.is_ecc and len(signature) != 2 * keys.scalar_len(bits):
            raise _bad_signature()
        if self.options.software_public_operations:
            self._verify_in_software(rec, alg, hashed, signature)
            return
        mech, param, data = self._mechanism(alg, hashed)
        with self.session("verifying") as s:
            key = self.require(s, rec, ObjectClass.PUBLIC_KEY)
            if not key.verify(data, signature, mechanism=mech, mechanism_param=param):
                raise _bad_signature()

    def _verify_in_software(self, rec: KeyRecord, alg: SignAlg, hashed: bytes,
                            signature: bytes) -> None:
        assert isinstance(alg.hash, Hash)
        h = hash_algorithm(alg.hash)
        pub = self.public_key(rec)
        try:
            if isinstance(pub, rsa.RSAPublicKey):
                pad = padding.PKCS1v15() if alg.kind == SignKind.RSA_PKCS1V15_SIGN else \
                    padding.PSS(padding.MGF1(h), padding.PSS.AUTO)
                pub.verify(signature, hashed, pad, Prehashed(h))
            else:
                n = len(signature) // 2
                der = encode_dss_signature(int.from_bytes(signature[:n], "big"),
                                           int.from_bytes(signature[n:], "big"))
                pub.verify(der, hashed, ec.ECDSA(Prehashed(h)))
        except InvalidSignature:
            raise _bad_signature() from None

    def psa_sign_hash(self, app: Identity, req: PsaSignHashRequest) -> SignatureResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "sign_hash", "signing hashes")
        check_sign_hash_length(req.alg, req.hash)
        return SignatureResult(self._sign(rec, req.alg, req.hash))

    def psa_verify_hash(self, app: Identity, req: PsaVerifyHashRequest) -> EmptyResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "verify_hash", "verifying hash signatures")
        check_sign_hash_length(req.alg, req.hash)
        self._verify(rec, req.alg, req.hash, req.signature)
        return EmptyResult()

    def psa_sign_message(self, app: Identity, req: PsaSignMessageRequest) -> SignatureResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "sign_message", "signing messages")
        self.caps.check_sign(req.alg)
        assert isinstance(req.alg.hash, Hash)
        return SignatureResult(self._sign(rec, req.alg, digest(req.alg.hash, req.message)))

    def psa_verify_message(self, app: Identity, req: PsaVerifyMessageRequest) -> EmptyResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "verify_message", "verifying messages")
        self.caps.check_sign(req.alg)
        assert isinstance(req.alg.hash, Hash)
        self._verify(rec, req.alg, digest(req.alg.hash, req.message), req.signature)
        return EmptyResult()
