"""Service-held keys as `cryptography` private keys.

`ServiceECPrivateKey` and `ServiceRSAPrivateKey` subclass cryptography's abstract private key
classes, so they can be passed where cryptography expects a private key for signing, e.g.
``x509.CertificateSigningRequestBuilder().sign(key, hashes.SHA256())`` or
``x509.CertificateBuilder().sign(...)``. Signing hashes locally and asks the service to sign the
hash (PsaSignHash); ECDH and RSA decryption also go to the service. The private key never leaves
it: `private_numbers()` and `private_bytes()` raise `KeyTypeError`.

`ServiceEd25519PrivateKey`, `ServiceEd448PrivateKey` and `ServiceMLDSA{44,65,87}PrivateKey` do
the same for the schemes that sign the message itself (pqparsec protocol extension: PureEdDSA,
ML-DSA): `sign(data)` is PsaSignMessage, so ``builder.sign(key, None)`` makes an Ed25519 / Ed448
/ ML-DSA CSR or certificate with a key that stays in the service.

The algorithm family comes from the key's policy (ECDSA vs deterministic ECDSA); the padding and
hash come from the caller, and the service enforces that they are permitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, rsa
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
    PsaSignMessageRequest,
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


class _ServiceMessageSigner(_ServiceKey):
    """Keys whose scheme signs the message itself (PureEdDSA, ML-DSA): `sign` is PsaSignMessage
    with the algorithm of the key's policy (hedged or deterministic ML-DSA, as the key says)."""

    _what = ""
    _kinds: tuple[SignKind, ...] = ()

    def __init__(self, client: BasicClient, key_name: str, info: KeyInfo,
                 kind: KeyKind, bits: int, family: EccFamily | None = None) -> None:
        attrs = info.attributes
        kt = attrs.key_type
        if kt.kind != kind or attrs.key_bits != bits or kt.ecc_family != family:
            raise KeyTypeError(f"key {key_name!r} is a {attrs.key_bits}-bit {kt.describe()}, not "
                               f"an {self._what} key pair")
        policy = attrs.algorithm
        if not isinstance(policy, SignAlg) or policy.kind not in self._kinds:
            raise KeyTypeError(f"key {key_name!r} does not permit "
                               f"{' or '.join(k.name for k in self._kinds)} signatures")
        super().__init__(client, key_name, info)
        self._alg = policy
        self._public_key = client.public_key(key_name, info=info)

    def _sign_message(self, data: bytes | bytearray | memoryview,
                      context: bytes | bytearray | memoryview | None = None) -> bytes:
        return bytes(self._call(Opcode.PSA_SIGN_MESSAGE, PsaSignMessageRequest(
            self.key_name, self._alg, bytes(data), bytes(context or b""))).signature)

    def private_bytes(self, encoding: serialization.Encoding,
                      format: serialization.PrivateFormat,
                      encryption_algorithm: serialization.KeySerializationEncryption) -> bytes:
        _no_private_material(self.key_name)

    def private_bytes_raw(self) -> bytes:
        _no_private_material(self.key_name)

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Any:
        return self


_EDDSA = (SignKind.PURE_EDDSA,)
_ML_DSA = (SignKind.ML_DSA, SignKind.DETERMINISTIC_ML_DSA)  # pure ML-DSA, as X.509 uses it


class ServiceEd25519PrivateKey(_ServiceMessageSigner, ed25519.Ed25519PrivateKey):
    """An Ed25519 key pair held by the service (PureEdDSA, PsaSignMessage)."""

    _what, _kinds = "Ed25519", _EDDSA

    def __init__(self, client: BasicClient, key_name: str, info: KeyInfo) -> None:
        super().__init__(client, key_name, info, KeyKind.ECC_KEY_PAIR, 255,
                         EccFamily.TWISTED_EDWARDS)

    def public_key(self) -> ed25519.Ed25519PublicKey:
        assert isinstance(self._public_key, ed25519.Ed25519PublicKey)
        return self._public_key

    def sign(self, data: bytes | bytearray | memoryview) -> bytes:
        return self._sign_message(data)


class ServiceEd448PrivateKey(_ServiceMessageSigner, ed448.Ed448PrivateKey):
    """An Ed448 key pair held by the service (PureEdDSA, PsaSignMessage)."""

    _what, _kinds = "Ed448", _EDDSA

    def __init__(self, client: BasicClient, key_name: str, info: KeyInfo) -> None:
        super().__init__(client, key_name, info, KeyKind.ECC_KEY_PAIR, 448,
                         EccFamily.TWISTED_EDWARDS)

    def public_key(self) -> ed448.Ed448PublicKey:
        assert isinstance(self._public_key, ed448.Ed448PublicKey)
        return self._public_key

    def sign(self, data: bytes | bytearray | memoryview) -> bytes:
        return self._sign_message(data)


class _ServiceMLDSA(_ServiceMessageSigner):
    _kinds = _ML_DSA

    def sign(self, data: bytes | bytearray | memoryview,
             context: bytes | bytearray | memoryview | None = None) -> bytes:
        return self._sign_message(data, context)

    def sign_mu(self, mu: bytes | bytearray | memoryview) -> bytes:
        raise KeyTypeError("the service signs messages (or HashML-DSA hashes), not an external mu")


class ServiceMLDSA44PrivateKey(_ServiceMLDSA, mldsa.MLDSA44PrivateKey):
    """An ML-DSA-44 key pair held by the service (pure ML-DSA, PsaSignMessage)."""

    _what = "ML-DSA-44"

    def __init__(self, client: BasicClient, key_name: str, info: KeyInfo) -> None:
        super().__init__(client, key_name, info, KeyKind.ML_DSA_KEY_PAIR, 128)

    def public_key(self) -> mldsa.MLDSA44PublicKey:
        assert isinstance(self._public_key, mldsa.MLDSA44PublicKey)
        return self._public_key


class ServiceMLDSA65PrivateKey(_ServiceMLDSA, mldsa.MLDSA65PrivateKey):
    """An ML-DSA-65 key pair held by the service (pure ML-DSA, PsaSignMessage)."""

    _what = "ML-DSA-65"

    def __init__(self, client: BasicClient, key_name: str, info: KeyInfo) -> None:
        super().__init__(client, key_name, info, KeyKind.ML_DSA_KEY_PAIR, 192)

    def public_key(self) -> mldsa.MLDSA65PublicKey:
        assert isinstance(self._public_key, mldsa.MLDSA65PublicKey)
        return self._public_key


class ServiceMLDSA87PrivateKey(_ServiceMLDSA, mldsa.MLDSA87PrivateKey):
    """An ML-DSA-87 key pair held by the service (pure ML-DSA, PsaSignMessage)."""

    _what = "ML-DSA-87"

    def __init__(self, client: BasicClient, key_name: str, info: KeyInfo) -> None:
        super().__init__(client, key_name, info, KeyKind.ML_DSA_KEY_PAIR, 256)

    def public_key(self) -> mldsa.MLDSA87PublicKey:
        assert isinstance(self._public_key, mldsa.MLDSA87PublicKey)
        return self._public_key


ServicePrivateKey = (ServiceECPrivateKey | ServiceRSAPrivateKey | ServiceEd25519PrivateKey
                     | ServiceEd448PrivateKey | ServiceMLDSA44PrivateKey | ServiceMLDSA65PrivateKey
                     | ServiceMLDSA87PrivateKey)
_ML_DSA_ADAPTERS: dict[int, type[ServiceMLDSA44PrivateKey | ServiceMLDSA65PrivateKey
                                 | ServiceMLDSA87PrivateKey]] = {
    128: ServiceMLDSA44PrivateKey, 192: ServiceMLDSA65PrivateKey, 256: ServiceMLDSA87PrivateKey}


def service_private_key(client: BasicClient, key_name: str,
                        info: KeyInfo | None = None) -> ServicePrivateKey:
    """The adapter that fits the key's type."""
    info = info or client.key_info(key_name)
    kt, bits = info.attributes.key_type, info.attributes.key_bits
    if kt.kind == KeyKind.RSA_KEY_PAIR:
        return ServiceRSAPrivateKey(client, key_name, info)
    if kt.kind == KeyKind.ML_DSA_KEY_PAIR and bits in _ML_DSA_ADAPTERS:
        return _ML_DSA_ADAPTERS[bits](client, key_name, info)
    if kt.kind == KeyKind.ECC_KEY_PAIR and kt.ecc_family == EccFamily.TWISTED_EDWARDS:
        if bits == 448:
            return ServiceEd448PrivateKey(client, key_name, info)
        return ServiceEd25519PrivateKey(client, key_name, info)
    return ServiceECPrivateKey(client, key_name, info)
