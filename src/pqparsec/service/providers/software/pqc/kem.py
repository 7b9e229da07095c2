"""Key encapsulation: ML-KEM and X-Wing (with its SHA3-256 combiner), and the keys a shared
secret may become."""

from __future__ import annotations

import dataclasses
import hashlib

from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from pqparsec.protocol.psa import (
    KemAlg,
    KemKind,
    KeyAttributes,
    KeyKind,
    KeyType,
)
from pqparsec.protocol.psa.policy import invalid_argument
from pqparsec.service.providers.software.pqc.keys import alg_compatible, public_from_material, xwing_expand
from pqparsec.service.providers.software.pqc.params import (
    CRYPTOGRAPHY_ML_KEM,
    ML_KEM,
    ML_KEM_SEED,
    SHARED_SECRET_LEN,
    XWING_CT,
    XWING_LABEL,
    ml_kem_512,
    ml_kem_512_expand,
)


def check_kem_key(kt: KeyType, alg: KemKind) -> None:
    if not alg_compatible(kt, KemAlg(alg)):
        raise invalid_argument(f"{alg.name} cannot be used with a {kt.describe()} key")


def encapsulate(attrs: KeyAttributes, material: bytes | bytearray, alg: KemKind) -> tuple[bytes, bytes]:
    """(shared secret, ciphertext) for the key's encapsulation key."""
    kt, bits = attrs.key_type, attrs.key_bits
    check_kem_key(kt, alg)
    pk = public_from_material(attrs, material)
    if kt.is_ml_kem:
        if bits == 512:
            ct, ss = ml_kem_512().encaps(pk)
            return bytes(ss), bytes(ct)
        ss, ct = CRYPTOGRAPHY_ML_KEM[bits][1].from_public_bytes(pk).encapsulate()
        return bytes(ss), bytes(ct)
    pk_m, pk_x = pk[:1184], pk[1184:]
    eph = x25519.X25519PrivateKey.generate()
    ct_x = eph.public_key().public_bytes_raw()
    ss_x = eph.exchange(x25519.X25519PublicKey.from_public_bytes(pk_x))
    ss_m, ct_m = mlkem.MLKEM768PublicKey.from_public_bytes(pk_m).encapsulate()
    return _xwing_combine(ss_m, ss_x, ct_x, pk_x), bytes(ct_m) + ct_x


def _xwing_combine(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytes:
    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + XWING_LABEL).digest()


def decapsulate(attrs: KeyAttributes, material: bytes | bytearray, alg: KemKind,
                ciphertext: bytes) -> bytes:
    kt, bits = attrs.key_type, attrs.key_bits
    check_kem_key(kt, alg)
    if not kt.is_key_pair:
        raise invalid_argument("decapsulation needs a key pair, not a public key")
    want = XWING_CT if kt.is_xwing else ML_KEM[bits].ct_len
    if len(ciphertext) != want:
        raise invalid_argument(f"the ciphertext has {len(ciphertext)} bytes, not {want}")
    m = bytes(material)
    try:
        if kt.is_ml_kem:
            if bits == 512:  # pqcrypto takes the expanded dk (an old record stored it directly)
                dk = m if len(m) != ML_KEM_SEED else ml_kem_512_expand(m)[1]
                return bytes(ml_kem_512().decaps(dk, ciphertext))
            return bytes(CRYPTOGRAPHY_ML_KEM[bits][0].from_seed_bytes(m).decapsulate(ciphertext))
        mk, xk = xwing_expand(m)
        ct_m, ct_x = ciphertext[:1088], ciphertext[1088:]
        ss_m = mk.decapsulate(ct_m)
        pk_x = xk.public_key().public_bytes_raw()
        ss_x = xk.exchange(x25519.X25519PublicKey.from_public_bytes(ct_x))
        return _xwing_combine(ss_m, ss_x, ct_x, pk_x)
    except ValueError as exc:  # e.g. an X25519 share of small order
        raise invalid_argument(f"the ciphertext is not valid: {exc}") from None


# Key types a shared secret may become (PSA psa_encapsulate: DERIVE and HMAC for every KEM; block
# cipher keys too, since ML-KEM and X-Wing secrets are uniformly pseudorandom).
OUTPUT_KEY_KINDS = frozenset({KeyKind.DERIVE, KeyKind.HMAC, KeyKind.RAW_DATA, KeyKind.AES,
                              KeyKind.CHACHA20})


def output_attributes(attrs: KeyAttributes) -> KeyAttributes:
    """Check the attributes of a key made from a 32-byte shared secret; fill in key_bits."""
    bits = SHARED_SECRET_LEN * 8
    if attrs.key_type.kind not in OUTPUT_KEY_KINDS:
        raise invalid_argument(f"a shared secret cannot become a {attrs.key_type.describe()} key")
    if attrs.key_bits not in (0, bits):
        raise invalid_argument(f"the shared secret has {bits} bits, not {attrs.key_bits}")
    return dataclasses.replace(attrs, key_bits=bits)

