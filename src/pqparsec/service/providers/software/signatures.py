"""Signatures: PsaSignHash/PsaVerifyHash and PsaSignMessage/PsaVerifyMessage."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)

from pqparsec.protocol.operations import (
    EmptyResult,
    PsaSignHashRequest,
    PsaSignMessageRequest,
    PsaVerifyHashRequest,
    PsaVerifyMessageRequest,
    SignatureResult,
)
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.psa.policy import (
    check_sign_hash_length,
    check_sign_request,
    invalid_argument,
    not_supported,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers.software import keys
from pqparsec.service.providers.software.base import SoftwareBase, hash_algorithm


class SignatureOps(SoftwareBase):
    def _sign(self, rec: KeyRecord, alg: SignAlg, data: bytes, prehashed: bool) -> bytes:
        if alg.kind == SignKind.RSA_PKCS1V15_SIGN_RAW or alg.kind == SignKind.ECDSA_ANY:
            raise not_supported(f"{alg.kind.name} is not supported by the software provider")
        if rec.attributes.key_type.is_public_key:
            raise invalid_argument("a public key cannot sign")
        assert isinstance(alg.hash, Hash)
        h = hash_algorithm(alg.hash)
        algo: hashes.HashAlgorithm | Prehashed = Prehashed(h) if prehashed else h
        key = self.private_key(rec)
        if isinstance(key, rsa.RSAPrivateKey):
            pad = padding.PKCS1v15() if alg.kind == SignKind.RSA_PKCS1V15_SIGN else \
                padding.PSS(padding.MGF1(h), padding.PSS.DIGEST_LENGTH)
            return key.sign(data, pad, algo)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            det = alg.kind == SignKind.DETERMINISTIC_ECDSA
            der = key.sign(data, ec.ECDSA(algo, deterministic_signing=det))
            r, s = decode_dss_signature(der)
            n = keys.scalar_len(key.curve.key_size)
            return r.to_bytes(n, "big") + s.to_bytes(n, "big")
        raise invalid_argument("this key type cannot sign")

    def _verify(self, rec: KeyRecord, alg: SignAlg, data: bytes, signature: bytes,
                prehashed: bool) -> None:
        if alg.kind == SignKind.RSA_PKCS1V15_SIGN_RAW or alg.kind == SignKind.ECDSA_ANY:
            raise not_supported(f"{alg.kind.name} is not supported by the software provider")
        assert isinstance(alg.hash, Hash)
        h = hash_algorithm(alg.hash)
        algo: hashes.HashAlgorithm | Prehashed = Prehashed(h) if prehashed else h
        pub = self.public_key(rec)
        bad = ParsecError(ResponseStatus.PSA_ERROR_INVALID_SIGNATURE, "signature is not valid")
        try:
            if isinstance(pub, rsa.RSAPublicKey):
                pad = padding.PKCS1v15() if alg.kind == SignKind.RSA_PKCS1V15_SIGN else \
                    padding.PSS(padding.MGF1(h), padding.PSS.AUTO)
                pub.verify(signature, data, pad, algo)
            elif isinstance(pub, ec.EllipticCurvePublicKey):
                n = keys.scalar_len(pub.curve.key_size)
                if len(signature) != 2 * n:
                    raise bad
                der = encode_dss_signature(int.from_bytes(signature[:n], "big"),
                                           int.from_bytes(signature[n:], "big"))
                pub.verify(der, data, ec.ECDSA(algo))
            else:
                raise invalid_argument("this key type cannot verify")
        except InvalidSignature:
            raise bad from None

    def psa_sign_hash(self, app: Identity, req: PsaSignHashRequest) -> SignatureResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "sign_hash", "signing hashes")
        check_sign_hash_length(req.alg, req.hash)
        return SignatureResult(self._sign(rec, req.alg, req.hash, prehashed=True))

    def psa_verify_hash(self, app: Identity, req: PsaVerifyHashRequest) -> EmptyResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "verify_hash", "verifying hash signatures")
        check_sign_hash_length(req.alg, req.hash)
        self._verify(rec, req.alg, req.hash, req.signature, prehashed=True)
        return EmptyResult()

    def psa_sign_message(self, app: Identity, req: PsaSignMessageRequest) -> SignatureResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "sign_message", "signing messages")
        return SignatureResult(self._sign(rec, req.alg, req.message, prehashed=False))

    def psa_verify_message(self, app: Identity, req: PsaVerifyMessageRequest) -> EmptyResult:
        rec = self.load(app, req.key_name)
        check_sign_request(rec.attributes, req.alg, "verify_message", "verifying messages")
        self._verify(rec, req.alg, req.message, req.signature, prehashed=False)
        return EmptyResult()
