"""Which key types and algorithms are the extension's, what CanDoCrypto answers for them, and
their key material: generation, import, public and export formats."""

from __future__ import annotations

import hashlib
import os

import pqcrypto  # type: ignore[import-untyped]
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, mlkem, x25519

from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    PREHASH_PQC_SIGN_KINDS,
    Algorithm,
    AnyHash,
    KemAlg,
    KeyAttributes,
    KeyKind,
    KeyType,
    NoAlgorithm,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.psa.policy import (
    invalid_argument,
    kem_alg_compatible,
    not_supported,
    sign_alg_compatible,
)
from pqparsec.service.providers import slh_dsa_worker
from pqparsec.service.providers.software.pqc.claims import handles_key_type
from pqparsec.service.providers.software.pqc.params import (
    CRYPTOGRAPHY_ML_KEM,
    DETERMINISTIC_ML_DSA_AVAILABLE,
    DETERMINISTIC_SLH_DSA_AVAILABLE,
    EDWARDS,
    ML_DSA,
    ML_DSA_SEED,
    ML_KEM,
    ML_KEM_SEED,
    PREHASH_OIDS,
    SLH_DSA_BITS,
    XWING_BITS,
    XWING_PK,
    XWING_SEED,
    lazy_import,
    ml_kem_512_expand,
    slh_dsa_params,
    slh_module,
)

# -- which key types and algorithms are ours -----------------------------------------------------


def valid_bits(kt: KeyType) -> tuple[int, ...]:
    if kt.is_ml_kem:
        return tuple(ML_KEM)
    if kt.is_ml_dsa:
        return tuple(ML_DSA)
    if kt.is_slh_dsa:
        return SLH_DSA_BITS
    if kt.is_xwing:
        return (XWING_BITS,)
    if kt.is_edwards:
        return tuple(EDWARDS)
    return ()


def check_bits(kt: KeyType, bits: int) -> None:
    allowed = valid_bits(kt)
    if not allowed:
        raise not_supported(f"key type {kt.describe()} is not supported by the software provider")
    if kt.is_slh_dsa and kt.slh_dsa_family is None:
        raise invalid_argument("an SLH-DSA key type needs its family")
    if bits not in allowed:
        raise not_supported(f"{kt.describe()} keys have {'/'.join(map(str, allowed))} bits, "
                            f"not {bits}")


def alg_compatible(kt: KeyType, alg: Algorithm) -> bool:
    """Is `alg` a permitted-algorithm policy that makes sense for a key of type `kt`?"""
    if isinstance(alg, NoAlgorithm):
        return True
    if isinstance(alg, KemAlg):
        return kem_alg_compatible(kt, alg.kind)
    if isinstance(alg, SignAlg):
        return sign_alg_compatible(kt, alg)
    return False


def prehash_supported(alg: Algorithm) -> bool:
    """False for HashML-DSA / HashSLH-DSA with a hash that is not one of their pre-hashes
    (`PREHASH_OIDS`: SHA-2, SHA-3; not MD2, MD4, MD5, SHA-1, RIPEMD-160), which can neither sign
    nor verify. The wildcard is fine: it permits the pre-hashes too."""
    if not isinstance(alg, SignAlg) or alg.kind not in PREHASH_PQC_SIGN_KINDS:
        return True
    return isinstance(alg.hash, AnyHash) or alg.hash in PREHASH_OIDS


def check_policy(attrs: KeyAttributes) -> None:
    """InvalidArgument for a key whose policy permits an algorithm its type cannot perform;
    NotSupported for a HashML-DSA / HashSLH-DSA policy whose hash is no pre-hash (a key that
    could never sign or verify), deprecated hash or not."""
    alg = attrs.algorithm
    if not alg_compatible(attrs.key_type, alg):
        raise invalid_argument(f"a {attrs.key_type.describe()} key cannot permit {alg}")
    if not prehash_supported(alg):
        assert isinstance(alg, SignAlg)
        raise not_supported(f"{alg.kind.name} with hash {alg.hash!r} is not supported (FIPS "
                            "204/205 pre-hashes: SHA-2, SHA-3): such a key could never be used")


def can_sign_with(kind: SignKind) -> bool:
    """Whether this provider can *compute* signatures of `kind` (verification: always)."""
    if kind in (SignKind.DETERMINISTIC_SLH_DSA, SignKind.DETERMINISTIC_HASH_SLH_DSA):
        return DETERMINISTIC_SLH_DSA_AVAILABLE  # pqcrypto signs hedged only: slh-dsa does these
    if kind in (SignKind.DETERMINISTIC_ML_DSA, SignKind.DETERMINISTIC_HASH_ML_DSA):
        return DETERMINISTIC_ML_DSA_AVAILABLE
    return True


def pqc_capability(check_type: CheckType, attrs: KeyAttributes) -> bool | None:
    """CanDoCrypto for the extension: None when `attrs` use nothing of the extension (the classic
    code decides), else whether the software provider can do it.

    For capabilities.py: `verdict = pqc_capability(req.check_type, req.attributes)` first."""
    kt, alg = attrs.key_type, attrs.algorithm
    if not attrs.is_extension:
        return None
    if not handles_key_type(kt):
        return False  # a classic key type with an extension algorithm: never compatible
    if check_type == CheckType.DERIVE:
        return False
    if kt.is_slh_dsa and kt.slh_dsa_family is None:
        return False
    if attrs.key_bits not in valid_bits(kt) and not (check_type == CheckType.IMPORT
                                                     and attrs.key_bits == 0):
        return False
    if check_type == CheckType.GENERATE and kt.is_public_key:
        return False
    if not alg_compatible(kt, alg) or not prehash_supported(alg):
        return False
    signs = attrs.usage.sign_hash or attrs.usage.sign_message
    return not (isinstance(alg, SignAlg) and signs and not can_sign_with(alg.kind))


# -- key material --------------------------------------------------------------------------------


def generate(attrs: KeyAttributes) -> bytearray:
    kt, bits = attrs.key_type, attrs.key_bits
    if kt.is_public_key:
        raise invalid_argument("a public key cannot be generated; generate the key pair")
    check_bits(kt, bits)
    if kt.kind == KeyKind.ML_KEM_KEY_PAIR:
        if bits == 512:  # FIPS 203 ML-KEM.KeyGen: d and z are 32 random bytes each
            return bytearray(os.urandom(ML_KEM_SEED))
        return bytearray(CRYPTOGRAPHY_ML_KEM[bits][0].generate().private_bytes_raw())
    if kt.kind == KeyKind.ML_DSA_KEY_PAIR:
        return bytearray(ML_DSA[bits][2].generate().private_bytes_raw())
    if kt.kind == KeyKind.SLH_DSA_KEY_PAIR:
        _, sk = slh_module(kt.slh_dsa_family, bits).keygen()
        return bytearray(sk)
    if kt.kind == KeyKind.XWING_KEY_PAIR:
        return bytearray(os.urandom(XWING_SEED))  # X-Wing GenerateKeyPair: a random 32-byte seed
    edk = ed25519.Ed25519PrivateKey.generate() if bits == 255 else ed448.Ed448PrivateKey.generate()
    return bytearray(edk.private_bytes_raw())


def _infer_bits(kt: KeyType, n: int) -> int:
    """key_bits of imported data of `n` bytes (import with key_bits = 0)."""
    table: dict[int, int] = {}
    if kt.kind == KeyKind.ML_KEM_KEY_PAIR:
        table = {p.dk_len: p.bits for p in ML_KEM.values()}  # seeds are ambiguous: need key_bits
    elif kt.kind == KeyKind.ML_KEM_PUBLIC_KEY:
        table = {p.ek_len: p.bits for p in ML_KEM.values()}
    elif kt.kind == KeyKind.ML_DSA_PUBLIC_KEY:
        table = {v[1]: b for b, v in ML_DSA.items()}
    elif kt.kind == KeyKind.SLH_DSA_KEY_PAIR:
        table = {b // 2: b for b in SLH_DSA_BITS}
    elif kt.kind == KeyKind.SLH_DSA_PUBLIC_KEY:
        table = {b // 4: b for b in SLH_DSA_BITS}
    elif kt.is_xwing:
        table = {XWING_SEED: XWING_BITS, XWING_PK: XWING_BITS}
    elif kt.is_edwards:
        table = {32: 255, 57: 448}
    bits = table.get(n)
    if bits is None:
        raise invalid_argument(f"{kt.describe()}: cannot tell the parameter set from {n} bytes of "
                               "key data; set key_bits")
    return bits


def import_material(attrs: KeyAttributes, data: bytes) -> tuple[bytearray, int]:
    """Validate PSA-format key data; return the material to store and the key's bits."""
    kt = attrs.key_type
    bits = attrs.key_bits or _infer_bits(kt, len(data))
    check_bits(kt, bits)
    try:
        if kt.kind == KeyKind.ML_KEM_KEY_PAIR:
            if len(data) != ML_KEM_SEED:
                raise invalid_argument(f"an ML-KEM key pair is the 64-byte seed d || z, not "
                                       f"{len(data)} bytes")
            if bits == 512:
                ml_kem_512_expand(data)
            else:
                CRYPTOGRAPHY_ML_KEM[bits][0].from_seed_bytes(data)
        elif kt.kind == KeyKind.ML_KEM_PUBLIC_KEY:
            if len(data) != ML_KEM[bits].ek_len:
                raise invalid_argument(f"an ML-KEM-{bits} public key has {ML_KEM[bits].ek_len} bytes")
            if bits == 512:  # FIPS 203 modulus check, by pycryptodome / cryptography
                lazy_import("Crypto.PublicKey.MLKEM").construct(
                    param_set=lazy_import("Crypto.PublicKey.MLKEM").ML_KEM_512, ek=data)
            else:
                CRYPTOGRAPHY_ML_KEM[bits][1].from_public_bytes(data)
        elif kt.kind == KeyKind.ML_DSA_KEY_PAIR:
            if len(data) != ML_DSA_SEED:
                raise invalid_argument("an ML-DSA key pair is the 32-byte seed xi")
            ML_DSA[bits][2].from_seed_bytes(data)
        elif kt.kind == KeyKind.ML_DSA_PUBLIC_KEY:
            ML_DSA[bits][3].from_public_bytes(data)
        elif kt.kind == KeyKind.SLH_DSA_KEY_PAIR:
            _check_slh_key_pair(kt, bits, data)
        elif kt.kind == KeyKind.SLH_DSA_PUBLIC_KEY:
            if len(data) != bits // 4:
                raise invalid_argument(f"an SLH-DSA public key of {bits} bits has {bits // 4} bytes")
        elif kt.kind == KeyKind.XWING_KEY_PAIR:
            if len(data) != XWING_SEED:
                raise invalid_argument("an X-Wing key pair is its 32-byte seed")
        elif kt.kind == KeyKind.XWING_PUBLIC_KEY:
            if len(data) != XWING_PK:
                raise invalid_argument(f"an X-Wing public key has {XWING_PK} bytes")
            mlkem.MLKEM768PublicKey.from_public_bytes(data[:1184])
            x25519.X25519PublicKey.from_public_bytes(data[1184:])
        elif kt.is_edwards:
            if len(data) != EDWARDS[bits][0]:
                raise invalid_argument(f"an Edwards key of {bits} bits has {EDWARDS[bits][0]} bytes")
            edwards_private(bits, data) if kt.is_key_pair else edwards_public(bits, data)
        else:
            raise not_supported(f"importing {kt.describe()} keys is not supported")
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise invalid_argument(f"key data is not a valid {kt.describe()}: {exc}") from None
    return bytearray(data), bits


def _check_slh_key_pair(kt: KeyType, bits: int, data: bytes) -> None:
    """PK.root must be the root that SK.seed and PK.seed give. slh-dsa recomputes it; without
    slh-dsa, check the pair the only way pqcrypto allows: a signature with the key must verify
    under its public half."""
    n = bits // 8
    if len(data) != 4 * n:
        raise invalid_argument(f"an SLH-DSA key pair of {bits} bits is SK.seed || SK.prf || PK.seed "
                               f"|| PK.root = {4 * n} bytes")
    mod = slh_module(kt.slh_dsa_family, bits)
    if DETERMINISTIC_SLH_DSA_AVAILABLE:
        params = slh_dsa_params(kt.slh_dsa_family, bits)
        if not slh_dsa_worker.run(slh_dsa_worker.root_matches, params, bytes(data)):
            raise invalid_argument("SLH-DSA key pair: PK.root does not match SK.seed / PK.seed")
        return
    probe = b"pqparsec SLH-DSA key pair consistency check"
    try:
        mod.verify(data[2 * n:], probe, mod.sign(data, probe))
    except pqcrypto.InvalidSignatureError:
        raise invalid_argument("SLH-DSA key pair: PK.root does not match SK.seed / PK.seed") from None


def edwards_private(bits: int, data: bytes | bytearray) -> ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey:
    if bits == 255:
        return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(data))
    return ed448.Ed448PrivateKey.from_private_bytes(bytes(data))


def edwards_public(bits: int, data: bytes | bytearray) -> ed25519.Ed25519PublicKey | ed448.Ed448PublicKey:
    if bits == 255:
        return ed25519.Ed25519PublicKey.from_public_bytes(bytes(data))
    return ed448.Ed448PublicKey.from_public_bytes(bytes(data))


def xwing_expand(seed: bytes | bytearray) -> tuple[mlkem.MLKEM768PrivateKey, x25519.X25519PrivateKey]:
    """X-Wing expandDecapsulationKey: SHAKE256(seed, 96) = ML-KEM-768 (d || z) || X25519 key."""
    expanded = hashlib.shake_256(bytes(seed)).digest(96)
    return (mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]),
            x25519.X25519PrivateKey.from_private_bytes(expanded[64:]))


def public_from_material(attrs: KeyAttributes, material: bytes | bytearray) -> bytes:
    """The PSA public-key format (PsaExportPublicKey) of a stored key."""
    kt, bits, m = attrs.key_type, attrs.key_bits, bytes(material)
    if kt.is_public_key:
        return m
    if kt.kind == KeyKind.ML_KEM_KEY_PAIR:
        if len(m) != ML_KEM_SEED:  # an old ML-KEM-512 record: dk_pke || ek || H(ek) || z
            start = 384 * (bits // 256)
            return m[start:start + ML_KEM[bits].ek_len]
        if bits == 512:
            return ml_kem_512_expand(m)[0]
        return bytes(CRYPTOGRAPHY_ML_KEM[bits][0].from_seed_bytes(m).public_key().public_bytes_raw())
    if kt.kind == KeyKind.ML_DSA_KEY_PAIR:
        return bytes(ML_DSA[bits][2].from_seed_bytes(m).public_key().public_bytes_raw())
    if kt.kind == KeyKind.SLH_DSA_KEY_PAIR:
        return m[len(m) // 2:]
    if kt.kind == KeyKind.XWING_KEY_PAIR:
        mk, xk = xwing_expand(m)
        return bytes(mk.public_key().public_bytes_raw() + xk.public_key().public_bytes_raw())
    if kt.is_edwards:
        return bytes(edwards_private(bits, m).public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    raise not_supported(f"{kt.describe()} is not supported")


def export_material(attrs: KeyAttributes, material: bytes | bytearray) -> bytes:
    """The PSA export format (PsaExportKey) of a stored key."""
    if attrs.key_type.kind == KeyKind.ML_KEM_KEY_PAIR and len(material) != ML_KEM_SEED:
        raise not_supported("this ML-KEM-512 key pair was generated by an earlier version, which kept "
                            "no seed d || z, so it has no PSA export format")
    return bytes(material)

