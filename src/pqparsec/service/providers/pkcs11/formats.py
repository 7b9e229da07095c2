"""Encodings between PSA formats and PKCS#11 attributes: curve parameters, EC points, DigestInfo,
RSA integers. A few lines of DER, written out so the provider needs no ASN.1 library."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pqparsec.protocol.psa import EccFamily, Hash, crypto
from pqparsec.protocol.status import ParsecError, ResponseStatus

# SECP-R1 curves the provider offers: bits -> (named-curve OID, cryptography curve).
CURVES: dict[int, tuple[str, type[ec.EllipticCurve]]] = {
    256: ("1.2.840.10045.3.1.7", ec.SECP256R1),
    384: ("1.3.132.0.34", ec.SECP384R1),
    521: ("1.3.132.0.35", ec.SECP521R1),
}
ECC_FAMILIES = frozenset({EccFamily.SECP_R1})

# Hash OIDs for the DigestInfo of RSA PKCS#1 v1.5 signatures (RFC 8017 section 9.2 and NIST).
HASH_OIDS: dict[Hash, str] = {
    Hash.MD5: "1.2.840.113549.2.5",
    Hash.SHA_1: "1.3.14.3.2.26",
    Hash.SHA_224: "2.16.840.1.101.3.4.2.4",
    Hash.SHA_256: "2.16.840.1.101.3.4.2.1",
    Hash.SHA_384: "2.16.840.1.101.3.4.2.2",
    Hash.SHA_512: "2.16.840.1.101.3.4.2.3",
    Hash.SHA_512_224: "2.16.840.1.101.3.4.2.5",
    Hash.SHA_512_256: "2.16.840.1.101.3.4.2.6",
    Hash.SHA3_224: "2.16.840.1.101.3.4.2.7",
    Hash.SHA3_256: "2.16.840.1.101.3.4.2.8",
    Hash.SHA3_384: "2.16.840.1.101.3.4.2.9",
    Hash.SHA3_512: "2.16.840.1.101.3.4.2.10",
}


_HASH_CLASSES = {h: crypto.CRYPTOGRAPHY_HASHES[h] for h in HASH_OIDS}


def hash_algorithm(h: Hash) -> hashes.HashAlgorithm:
    """The `cryptography` hash of a PSA hash this provider signs with (see HASH_OIDS)."""
    return crypto.hash_algorithm(h, _HASH_CLASSES)


def digest(h: Hash, data: bytes) -> bytes:
    return crypto.digest(h, data, _HASH_CLASSES)


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + der_length(len(content)) + content


def der_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return der(0x06, bytes(body))


def ec_params(bits: int) -> bytes:
    """CKA_EC_PARAMS: the DER of the curve's named-curve OID."""
    return der_oid(CURVES[bits][0])


def curve(bits: int) -> ec.EllipticCurve:
    return CURVES[bits][1]()


def point_len(bits: int) -> int:
    return 1 + 2 * ((bits + 7) // 8)


def wrap_ec_point(point: bytes) -> bytes:
    """CKA_EC_POINT as PKCS#11 2.40 specifies it: a DER OCTET STRING around the point."""
    return der(0x04, point)


def unwrap_ec_point(value: bytes, bits: int) -> bytes:
    """The uncompressed point from CKA_EC_POINT, whether the token wrapped it in a DER OCTET
    STRING (as the standard says, and SoftHSM does) or returned it raw (as some tokens do). The
    two are told apart by length, which is known from the curve."""
    n = point_len(bits)
    if len(value) == n and value[0] == 0x04:
        return bytes(value)
    if len(value) > 2 and value[0] == 0x04:
        if value[1] < 0x80:
            start, length = 2, value[1]
        else:
            k = value[1] & 0x7F
            start, length = 2 + k, int.from_bytes(value[2:2 + k], "big")
        inner = value[start:]
        if length == len(inner) == n and inner[0] == 0x04:
            return bytes(inner)
    raise ParsecError(ResponseStatus.PSA_ERROR_COMMUNICATION_FAILURE,
                      f"the token returned a CKA_EC_POINT of {len(value)} bytes that is not an "
                      f"uncompressed {bits}-bit point")


def digest_info(h: Hash, digest: bytes) -> bytes:
    """The DER DigestInfo that RSA PKCS#1 v1.5 signs (with CKM_RSA_PKCS, which adds the padding)."""
    alg_id = der(0x30, der_oid(HASH_OIDS[h]) + b"\x05\x00")
    return der(0x30, alg_id + der(0x04, digest))


def int_bytes(value: int) -> bytes:
    """A PKCS#11 big integer: big-endian, no leading zeros."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def rsa_public(modulus: bytes, exponent: bytes) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(int.from_bytes(exponent, "big"),
                                int.from_bytes(modulus, "big")).public_key()
