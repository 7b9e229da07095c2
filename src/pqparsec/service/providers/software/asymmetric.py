"""Asymmetric encryption and key agreement: PsaAsymmetricEncrypt/Decrypt, PsaRawKeyAgreement.

Every operation checks, in Parsec's order: the usage flag (encrypt, decrypt, derive) and the
key's permitted algorithm (NotPermitted), that the key type fits the algorithm (InvalidArgument),
that the provider implements the combination (keys.KEY_SPECS, else NotSupported), then the input.

Status decisions where PSA leaves a choice (Mbed TLS, the engine of Parsec's software provider,
makes the same ones):
- a salt (the OAEP label) with PKCS#1 v1.5, which has none -> InvalidArgument;
- a plaintext too long for the key and padding, a ciphertext whose length is not the modulus
  size, decryption with a public key -> InvalidArgument;
- a ciphertext whose padding does not check out -> InvalidPadding. For PKCS#1 v1.5 this is the
  explicit answer PSA and Parsec define, not the implicit rejection OpenSSL now applies: like
  every PSA implementation, the service then tells whether the padding was right (Bleichenbacher's
  oracle); applications should prefer OAEP;
- key agreement: a peer key that is not a valid public key of our key's curve or group (wrong
  length, not on the curve, out of range), or whose shared secret is degenerate (X25519/X448
  small-order points) -> InvalidArgument.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import dh, ec, padding, rsa, x448, x25519

from pqparsec.protocol.operations import (
    CiphertextResult,
    PlaintextResult,
    PsaAsymmetricDecryptRequest,
    PsaAsymmetricEncryptRequest,
    PsaRawKeyAgreementRequest,
    PsaRawKeyAgreementResult,
)
from pqparsec.protocol.psa import EncryptAlg, EncryptKind, KeyAgreementAlg, KeyAttributes, crypto
from pqparsec.protocol.psa.policy import (
    check_asymmetric_crypt_request,
    check_encrypt_salt,
    check_key_agreement_request,
    invalid_argument,
    not_supported,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers.software import keys
from pqparsec.service.providers.software.base import SoftwareBase


def invalid_padding(msg: str) -> ParsecError:
    return ParsecError(ResponseStatus.PSA_ERROR_INVALID_PADDING, msg)


def oaep(alg: EncryptAlg, label: bytes) -> padding.OAEP:
    assert alg.hash is not None
    h = crypto.hash_algorithm(alg.hash)
    return padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=label or None)


def pkcs1v15_decrypt(key: rsa.RSAPrivateKey, ciphertext: bytes) -> bytes:
    """RSAES-PKCS1-v1_5 decryption that reports bad padding (pycryptodome, with a sentinel).

    OpenSSL (through `cryptography`) answers bad padding with a pseudo-random message instead;
    PSA's contract is PsaErrorInvalidPadding. pycryptodome is imported here, on first use, to keep
    it out of a service that never decrypts this way."""
    from Crypto.Cipher import PKCS1_v1_5
    from Crypto.PublicKey import RSA as PyRSA

    nums = key.private_numbers()
    pkey = PyRSA.construct((nums.public_numbers.n, nums.public_numbers.e, nums.d, nums.p, nums.q),
                           consistency_check=False)
    sentinel = object()
    out = PKCS1_v1_5.new(pkey).decrypt(ciphertext, sentinel)
    if out is sentinel or not isinstance(out, bytes):
        raise invalid_padding("the decrypted padding is not valid")
    return out


class AsymmetricOps(SoftwareBase):
    # -- encryption ----------------------------------------------------------------------------

    def _rsa_request(self, app: Identity, key_name: str, alg: EncryptAlg, salt: bytes, flag: str,
                     op: str) -> KeyRecord:
        rec = self.load(app, key_name)
        attrs = rec.attributes
        check_asymmetric_crypt_request(attrs, alg, flag, op)
        if not keys.algorithm_supported(attrs.key_type, alg):
            raise not_supported(f"{alg.kind.name} with {alg.hash.name if alg.hash else 'no hash'} "
                                f"is not supported by the software provider")
        check_encrypt_salt(alg, salt)
        return rec

    def psa_asymmetric_encrypt(self, app: Identity,
                               req: PsaAsymmetricEncryptRequest) -> CiphertextResult:
        rec = self._rsa_request(app, req.key_name, req.alg, req.salt, "encrypt",
                                "asymmetric encryption")
        pub = self.public_key(rec)
        assert isinstance(pub, rsa.RSAPublicKey)
        pad = padding.PKCS1v15() if req.alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT \
            else oaep(req.alg, req.salt)
        try:
            return CiphertextResult(pub.encrypt(req.plaintext, pad))
        except ValueError:
            raise invalid_argument(f"a plaintext of {len(req.plaintext)} bytes is too long for a "
                                   f"{pub.key_size}-bit key with {req.alg.kind.name}") from None

    def psa_asymmetric_decrypt(self, app: Identity,
                               req: PsaAsymmetricDecryptRequest) -> PlaintextResult:
        rec = self._rsa_request(app, req.key_name, req.alg, req.salt, "decrypt",
                                "asymmetric decryption")
        if not rec.attributes.key_type.is_key_pair:
            raise invalid_argument("a public key cannot decrypt")
        key = self.private_key(rec)
        assert isinstance(key, rsa.RSAPrivateKey)
        if len(req.ciphertext) != crypto.scalar_len(key.key_size):
            raise invalid_argument(f"the ciphertext has {len(req.ciphertext)} bytes; a "
                                   f"{key.key_size}-bit key takes {crypto.scalar_len(key.key_size)}")
        if req.alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
            try:
                return PlaintextResult(pkcs1v15_decrypt(key, req.ciphertext))
            except ValueError:  # not smaller than the modulus
                raise invalid_padding("the ciphertext is not valid for this key") from None
        try:
            return PlaintextResult(key.decrypt(req.ciphertext, oaep(req.alg, req.salt)))
        except ValueError:
            raise invalid_padding("the decrypted padding is not valid") from None

    # -- key agreement ---------------------------------------------------------------------------

    def psa_raw_key_agreement(self, app: Identity,
                              req: PsaRawKeyAgreementRequest) -> PsaRawKeyAgreementResult:
        rec = self.load(app, req.private_key_name)
        attrs = rec.attributes
        alg = KeyAgreementAlg(req.alg)
        check_key_agreement_request(attrs, req.alg, "key agreement")
        kt = attrs.key_type
        if not keys.algorithm_supported(kt, alg):
            raise not_supported(f"{req.alg.name} with {kt.describe()} keys is not supported")
        # The peer key is in PsaImportKey's format for our key's public type, and of our size.
        peer = crypto.load_public(req.peer_key, KeyAttributes(kt.public_type(), attrs.key_bits))
        if crypto.key_size_bits(peer) != attrs.key_bits:
            raise invalid_argument(f"the peer key has {crypto.key_size_bits(peer)} bits; ours has "
                                   f"{attrs.key_bits}")
        key = self.private_key(rec)
        try:
            secret = self._exchange(key, peer)
        except ValueError:
            raise invalid_argument("the peer key gives no valid shared secret") from None
        return PsaRawKeyAgreementResult(secret)

    @staticmethod
    def _exchange(key: crypto.PrivateKey, peer: crypto.PublicKey) -> bytes:
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(peer, ec.EllipticCurvePublicKey):
            return key.exchange(ec.ECDH(), peer)
        if isinstance(key, x25519.X25519PrivateKey) and isinstance(peer, x25519.X25519PublicKey):
            return key.exchange(peer)
        if isinstance(key, x448.X448PrivateKey) and isinstance(peer, x448.X448PublicKey):
            return key.exchange(peer)
        if isinstance(key, dh.DHPrivateKey) and isinstance(peer, dh.DHPublicKey):
            # PSA: g^xy mod p, big-endian, as long as the prime (leading zeros kept).
            return key.exchange(peer).rjust(crypto.scalar_len(key.key_size), b"\x00")
        raise invalid_argument("the peer key does not match the private key")
