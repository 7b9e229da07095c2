"""PSA key formats <-> `cryptography` key objects, and key generation.

Stored (wrapped) material uses the PSA export format of the key: RSA key pair = DER
RSAPrivateKey, ECC key pair = the private scalar (big-endian; Montgomery: little-endian as RFC
7748), public keys = what PsaExportPublicKey returns, symmetric keys = raw bytes.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x448, x25519

from pqparsec.protocol.psa import EccFamily, KeyAttributes, KeyKind, KeyType
from pqparsec.protocol.psa.policy import invalid_argument, not_supported

_DER = serialization.Encoding.DER
_RAW = serialization.Encoding.Raw

WEIERSTRASS: dict[tuple[EccFamily, int], type[ec.EllipticCurve]] = {
    (EccFamily.SECP_R1, 192): ec.SECP192R1,
    (EccFamily.SECP_R1, 224): ec.SECP224R1,
    (EccFamily.SECP_R1, 256): ec.SECP256R1,
    (EccFamily.SECP_R1, 384): ec.SECP384R1,
    (EccFamily.SECP_R1, 521): ec.SECP521R1,
    (EccFamily.SECP_K1, 256): ec.SECP256K1,
    (EccFamily.BRAINPOOL_P_R1, 256): ec.BrainpoolP256R1,
    (EccFamily.BRAINPOOL_P_R1, 384): ec.BrainpoolP384R1,
    (EccFamily.BRAINPOOL_P_R1, 512): ec.BrainpoolP512R1,
}
MONTGOMERY_BITS = {255: 32, 448: 56}
RSA_BITS = range(1024, 8193)
SYMMETRIC_BITS: dict[KeyKind, tuple[int, ...] | None] = {
    KeyKind.AES: (128, 192, 256),
    KeyKind.CHACHA20: (256,),
    KeyKind.HMAC: None,  # any whole number of bytes
    KeyKind.RAW_DATA: None,
    KeyKind.DERIVE: None,
}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey | \
    x448.X448PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | x25519.X25519PublicKey | \
    x448.X448PublicKey


def curve_for(kt: KeyType, bits: int) -> ec.EllipticCurve:
    assert kt.ecc_family is not None
    cls = WEIERSTRASS.get((kt.ecc_family, bits))
    if cls is None:
        raise not_supported(f"curve {kt.ecc_family.name} with {bits} bits is not supported")
    return cls()


def scalar_len(bits: int) -> int:
    return (bits + 7) // 8


def check_bits(attrs: KeyAttributes) -> None:
    """Reject sizes a key type cannot have (generation: key_bits must be set)."""
    kt, bits = attrs.key_type, attrs.key_bits
    if kt.is_rsa:
        if bits not in RSA_BITS or bits % 8:
            raise not_supported(f"RSA keys of {bits} bits are not supported (1024-8192)")
    elif kt.is_ecc:
        if kt.ecc_family == EccFamily.MONTGOMERY:
            if bits not in MONTGOMERY_BITS:
                raise not_supported(f"Montgomery curves have 255 or 448 bits, not {bits}")
        else:
            curve_for(kt, bits)
    elif kt.kind in SYMMETRIC_BITS:
        allowed = SYMMETRIC_BITS[kt.kind]
        if bits == 0 or bits % 8 or (allowed is not None and bits not in allowed):
            raise invalid_argument(f"{kt.kind.name} keys cannot have {bits} bits")
    else:
        raise not_supported(f"key type {kt.describe()} is not supported by the software provider")


def generate(attrs: KeyAttributes) -> bytearray:
    """New key material in the stored format."""
    kt, bits = attrs.key_type, attrs.key_bits
    if kt.is_public_key:
        raise invalid_argument("a public key cannot be generated; generate the key pair")
    check_bits(attrs)
    if kt.kind == KeyKind.RSA_KEY_PAIR:
        key: PrivateKey = rsa.generate_private_key(65537, bits)
        return export_private(key, attrs)
    if kt.kind == KeyKind.ECC_KEY_PAIR:
        if kt.ecc_family == EccFamily.MONTGOMERY:
            key = x25519.X25519PrivateKey.generate() if bits == 255 else x448.X448PrivateKey.generate()
        else:
            key = ec.generate_private_key(curve_for(kt, bits))
        return export_private(key, attrs)
    return bytearray(os.urandom(bits // 8))


def export_private(key: PrivateKey, attrs: KeyAttributes) -> bytearray:
    if isinstance(key, rsa.RSAPrivateKey):
        return bytearray(key.private_bytes(_DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return bytearray(key.private_numbers().private_value.to_bytes(scalar_len(key.curve.key_size),
                                                                      "big"))
    return bytearray(key.private_bytes(_RAW, serialization.PrivateFormat.Raw,
                                       serialization.NoEncryption()))


def load_private(material: bytes | bytearray, attrs: KeyAttributes) -> PrivateKey:
    kt = attrs.key_type
    try:
        if kt.kind == KeyKind.RSA_KEY_PAIR:
            key = serialization.load_der_private_key(bytes(material), None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise invalid_argument("data is not an RSA private key")
            return key
        if kt.kind == KeyKind.ECC_KEY_PAIR:
            if kt.ecc_family == EccFamily.MONTGOMERY:
                if attrs.key_bits == 255 or (attrs.key_bits == 0 and len(material) == 32):
                    return x25519.X25519PrivateKey.from_private_bytes(bytes(material))
                return x448.X448PrivateKey.from_private_bytes(bytes(material))
            bits = attrs.key_bits or _ecc_bits_from_len(kt, len(material))
            if len(material) != scalar_len(bits):
                raise invalid_argument(f"private scalar of {len(material)} bytes for a "
                                       f"{bits}-bit curve")
            return ec.derive_private_key(int.from_bytes(material, "big"), curve_for(kt, bits))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise invalid_argument(f"key data is not a valid {kt.describe()}: {exc}") from None
    raise invalid_argument(f"{kt.describe()} is not a private key type")


def _ecc_bits_from_len(kt: KeyType, n: int) -> int:
    for (fam, bits) in WEIERSTRASS:
        if fam == kt.ecc_family and scalar_len(bits) == n:
            return bits
    raise invalid_argument(f"no {kt.ecc_family.name if kt.ecc_family else ''} curve has "
                           f"{n}-byte scalars")


def load_public(material: bytes | bytearray, attrs: KeyAttributes) -> PublicKey:
    """A public key from its PSA public format (public key types)."""
    kt = attrs.key_type
    data = bytes(material)
    try:
        if kt.kind == KeyKind.RSA_PUBLIC_KEY:
            key = serialization.load_der_public_key(_rsa_public_spki(data))
            assert isinstance(key, rsa.RSAPublicKey)
            return key
        if kt.kind == KeyKind.ECC_PUBLIC_KEY:
            if kt.ecc_family == EccFamily.MONTGOMERY:
                if len(data) == 32:
                    return x25519.X25519PublicKey.from_public_bytes(data)
                return x448.X448PublicKey.from_public_bytes(data)
            bits = attrs.key_bits or _ecc_bits_from_point_len(kt, len(data))
            return ec.EllipticCurvePublicKey.from_encoded_point(curve_for(kt, bits), data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise invalid_argument(f"key data is not a valid {kt.describe()}: {exc}") from None
    raise invalid_argument(f"{kt.describe()} is not a public key type")


def _ecc_bits_from_point_len(kt: KeyType, n: int) -> int:
    for (fam, bits) in WEIERSTRASS:
        if fam == kt.ecc_family and 1 + 2 * scalar_len(bits) == n:
            return bits
    raise invalid_argument(f"no curve of that family has {n}-byte uncompressed points")


def _rsa_public_spki(pkcs1: bytes) -> bytes:
    """Wrap a DER RSAPublicKey in a SubjectPublicKeyInfo so `cryptography` can load it."""
    alg_id = bytes.fromhex("300d06092a864886f70d0101010500")
    bitstring = b"\x03" + _der_len(len(pkcs1) + 1) + b"\x00" + pkcs1
    body = alg_id + bitstring
    return b"\x30" + _der_len(len(body)) + body


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def export_public(key: PrivateKey | PublicKey) -> bytes:
    pub: Any = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(pub, rsa.RSAPublicKey):
        return pub.public_bytes(_DER, serialization.PublicFormat.PKCS1)
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return pub.public_bytes(serialization.Encoding.X962,
                                serialization.PublicFormat.UncompressedPoint)
    return bytes(pub.public_bytes(_RAW, serialization.PublicFormat.Raw))


def key_size_bits(key: PrivateKey | PublicKey) -> int:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return key.key_size
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return key.curve.key_size
    if isinstance(key, (x25519.X25519PrivateKey, x25519.X25519PublicKey)):
        return 255
    return 448


def import_material(attrs: KeyAttributes, data: bytes) -> tuple[bytearray, int]:
    """Validate imported data; return the material to store and the key's size in bits."""
    kt = attrs.key_type
    if kt.is_key_pair and kt.kind != KeyKind.DH_KEY_PAIR:
        key = load_private(data, attrs)
        bits = key_size_bits(key)
        material = export_private(key, attrs)
    elif kt.is_public_key and kt.kind != KeyKind.DH_PUBLIC_KEY:
        pub = load_public(data, attrs)
        bits = key_size_bits(pub)
        material = bytearray(export_public(pub))
    elif kt.kind in SYMMETRIC_BITS:
        bits = len(data) * 8
        material = bytearray(data)
    else:
        raise not_supported(f"importing {kt.describe()} keys is not supported")
    if attrs.key_bits and attrs.key_bits != bits:
        raise invalid_argument(f"key_bits is {attrs.key_bits} but the key data has {bits} bits")
    check_bits(KeyAttributes(kt, bits, attrs.policy))
    return material, bits
