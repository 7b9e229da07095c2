"""Signatures: PsaSignHash/PsaVerifyHash and PsaSignMessage/PsaVerifyMessage.

The hash is always computed here and the token gets the raw mechanism: CKM_RSA_PKCS over a
DigestInfo we encode, CKM_RSA_PKCS_PSS over the hash, CKM_ECDSA over the hash (which returns
r||s, the PSA format). Tokens differ in which hash-and-sign mechanisms they have (SoftHSM has no
CKM_ECDSA_SHA256); the raw ones are everywhere. The raw PSA schemes map onto them directly:
RSA_PKCS1V15_SIGN_RAW is CKM_RSA_PKCS over the given bytes, ECDSA_ANY is CKM_ECDSA over them.

Checks and statuses are every provider's, in Parsec's order (policy.check_sign_request): usage
flag (sign_hash implies sign_message, verify_hash verify_message) and permitted algorithm
(NotPermitted), then the key type and a specific hash, raw schemes with the *Message operations
(InvalidArgument); a scheme the token cannot do (NotSupported); then a context string, signing
with a public key (InvalidArgument, policy.check_sign_input), then the input. RSA-PSS
uses a salt as long as the hash (shorter if the key has no room) and verifies with that same
salt length.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from pkcs11 import Mechanism, ObjectClass

from pqparsec.protocol.operations import (
    EmptyResult,
    PsaSignHashRequest,
    PsaSignMessageRequest,
    PsaVerifyHashRequest,
    PsaVerifyMessageRequest,
    SignatureResult,
)
from pqparsec.protocol.psa import Hash, SignAlg, SignKind, crypto
from pqparsec.protocol.psa.policy import (
    RAW_SIGN_KINDS,
    check_sign_hash_length,
    check_sign_input,
    check_sign_request,
    invalid_argument,
    invalid_signature,
)
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers.pkcs11 import formats
from pqparsec.service.providers.pkcs11.base import Pkcs11Base
from pqparsec.service.providers.pkcs11.caps import PKCS11_HASHES


class SignatureOps(Pkcs11Base):
    def _checked(self, app: Identity, key_name: str, alg: SignAlg, flag: str, op: str,
                 context: bytes, message: bool) -> KeyRecord:
        rec = self.load(app, key_name)
        check_sign_request(rec.attributes, alg, flag, op, message)
        self.caps.check_sign(alg)
        check_sign_input(rec.attributes, alg, flag, context)
        return rec

    @staticmethod
    def _mechanism(rec: KeyRecord, alg: SignAlg, data: bytes) -> tuple[Mechanism, Any, bytes]:
        """(mechanism, parameter, what the token signs) for `data`: a hash, or the raw input."""
        if alg.kind == SignKind.RSA_PKCS1V15_SIGN_RAW:
            return Mechanism.RSA_PKCS, None, data
        if alg.kind == SignKind.ECDSA_ANY:
            return Mechanism.ECDSA, None, data
        assert isinstance(alg.hash, Hash)
        if alg.kind == SignKind.RSA_PKCS1V15_SIGN:
            return Mechanism.RSA_PKCS, None, formats.digest_info(alg.hash, data)
        if alg.kind == SignKind.RSA_PSS:
            mech, mgf = PKCS11_HASHES[alg.hash]
            salt = crypto.pss_salt_length(rec.attributes.key_bits, alg.hash)
            return Mechanism.RSA_PKCS_PSS, (mech, mgf, salt), data
        return Mechanism.ECDSA, None, data

    def _sign(self, rec: KeyRecord, alg: SignAlg, hashed: bytes) -> bytes:
        self.need_login("signing")
        mech, param, data = self._mechanism(rec, alg, hashed)
        room = (rec.attributes.key_bits + 7) // 8 - 11
        if mech == Mechanism.RSA_PKCS and len(data) > room:
            raise invalid_argument(f"{len(data)} bytes are too long for PKCS#1 v1.5 padding with "
                                   f"a {rec.attributes.key_bits}-bit key (at most {room})")
        with self.session("signing") as s:
            key = self.require(s, rec, ObjectClass.PRIVATE_KEY)
            return bytes(key.sign(data, mechanism=mech, mechanism_param=param))

    def _verify(self, rec: KeyRecord, alg: SignAlg, hashed: bytes, signature: bytes) -> None:
        if alg.is_ecc and len(signature) != 2 * crypto.scalar_len(rec.attributes.key_bits):
            raise invalid_signature()
        if self.options.software_public_operations and alg.kind not in RAW_SIGN_KINDS:
            self._verify_in_software(rec, alg, hashed, signature)
            return
        mech, param, data = self._mechanism(rec, alg, hashed)
        with self.session("verifying") as s:
            key = self.require(s, rec, ObjectClass.PUBLIC_KEY)
            if not key.verify(data, signature, mechanism=mech, mechanism_param=param):
                raise invalid_signature()

    def _verify_in_software(self, rec: KeyRecord, alg: SignAlg, hashed: bytes,
                            signature: bytes) -> None:
        assert isinstance(alg.hash, Hash)
        h = formats.hash_algorithm(alg.hash)
        pub = self.public_key(rec)
        try:
            if isinstance(pub, rsa.RSAPublicKey):
                pad = padding.PKCS1v15() if alg.kind == SignKind.RSA_PKCS1V15_SIGN else \
                    padding.PSS(padding.MGF1(h), crypto.pss_salt_length(pub.key_size, alg.hash))
                pub.verify(signature, hashed, pad, Prehashed(h))
            else:
                pub.verify(crypto.ecdsa_raw_to_der(signature), hashed, ec.ECDSA(Prehashed(h)))
        except InvalidSignature:
            raise invalid_signature() from None

    def psa_sign_hash(self, app: Identity, req: PsaSignHashRequest) -> SignatureResult:
        rec = self._checked(app, req.key_name, req.alg, "sign_hash", "signing hashes",
                            req.context, message=False)
        check_sign_hash_length(req.alg, req.hash)
        return SignatureResult(self._sign(rec, req.alg, req.hash))

    def psa_verify_hash(self, app: Identity, req: PsaVerifyHashRequest) -> EmptyResult:
        rec = self._checked(app, req.key_name, req.alg, "verify_hash", "verifying hash signatures",
                            req.context, message=False)
        check_sign_hash_length(req.alg, req.hash)
        self._verify(rec, req.alg, req.hash, req.signature)
        return EmptyResult()

    def psa_sign_message(self, app: Identity, req: PsaSignMessageRequest) -> SignatureResult:
        rec = self._checked(app, req.key_name, req.alg, "sign_message", "signing messages",
                            req.context, message=True)
        assert isinstance(req.alg.hash, Hash)
        return SignatureResult(self._sign(rec, req.alg, formats.digest(req.alg.hash, req.message)))

    def psa_verify_message(self, app: Identity, req: PsaVerifyMessageRequest) -> EmptyResult:
        rec = self._checked(app, req.key_name, req.alg, "verify_message", "verifying messages",
                            req.context, message=True)
        assert isinstance(req.alg.hash, Hash)
        self._verify(rec, req.alg, formats.digest(req.alg.hash, req.message), req.signature)
        return EmptyResult()
