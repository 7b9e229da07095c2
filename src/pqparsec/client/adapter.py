"""Service-held keys as `cryptography` private keys.

`ServiceECPrivateKey` and `ServiceRSAPrivateKey` subclass cryptography's abstract private key
classes, so they can be passed where cryptography expects a private key for signing, e.g.
``x509.CertificateSigningRequestBuilder().sign(key, hashes.SHA256())`` or
``x509.CertificateBuilder().sign(...)``. Signing hashes locally and asks the service to sign the
hash (PsaSignHash); ECDH and RSA decryption also go to the service. The private key never leaves
it: `private_numbers()` and `private_bytes()` raise `KeyTypeError`.

The algorithm family comes from the key's policy (ECDSA vs deterministic ECDSA); the padding and
hash come from the caller, and the service enforces that they are permitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

try:
    from cryptography.hazmat.primitives.asymmetric.utils import NoDigestInfo
except ImportError:  # cryptography < 47 has no raw PKCS#1 v1.5 signing
    class NoDigestInfo:  # type: ignore[no-redef]
        pass

from pqparsec.client import keys
from pqparsec.client.errors import KeyTypeError
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import (
    KeyInfo,
    PsaAsymmetricDecryptRequest,
    PsaRawKeyAgreementRequest,
    PsaSignHashRequest,
)
from pqparsec.protocol.psa import (
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyKind,
    RawKeyAgreement,
    SignAlg,
    SignKind,
)

if TYPE_CHECKING:
    from pqparsec.client.basic import BasicClient


def _digest(data: bytes | bytearray | memoryview,
            algorithm: hashes.HashAlgorithm | Prehashed) -> tuple[Hash, bytes]:
    h = keys.psa_hash(algorithm)
    if isinstance(algorithm, Prehashed):
        if len(data) != algorithm.digest_size:
            raise ValueError(f"prehashed data has {len(data)} bytes, {h.name} produces "
                             f"{algorithm.digest_size}")
        return h, bytes(data)
    return h, keys.digest(h, bytes(data))


def _no_private_material(name: str) -> NoReturn:
    raise KeyTypeError(f"the private part of key {name!r} stays in the Parsec service")


class _ServiceKey:
    """What both adapters share: the client, the key's name, provider and attributes."""

    def __init__(self, client: BasicClient, key_name: str, info: KeyInfo) -> None:
        self.client = client
        self.key_name = key_name
        self.info = info

    def _call(self, opcode: Opcode, request: Any) -> Any:
        return self.client.call(opcode, request, provider=self.info.provider_id)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.key_name!r} in provider {self.info.provider_id}>"


class ServiceECPrivateKey(_ServiceKey, ec.EllipticCurvePrivateKey):
    """An ECC key pair held by the service (Weierstrass curves)."""

    def __init__(self, client: BasicClient, key_name: str, info: KeyInfo) -> None:
        kt = info.attributes.key_type
        if kt.kind != KeyKind.ECC_KEY_PAIR or kt.ecc_family == EccFamily.MONTGOMERY:
            raise KeyTypeError(f"key {key_name!r} is a {kt.describe()}, not an ECC key pair on a "
                               "Weierstrass curve")
        super().__init__(client, key_name, info)
        self._curve = keys.curve_for(kt.ecc_family, info.attributes.key_bits)
        pub = client.public_key(key_name, info=info)
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        self._public = pub

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._curve

    @property
    def key_size(self) -> int:
        return self._curve.key_size

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    def sign(self, data: bytes | bytearray | memoryview,
             signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise KeyTypeError(f"{type(signature_algorithm).__name__} is not supported; use ECDSA")
        h, digest = _digest(data, signature_algorithm.algorithm)
        policy = self.info.attributes.algorithm
        kind = policy.kind if isinstance(policy, SignAlg) and policy.is_ecc else SignKind.ECDSA
        alg = SignAlg(SignKind.ECDSA_ANY) if kind == SignKind.ECDSA_ANY else SignAlg(kind, h)
        raw = bytes(self._call(Opcode.PSA_SIGN_HASH,
                               PsaSignHashRequest(self.key_name, alg, digest)).signature)
        return keys.ecdsa_raw_to_der(raw)

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        peer = peer_public_key.public_bytes(serialization.Encoding.X962,
                                            serialization.PublicFormat.UncompressedPoint)
        return bytes(self._call(Opcode.PSA_RAW_KEY_AGREEMENT, PsaRawKeyAgreementRequest(
            RawKeyAgreement.ECDH, self.key_name, peer)).shared_secret)

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        _no_private_material(self.key_name)

    def private_bytes(self, encoding: serialization.Encoding,
                      format: serialization.PrivateFormat,
                      encryption_algorithm: serialization.KeySerializationEncryption) -> bytes:
        _no_private_material(self.key_name)

    def __copy__(self) -> ServiceECPrivateKey:
        return self  # an immutable handle

    def __deepcopy__(self, memo: dict[int, object]) -> ServiceECPrivateKey:
        return self


class ServiceRSAPrivateKey(_ServiceKey, rsa.RSAPrivateKey):
    """An RSA key pair held by the service."""

    def __init__(self, client: BasicClient, key_name: str, info: KeyInfo) -> None:
        kt = info.attributes.key_type
        if kt.kind != KeyKind.RSA_KEY_PAIR:
            raise KeyTypeError(f"key {key_name!r} is a {kt.describe()}, not an RSA key pair")
        super().__init__(client, key_name, info)
        pub = client.public_key(key_name, info=info)
        assert isinstance(pub, rsa.RSAPublicKey)
        self._public = pub

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def sign(self, data: bytes | bytearray | memoryview, padding: asym_padding.AsymmetricPadding,
             algorithm: hashes.HashAlgorithm | Prehashed | NoDigestInfo) -> bytes:
        if isinstance(algorithm, NoDigestInfo):
            if not isinstance(padding, asym_padding.PKCS1v15):
                raise KeyTypeError("NoDigestInfo signing needs PKCS#1 v1.5 padding")
            return bytes(self._call(Opcode.PSA_SIGN_HASH, PsaSignHashRequest(
                self.key_name, SignAlg(SignKind.RSA_PKCS1V15_SIGN_RAW), bytes(data))).signature)
        h, digest = _digest(data, algorithm)
        if isinstance(padding, asym_padding.PKCS1v15):
            kind = SignKind.RSA_PKCS1V15_SIGN
        elif isinstance(padding, asym_padding.PSS):
            salt = getattr(padding, "_salt_length", None)
            if not (salt is asym_padding.PSS.DIGEST_LENGTH or salt == h.digest_size):
                raise KeyTypeError("PSA's RSA-PSS uses a salt as long as the hash: use "
                                   "padding.PSS.DIGEST_LENGTH")
            kind = SignKind.RSA_PSS
        else:
            raise KeyTypeError(f"padding {padding.name} is not supported for signing")
        return bytes(self._call(Opcode.PSA_SIGN_HASH, PsaSignHashRequest(
            self.key_name, SignAlg(kind, h), digest)).signature)

    def decrypt(self, ciphertext: bytes, padding: asym_padding.AsymmetricPadding) -> bytes:
        salt = b""
        if isinstance(padding, asym_padding.PKCS1v15):
            alg = EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT)
        elif isinstance(padding, asym_padding.OAEP):
            alg = EncryptAlg(EncryptKind.RSA_OAEP, keys.psa_hash(padding.algorithm))
            salt = getattr(padding, "_label", None) or b""
        else:
            raise KeyTypeError(f"padding {padding.name} is not supported for decryption")
        return bytes(self._call(Opcode.PSA_ASYMMETRIC_DECRYPT, PsaAsymmetricDecryptRequest(
            self.key_name, alg, bytes(ciphertext), salt)).plaintext)

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        _no_private_material(self.key_name)

    def private_bytes(self, encoding: serialization.Encoding,
                      format: serialization.PrivateFormat,
                      encryption_algorithm: serialization.KeySerializationEncryption) -> bytes:
        _no_private_material(self.key_name)

    def __copy__(self) -> ServiceRSAPrivateKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> ServiceRSAPrivateKey:
        return self


ServicePrivateKey = ServiceECPrivateKey | ServiceRSAPrivateKey


def service_private_key(client: BasicClient, key_name: str,
                        info: KeyInfo | None = None) -> ServicePrivateKey:
    """The adapter that fits the key's type."""
    info = info or client.key_info(key_name)
    if info.attributes.key_type.kind == KeyKind.RSA_KEY_PAIR:
        return ServiceRSAPrivateKey(client, key_name, info)
    return ServiceECPrivateKey(client, key_name, info)
