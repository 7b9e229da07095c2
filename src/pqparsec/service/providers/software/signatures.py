"""Signatures: PsaSignHash/PsaVerifyHash and PsaSignMessage/PsaVerifyMessage. The extension's
algorithms (ML-DSA, SLH-DSA, EdDSA) and requests with a context string are signed and verified
by pqc/, after the same checks in the same order (`_pqc_checked`).

Every operation checks, in Parsec's order: the usage flag (sign_hash also grants sign_message,
verify_hash also grants verify_message, as PSA says), that the key's policy permits the requested
algorithm (NotPermitted; a policy with the "any hash" wildcard permits the scheme with any
specific hash), that the key type fits the algorithm (InvalidArgument), then the input.

Status decisions where PSA leaves a choice (the same as Mbed TLS, the engine of Parsec's software
provider, except where noted):
- signing with a public key, the raw / "any" schemes with the *Message operations, a context
  string with a scheme that has none, a hash whose length does not match the algorithm's hash,
  an input too long for raw PKCS#1 v1.5 on this key, and a hash too large for RSA-PSS on this
  key -> InvalidArgument;
- a scheme, hash or curve not in keys.KEY_SPECS -> NotSupported;
- ECDSA_ANY signs the given bytes as ECDSA does a hash of any length (truncated to the curve
  order's bit length, X9.62 bits2int). The one input we cannot pass to OpenSSL is more than 64
  bytes on P-521 -> NotSupported;
- RSA-PSS signs with a salt as long as the hash (shorter when the key is too small for that),
  and verification requires that same salt length (PSA_ALG_RSA_PSS; PSA_ALG_RSA_PSS_ANY_SALT is
  not in Parsec's protocol);
- a signature that does not verify, including one of the wrong length -> InvalidSignature.
"""

from __future__ import annotations

import functools

# hmac.compare_digest, without the hmac module (see base.py)
from _operator import _compare_digest as compare_digest

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import NoDigestInfo, Prehashed

from pqparsec.protocol.operations import (
    EmptyResult,
    PsaSignHashRequest,
    PsaSignMessageRequest,
    PsaVerifyHashRequest,
    PsaVerifyMessageRequest,
    SignatureResult,
)
from pqparsec.protocol.psa import (
    CONTEXT_SIGN_KINDS,
    PREHASH_PQC_SIGN_KINDS,
    Hash,
    SignAlg,
    SignKind,
    crypto,
)
from pqparsec.protocol.psa.policy import (
    check_sign_hash_length,
    check_sign_input,
    check_sign_request,
    invalid_argument,
    invalid_signature,
    not_supported,
)
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers.software import keys, pqc
from pqparsec.service.providers.software.base import SoftwareBase

# Prehashed digests OpenSSL accepts for ECDSA, by length; ECDSA only uses the length.
_ECDSA_CARRIERS: tuple[tuple[int, type[hashes.HashAlgorithm]], ...] = (
    (28, hashes.SHA224), (32, hashes.SHA256), (48, hashes.SHA384), (64, hashes.SHA512))

HashChoice = hashes.HashAlgorithm | Prehashed



def ecdsa_any_input(curve: ec.EllipticCurve, data: bytes) -> tuple[bytes, Prehashed]:
    """Recode ECDSA_ANY input as a digest of a length OpenSSL takes, with the same value.

    ECDSA uses the leftmost qlen bits of its input (X9.62 bits2int), qlen the bit length of the
    group order, which for every curve we support equals the curve's size. We compute that value
    e and lay it out in a D-byte carrier so that OpenSSL's own truncation gives back e."""
    qlen = curve.key_size
    e = int.from_bytes(data, "big")
    if 8 * len(data) > qlen:
        e >>= 8 * len(data) - qlen
    for size, cls in _ECDSA_CARRIERS:
        if 8 * size >= qlen:
            return (e << (8 * size - qlen)).to_bytes(size, "big"), Prehashed(cls())
    size, cls = _ECDSA_CARRIERS[-1]  # P-521: no 66-byte digest; OpenSSL will not truncate
    if e.bit_length() > 8 * size:
        raise not_supported(f"ECDSA_ANY on a {qlen}-bit curve supports inputs of at most "
                            f"{size} bytes")
    return e.to_bytes(size, "big"), Prehashed(cls())


@functools.cache
def _ecdsa_scheme(hash_alg: object, prehashed: bool, deterministic: bool) -> ec.ECDSA:
    """The `cryptography` ECDSA scheme of a specific hash, made once per combination (the objects
    are immutable; building them is a measurable part of a signature request)."""
    assert isinstance(hash_alg, Hash)
    h = crypto.hash_algorithm(hash_alg)
    return ec.ECDSA(Prehashed(h) if prehashed else h, deterministic_signing=deterministic)


class SignatureOps(SoftwareBase):
    # -- checks ------------------------------------------------------------------------------

    def _checked(self, app: Identity, key_name: str, alg: SignAlg, flag: str, op: str,
                 context: bytes, message: bool) -> KeyRecord:
        rec = self.load(app, key_name)
        attrs = rec.attributes
        check_sign_request(attrs, alg, flag, op, message)
        if not keys.algorithm_supported(attrs.key_type, alg):
            raise not_supported(f"{alg.kind.name} with {attrs.key_type.describe()} keys is not "
                                f"supported by the software provider")
        check_sign_input(attrs, alg, flag, context)
        return rec

    # -- the schemes --------------------------------------------------------------------------

    def sign_with(self, rec: KeyRecord, alg: SignAlg, data: bytes, prehashed: bool) -> bytes:
        """Sign `data` (a hash if `prehashed`, else the message) with the key of `rec`."""
        key = self.private_key(rec)
        try:
            if isinstance(key, rsa.RSAPrivateKey):
                return self._rsa_sign(key, alg, data, prehashed)
            if isinstance(key, ec.EllipticCurvePrivateKey):
                return self._ecdsa_sign(key, alg, data, prehashed)
        except ValueError as exc:  # input the key cannot take
            raise invalid_argument(f"{alg.kind.name}: {exc}") from None
        raise invalid_argument(f"{alg.kind.name} cannot be used with this key")

    def verify_with(self, rec: KeyRecord, alg: SignAlg, data: bytes, signature: bytes,
                    prehashed: bool) -> None:
        pub = self.public_key(rec)
        try:
            if isinstance(pub, rsa.RSAPublicKey):
                self._rsa_verify(pub, alg, data, signature, prehashed)
                return
            if isinstance(pub, ec.EllipticCurvePublicKey):
                self._ecdsa_verify(pub, alg, data, signature, prehashed)
                return
        except InvalidSignature:
            raise invalid_signature() from None
        raise invalid_argument(f"{alg.kind.name} cannot be used with this key")

    @staticmethod
    def _hash_choice(alg: SignAlg, prehashed: bool) -> tuple[hashes.HashAlgorithm, HashChoice]:
        assert isinstance(alg.hash, Hash)
        h = crypto.hash_algorithm(alg.hash)
        return h, (Prehashed(h) if prehashed else h)

    def _rsa_sign(self, key: rsa.RSAPrivateKey, alg: SignAlg, data: bytes, prehashed: bool) -> bytes:
        if alg.kind == SignKind.RSA_PKCS1V15_SIGN_RAW:
            # EMSA-PKCS1-v1_5 padding around the given bytes, no DigestInfo added.
            return key.sign(data, padding.PKCS1v15(), NoDigestInfo())
        h, choice = self._hash_choice(alg, prehashed)
        if alg.kind == SignKind.RSA_PSS:
            pss = padding.PSS(padding.MGF1(h), crypto.pss_salt_length(key.key_size, h))
            return key.sign(data, pss, choice)
        return key.sign(data, padding.PKCS1v15(), choice)

    def _rsa_verify(self, pub: rsa.RSAPublicKey, alg: SignAlg, data: bytes, signature: bytes,
                    prehashed: bool) -> None:
        if alg.kind == SignKind.RSA_PKCS1V15_SIGN_RAW:
            recovered = pub.recover_data_from_signature(signature, padding.PKCS1v15(), NoDigestInfo())
            if not compare_digest(recovered, data):
                raise InvalidSignature
            return
        h, choice = self._hash_choice(alg, prehashed)
        if alg.kind == SignKind.RSA_PSS:
            pss = padding.PSS(padding.MGF1(h), crypto.pss_salt_length(pub.key_size, h))
            pub.verify(signature, data, pss, choice)
        else:
            pub.verify(signature, data, padding.PKCS1v15(), choice)

    def _ecdsa_algorithm(self, curve: ec.EllipticCurve, alg: SignAlg, data: bytes,
                         prehashed: bool) -> tuple[bytes, ec.ECDSA]:
        if alg.kind == SignKind.ECDSA_ANY:
            data, carrier = ecdsa_any_input(curve, data)
            return data, ec.ECDSA(carrier)
        return data, _ecdsa_scheme(alg.hash, prehashed, alg.kind == SignKind.DETERMINISTIC_ECDSA)

    def _ecdsa_sign(self, key: ec.EllipticCurvePrivateKey, alg: SignAlg, data: bytes,
                    prehashed: bool) -> bytes:
        data, scheme = self._ecdsa_algorithm(key.curve, alg, data, prehashed)
        return crypto.ecdsa_der_to_raw(key.sign(data, scheme), key.curve.key_size)  # PSA's r || s

    def _ecdsa_verify(self, pub: ec.EllipticCurvePublicKey, alg: SignAlg, data: bytes,
                      signature: bytes, prehashed: bool) -> None:
        n = crypto.scalar_len(pub.curve.key_size)
        if len(signature) != 2 * n:
            raise InvalidSignature
        data, scheme = self._ecdsa_algorithm(pub.curve, alg, data, prehashed)
        pub.verify(crypto.ecdsa_raw_to_der(signature), data, scheme)

    # -- the extension's algorithms and context strings (pqc/) ---------------------------------

    def _pqc_checked(self, app: Identity, key_name: str, alg: SignAlg, context: bytes, flag: str,
                     op: str, prehashed: bool) -> KeyRecord:
        # The same checks in the same order as the classic ones, then the extension's own.
        rec = self.load(app, key_name)
        check_sign_request(rec.attributes, alg, flag, op)
        if len(context) > pqc.MAX_CONTEXT:
            raise invalid_argument(f"a context string has at most {pqc.MAX_CONTEXT} bytes")
        if context and alg.kind not in CONTEXT_SIGN_KINDS:
            raise invalid_argument(f"{alg.kind.name} takes no context string")
        if prehashed and alg.is_extension and alg.kind not in PREHASH_PQC_SIGN_KINDS:
            raise invalid_argument(f"{alg.kind.name} signs messages, not hashes: use "
                                   "PsaSignMessage / PsaVerifyMessage or a Hash- variant")
        return rec

    def _pqc_sign(self, app: Identity, key_name: str, alg: SignAlg, data: bytes, context: bytes,
                  flag: str, op: str, prehashed: bool) -> bytes:
        rec = self._pqc_checked(app, key_name, alg, context, flag, op, prehashed)
        if prehashed:
            check_sign_hash_length(alg, data)
        with self.material(rec) as m:
            return pqc.sign(rec.attributes, m, alg, data, prehashed, context)

    def _pqc_verify(self, app: Identity, key_name: str, alg: SignAlg, data: bytes,
                    signature: bytes, context: bytes, flag: str, op: str, prehashed: bool) -> None:
        rec = self._pqc_checked(app, key_name, alg, context, flag, op, prehashed)
        if prehashed:
            check_sign_hash_length(alg, data)
        with self.material(rec) as m:
            pqc.verify(rec.attributes, m, alg, data, signature, prehashed, context)

    # -- the operations: the extension's requests (pqc.handles_request) go to pqc/ ---------------

    def psa_sign_hash(self, app: Identity, req: PsaSignHashRequest) -> SignatureResult:
        if pqc.handles_request(req.alg, req.context):
            return SignatureResult(self._pqc_sign(app, req.key_name, req.alg, req.hash,
                                                  req.context, "sign_hash", "signing hashes",
                                                  prehashed=True))
        rec = self._checked(app, req.key_name, req.alg, "sign_hash", "signing hashes",
                            req.context, message=False)
        check_sign_hash_length(req.alg, req.hash)
        return SignatureResult(self.sign_with(rec, req.alg, req.hash, prehashed=True))

    def psa_verify_hash(self, app: Identity, req: PsaVerifyHashRequest) -> EmptyResult:
        if pqc.handles_request(req.alg, req.context):
            self._pqc_verify(app, req.key_name, req.alg, req.hash, req.signature, req.context,
                             "verify_hash", "verifying hash signatures", prehashed=True)
            return EmptyResult()
        rec = self._checked(app, req.key_name, req.alg, "verify_hash", "verifying hash signatures",
                            req.context, message=False)
        check_sign_hash_length(req.alg, req.hash)
        self.verify_with(rec, req.alg, req.hash, req.signature, prehashed=True)
        return EmptyResult()

    def psa_sign_message(self, app: Identity, req: PsaSignMessageRequest) -> SignatureResult:
        if pqc.handles_request(req.alg, req.context):
            return SignatureResult(self._pqc_sign(app, req.key_name, req.alg, req.message,
                                                  req.context, "sign_message", "signing messages",
                                                  prehashed=False))
        rec = self._checked(app, req.key_name, req.alg, "sign_message", "signing messages",
                            req.context, message=True)
        return SignatureResult(self.sign_with(rec, req.alg, req.message, prehashed=False))

    def psa_verify_message(self, app: Identity, req: PsaVerifyMessageRequest) -> EmptyResult:
        if pqc.handles_request(req.alg, req.context):
            self._pqc_verify(app, req.key_name, req.alg, req.message, req.signature, req.context,
                             "verify_message", "verifying messages", prehashed=False)
            return EmptyResult()
        rec = self._checked(app, req.key_name, req.alg, "verify_message", "verifying messages",
                            req.context, message=True)
        self.verify_with(rec, req.alg, req.message, req.signature, prehashed=False)
        return EmptyResult()
