"""Post-quantum and Edwards keys of the software provider: a protocol extension (docs/pqc.md).

ML-KEM (FIPS 203), ML-DSA (FIPS 204), SLH-DSA (FIPS 205), X-Wing, Ed25519/Ed448. Keys are stored
wrapped like every other key, in the PSA Crypto API 1.3/1.4 PQC extension key formats, and turned
into library objects at the edge:

| key                        | stored (= PSA export format)            | library                      |
|----------------------------|-----------------------------------------|------------------------------|
| ML-KEM-768/1024 key pair   | 64-byte seed d || z                     | cryptography                 |
| ML-KEM-512 key pair        | 64-byte seed d || z (keys generated     | pycryptodome expands the     |
|                            | earlier are pqcrypto's expanded dk,     | seed; pqcrypto encapsulates  |
|                            | 1632 bytes: still usable, not exported) | and decapsulates             |
| ML-DSA key pair            | 32-byte seed xi                         | cryptography (+ pycryptodome |
|                            |                                         | for deterministic signing)   |
| SLH-DSA key pair           | SK.seed || SK.prf || PK.seed || PK.root | pqcrypto (+ slh-dsa for      |
|                            |                                         | deterministic signing and    |
|                            |                                         | the PK.root check on import) |
| X-Wing key pair            | 32-byte X-Wing seed                     | cryptography (composition)   |
| Ed25519 / Ed448 key pair   | RFC 8032 private key (32 / 57 bytes)    | cryptography                 |
| public keys                | the PSA public format                   | as above                     |

No lattice or hash-tree arithmetic is done here: only the FIPS 204 / 205 message formatting for
HashML-DSA ("external mu") and HashSLH-DSA (OID || PH(M)), and the X-Wing combiner (SHAKE256
expansion, SHA3-256 combiner).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pqcrypto  # type: ignore[import-untyped]
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, mldsa, mlkem, x25519

from pqparsec.protocol.operations import (
    CanDoCryptoRequest,
    CheckType,
    EmptyResult,
    KeyDataResult,
    KeyNameRequest,
    PsaDecapsulateRequest,
    PsaDecapsulateResult,
    PsaEncapsulateRequest,
    PsaEncapsulateResult,
    PsaGenerateKeyRequest,
    PsaImportKeyRequest,
    PsaSignHashRequest,
    PsaSignMessageRequest,
    PsaVerifyHashRequest,
    PsaVerifyMessageRequest,
    SignatureResult,
)
from pqparsec.protocol.psa import (
    CONTEXT_SIGN_KINDS,
    PREHASH_PQC_SIGN_KINDS,
    Algorithm,
    Hash,
    KemAlg,
    KemKind,
    KeyAttributes,
    KeyKind,
    KeyType,
    NoAlgorithm,
    SignAlg,
    SignKind,
    SlhDsaFamily,
)
from pqparsec.protocol.psa.policy import (
    check_alg,
    check_export,
    check_not_deprecated,
    check_sign_hash_length,
    check_sign_request,
    check_usage,
    invalid_argument,
    not_supported,
    sign_alg_compatible,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers import slh_dsa_worker
from pqparsec.service.providers.software.base import with_implied_usage
from pqparsec.service.providers.software.signatures import SignatureOps


def _available(module: str) -> bool:
    """Whether `module` can be imported, without importing it (its parent packages only)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # pragma: no cover - depends on the machine
        return False


@functools.cache
def _module(name: str) -> ModuleType:
    """Import on first use: pycryptodome and slh-dsa serve a few operations only, and importing
    them at start-up costs the service about 15 MiB of RSS and 50 ms (benchmarks/bench_startup.py)."""
    return importlib.import_module(name)


# pycryptodome (>= 4.4) adds deterministic ML-DSA signing, which neither `cryptography` nor
# `pqcrypto` offers, and ML-KEM-512 from its seed. Without its ML-DSA modules, deterministic
# ML-DSA signing is NotSupported.
# slh-dsa (pure Python, compiled with mypyc) signs SLH-DSA deterministically (pqcrypto signs
# hedged only) and recomputes PK.root from SK.seed and PK.seed, which pqcrypto cannot. Without it,
# deterministic SLH-DSA signing is NotSupported and a key pair is checked on import with a
# signature instead.

MAX_CONTEXT = 255  # FIPS 204 / 205: a context string has 0 to 255 bytes

# -- parameter sets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MlKemParams:
    bits: int
    ek_len: int
    ct_len: int
    dk_len: int  # expanded decapsulation key


ML_KEM = {512: MlKemParams(512, 800, 768, 1632), 768: MlKemParams(768, 1184, 1088, 2400),
          1024: MlKemParams(1024, 1568, 1568, 3168)}
ML_KEM_SEED = 64  # d || z
_CRYPTOGRAPHY_ML_KEM: dict[int, tuple[Any, Any]] = {
    768: (mlkem.MLKEM768PrivateKey, mlkem.MLKEM768PublicKey),
    1024: (mlkem.MLKEM1024PrivateKey, mlkem.MLKEM1024PublicKey),
}

# key_bits -> (ML-DSA-N, public key length, private class, public class)
ML_DSA: dict[int, tuple[int, int, Any, Any]] = {
    128: (44, 1312, mldsa.MLDSA44PrivateKey, mldsa.MLDSA44PublicKey),
    192: (65, 1952, mldsa.MLDSA65PrivateKey, mldsa.MLDSA65PublicKey),
    256: (87, 2592, mldsa.MLDSA87PrivateKey, mldsa.MLDSA87PublicKey),
}
ML_DSA_SEED = 32

SLH_DSA_BITS = (128, 192, 256)
_SLH_FAMILY_NAMES = {SlhDsaFamily.SHA2_S: ("sha2", "s"), SlhDsaFamily.SHA2_F: ("sha2", "f"),
                     SlhDsaFamily.SHAKE_S: ("shake", "s"), SlhDsaFamily.SHAKE_F: ("shake", "f")}

EDWARDS = {255: (32, 64), 448: (57, 114)}  # key_bits -> (key length, signature length)

XWING_BITS = 768  # X-Wing has one parameter set, built on ML-KEM-768
XWING_SEED = 32
XWING_PK = 1184 + 32
XWING_CT = 1088 + 32
XWING_LABEL = bytes.fromhex("5c2e2f2f5e5c")  # "\.//^\"
SHARED_SECRET_LEN = 32  # every KEM here

# Hashes FIPS 204 / 205 approve for HashML-DSA / HashSLH-DSA, with their DER OIDs (PSA PQC
# extension, table "Hash algorithm OID to use in HashML-DSA").
PREHASH_OIDS: dict[Hash, bytes] = {
    Hash.SHA_224: bytes.fromhex("0609608648016503040204"),
    Hash.SHA_256: bytes.fromhex("0609608648016503040201"),
    Hash.SHA_384: bytes.fromhex("0609608648016503040202"),
    Hash.SHA_512: bytes.fromhex("0609608648016503040203"),
    Hash.SHA_512_224: bytes.fromhex("0609608648016503040205"),
    Hash.SHA_512_256: bytes.fromhex("0609608648016503040206"),
    Hash.SHA3_224: bytes.fromhex("0609608648016503040207"),
    Hash.SHA3_256: bytes.fromhex("0609608648016503040208"),
    Hash.SHA3_384: bytes.fromhex("0609608648016503040209"),
    Hash.SHA3_512: bytes.fromhex("060960864801650304020a"),
}
_HASHLIB = {Hash.SHA_224: "sha224", Hash.SHA_256: "sha256", Hash.SHA_384: "sha384",
            Hash.SHA_512: "sha512", Hash.SHA_512_224: "sha512_224", Hash.SHA_512_256: "sha512_256",
            Hash.SHA3_224: "sha3_224", Hash.SHA3_256: "sha3_256", Hash.SHA3_384: "sha3_384",
            Hash.SHA3_512: "sha3_512"}
_PQCRYPTO_HASH = {Hash.SHA_224: "Sha224", Hash.SHA_256: "Sha256", Hash.SHA_384: "Sha384",
                  Hash.SHA_512: "Sha512", Hash.SHA_512_224: "Sha512_224",
                  Hash.SHA_512_256: "Sha512_256", Hash.SHA3_224: "Sha3_224",
                  Hash.SHA3_256: "Sha3_256", Hash.SHA3_384: "Sha3_384", Hash.SHA3_512: "Sha3_512"}

DETERMINISTIC_ML_DSA_AVAILABLE = _available("Crypto.Signature.mldsa")
DETERMINISTIC_SLH_DSA_AVAILABLE = _available("slhdsa")


def _bad_signature() -> ParsecError:
    return ParsecError(ResponseStatus.PSA_ERROR_INVALID_SIGNATURE, "signature is not valid")


def _slh_module(family: SlhDsaFamily | None, bits: int) -> ModuleType:
    if family is None or bits not in SLH_DSA_BITS:
        raise not_supported(f"SLH-DSA with family {family} and {bits} bits does not exist")
    fam, speed = _SLH_FAMILY_NAMES[family]
    return importlib.import_module(f"pqcrypto.sign.slh_dsa_{fam}_{bits}{speed}")


def _ml_kem_512() -> ModuleType:
    return importlib.import_module("pqcrypto.kem.ml_kem_512")


def _ml_kem_512_expand(seed: bytes) -> tuple[bytes, bytes]:
    """(ek, expanded dk) of an ML-KEM-512 seed d || z: FIPS 203 ML-KEM.KeyGen_internal, done by
    pycryptodome (`cryptography` has no ML-KEM-512, pqcrypto takes no seed)."""
    mlkem_512 = _module("Crypto.PublicKey.MLKEM")
    key = mlkem_512.construct(param_set=mlkem_512.ML_KEM_512, seed=seed)
    return bytes(key.ek), bytes(key.expanded_dk)


def _slh_dsa_params(family: SlhDsaFamily | None, bits: int) -> str:
    """slh-dsa's name of a parameter set ("sha2_128s"); NotSupported without slh-dsa."""
    if not DETERMINISTIC_SLH_DSA_AVAILABLE:
        raise not_supported("deterministic SLH-DSA signatures and HashSLH-DSA over a hash need the "
                            "slh-dsa package in the service's environment")
    if family is None or bits not in SLH_DSA_BITS:
        raise not_supported(f"SLH-DSA with family {family} and {bits} bits does not exist")
    fam, speed = _SLH_FAMILY_NAMES[family]
    return f"{fam}_{bits}{speed}"


def _slh_dsa_public(family: SlhDsaFamily | None, bits: int, pk: bytes) -> Any:
    params = _slh_dsa_params(family, bits)
    slhdsa = _module("slhdsa")
    return slhdsa.PublicKey.from_digest(pk, getattr(slhdsa, params))


def _pqcrypto_hash(h: Hash) -> Any:
    return getattr(pqcrypto.HashAlgorithm, _PQCRYPTO_HASH[h])


def slh_dsa_name(family: SlhDsaFamily, bits: int) -> str:
    fam, speed = _SLH_FAMILY_NAMES[family]
    return f"SLH-DSA-{fam.upper()}-{bits}{speed}"


# -- which key types and algorithms are ours -----------------------------------------------------


def handles_key_type(kt: KeyType) -> bool:
    """Key types this module implements (every extension key type)."""
    return kt.is_extension


def handles_request(alg: SignAlg, context: bytes = b"") -> bool:
    """Whether a signature request goes to this module rather than the classic code. A classic
    algorithm with an extension key is refused by the classic code's compatibility check
    (policy.sign_alg_compatible), so the key need not be looked up to decide."""
    return alg.is_extension or bool(context)


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
        return (alg.kind == KemKind.ML_KEM and kt.is_ml_kem) or (alg.kind == KemKind.X_WING
                                                                  and kt.is_xwing)
    if isinstance(alg, SignAlg):
        return sign_alg_compatible(kt, alg)
    return False


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
    if not alg_compatible(kt, alg):
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
        return bytearray(_CRYPTOGRAPHY_ML_KEM[bits][0].generate().private_bytes_raw())
    if kt.kind == KeyKind.ML_DSA_KEY_PAIR:
        return bytearray(ML_DSA[bits][2].generate().private_bytes_raw())
    if kt.kind == KeyKind.SLH_DSA_KEY_PAIR:
        _, sk = _slh_module(kt.slh_dsa_family, bits).keygen()
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
                _ml_kem_512_expand(data)
            else:
                _CRYPTOGRAPHY_ML_KEM[bits][0].from_seed_bytes(data)
        elif kt.kind == KeyKind.ML_KEM_PUBLIC_KEY:
            if len(data) != ML_KEM[bits].ek_len:
                raise invalid_argument(f"an ML-KEM-{bits} public key has {ML_KEM[bits].ek_len} bytes")
            if bits == 512:  # FIPS 203 modulus check, by pycryptodome / cryptography
                _module("Crypto.PublicKey.MLKEM").construct(
                    param_set=_module("Crypto.PublicKey.MLKEM").ML_KEM_512, ek=data)
            else:
                _CRYPTOGRAPHY_ML_KEM[bits][1].from_public_bytes(data)
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
            _edwards_private(bits, data) if kt.is_key_pair else _edwards_public(bits, data)
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
    mod = _slh_module(kt.slh_dsa_family, bits)
    if DETERMINISTIC_SLH_DSA_AVAILABLE:
        params = _slh_dsa_params(kt.slh_dsa_family, bits)
        if not slh_dsa_worker.run(slh_dsa_worker.root_matches, params, bytes(data)):
            raise invalid_argument("SLH-DSA key pair: PK.root does not match SK.seed / PK.seed")
        return
    probe = b"pqparsec SLH-DSA key pair consistency check"
    try:
        mod.verify(data[2 * n:], probe, mod.sign(data, probe))
    except pqcrypto.InvalidSignatureError:
        raise invalid_argument("SLH-DSA key pair: PK.root does not match SK.seed / PK.seed") from None


def _edwards_private(bits: int, data: bytes | bytearray) -> ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey:
    if bits == 255:
        return ed25519.Ed25519PrivateKey.from_private_bytes(bytes(data))
    return ed448.Ed448PrivateKey.from_private_bytes(bytes(data))


def _edwards_public(bits: int, data: bytes | bytearray) -> ed25519.Ed25519PublicKey | ed448.Ed448PublicKey:
    if bits == 255:
        return ed25519.Ed25519PublicKey.from_public_bytes(bytes(data))
    return ed448.Ed448PublicKey.from_public_bytes(bytes(data))


def _xwing_expand(seed: bytes | bytearray) -> tuple[mlkem.MLKEM768PrivateKey, x25519.X25519PrivateKey]:
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
            return _ml_kem_512_expand(m)[0]
        return bytes(_CRYPTOGRAPHY_ML_KEM[bits][0].from_seed_bytes(m).public_key().public_bytes_raw())
    if kt.kind == KeyKind.ML_DSA_KEY_PAIR:
        return bytes(ML_DSA[bits][2].from_seed_bytes(m).public_key().public_bytes_raw())
    if kt.kind == KeyKind.SLH_DSA_KEY_PAIR:
        return m[len(m) // 2:]
    if kt.kind == KeyKind.XWING_KEY_PAIR:
        mk, xk = _xwing_expand(m)
        return bytes(mk.public_key().public_bytes_raw() + xk.public_key().public_bytes_raw())
    if kt.is_edwards:
        return bytes(_edwards_private(bits, m).public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    raise not_supported(f"{kt.describe()} is not supported")


def export_material(attrs: KeyAttributes, material: bytes | bytearray) -> bytes:
    """The PSA export format (PsaExportKey) of a stored key."""
    if attrs.key_type.kind == KeyKind.ML_KEM_KEY_PAIR and len(material) != ML_KEM_SEED:
        raise not_supported("this ML-KEM-512 key pair was generated by an earlier version, which kept "
                            "no seed d || z, so it has no PSA export format")
    return bytes(material)


# -- signatures ----------------------------------------------------------------------------------


class _Prehash:
    """A finished hash in the shape pycryptodome's ML-DSA accepts for HashML-DSA (oid, digest)."""

    def __init__(self, h: Hash, digest: bytes) -> None:
        self.oid = {Hash.SHA_224: "2.16.840.1.101.3.4.2.4", Hash.SHA_256: "2.16.840.1.101.3.4.2.1",
                    Hash.SHA_384: "2.16.840.1.101.3.4.2.2", Hash.SHA_512: "2.16.840.1.101.3.4.2.3",
                    Hash.SHA_512_224: "2.16.840.1.101.3.4.2.5",
                    Hash.SHA_512_256: "2.16.840.1.101.3.4.2.6",
                    Hash.SHA3_224: "2.16.840.1.101.3.4.2.7", Hash.SHA3_256: "2.16.840.1.101.3.4.2.8",
                    Hash.SHA3_384: "2.16.840.1.101.3.4.2.9",
                    Hash.SHA3_512: "2.16.840.1.101.3.4.2.10"}[h]
        self._digest = digest

    def digest(self) -> bytes:
        return self._digest


def _prehash_hash(alg: SignAlg) -> Hash:
    if not isinstance(alg.hash, Hash) or alg.hash not in PREHASH_OIDS:
        raise not_supported(f"{alg.kind.name} with hash {alg.hash!r} is not supported "
                            "(FIPS 204/205 pre-hashes: SHA-2, SHA-3)")
    return alg.hash


def _prehash(alg: SignAlg, data: bytes, prehashed: bool) -> bytes:
    h = _prehash_hash(alg)
    return data if prehashed else hashlib.new(_HASHLIB[h], data).digest()


def _ml_dsa_mu(pk: bytes, ctx: bytes, h: Hash, digest: bytes) -> bytes:
    """FIPS 204 HashML-DSA message representative: mu = H(H(pk, 64) || M', 64) with
    M' = 1 || |ctx| || ctx || OID(PH) || PH(M) (Algorithm 4, and Algorithm 7 step 6)."""
    tr = hashlib.shake_256(pk).digest(64)
    m_prime = b"\x01" + bytes([len(ctx)]) + ctx + PREHASH_OIDS[h] + digest
    return hashlib.shake_256(tr + m_prime).digest(64)


def sign(attrs: KeyAttributes, material: bytes | bytearray, alg: SignAlg, data: bytes,
         prehashed: bool, context: bytes = b"") -> bytes:
    """Sign with an extension key. `data` is the message, or its hash when `prehashed`."""
    kt, bits = attrs.key_type, attrs.key_bits
    if not kt.is_key_pair:
        raise invalid_argument("a public key cannot sign")
    if not can_sign_with(alg.kind):
        raise not_supported(f"{alg.kind.name} signing is not supported by the software provider "
                            "(hedged signing is)")
    m = bytes(material)
    if alg.kind == SignKind.PURE_EDDSA:
        return bytes(_edwards_private(bits, m).sign(data))
    if alg.is_ml_dsa:
        deterministic = alg.kind in (SignKind.DETERMINISTIC_ML_DSA, SignKind.DETERMINISTIC_HASH_ML_DSA)
        if deterministic:
            mldsa_keys, mldsa_sig = _module("Crypto.PublicKey.MLDSA"), _module("Crypto.Signature.mldsa")
            params = getattr(mldsa_keys, f"ML_DSA_{ML_DSA[bits][0]}")
            signer = mldsa_sig.new(mldsa_keys.construct(param_set=params, seed=m),
                                   context, deterministic=True)
            if alg.kind == SignKind.DETERMINISTIC_ML_DSA:
                return bytes(signer.sign(data))
            h = _prehash_hash(alg)
            return bytes(signer.sign(_Prehash(h, _prehash(alg, data, prehashed))))
        key = ML_DSA[bits][2].from_seed_bytes(m)
        if alg.kind == SignKind.ML_DSA:
            return bytes(key.sign(data, context))
        h = _prehash_hash(alg)
        pk = key.public_key().public_bytes_raw()
        return bytes(key.sign_mu(_ml_dsa_mu(pk, context, h, _prehash(alg, data, prehashed))))
    if alg.is_slh_dsa:
        return _slh_dsa_sign(kt.slh_dsa_family, bits, m, alg, data, prehashed, context)
    raise invalid_argument(f"{alg.kind.name} cannot be used with a {kt.describe()} key")


# SLH-DSA: which library does what. pqcrypto (C) signs hedged and verifies; its HashSLH-DSA takes
# the message and hashes it itself (its HashML-DSA, by contrast, takes PH(M)). So a hash that the
# caller computed (PsaSignHash / PsaVerifyHash), and every deterministic signature, go to slh-dsa
# with M' = 1 || |ctx| || ctx || OID(PH) || PH(M) (FIPS 205 Algorithms 23 and 25); its signing
# runs in worker processes (providers/slh_dsa_worker.py: it would hold the GIL for seconds).

def _slh_dsa_sign(family: SlhDsaFamily | None, bits: int, sk: bytes, alg: SignAlg, data: bytes,
                  prehashed: bool, context: bytes) -> bytes:
    deterministic = alg.kind in (SignKind.DETERMINISTIC_SLH_DSA,
                                 SignKind.DETERMINISTIC_HASH_SLH_DSA)
    if alg.kind in (SignKind.SLH_DSA, SignKind.DETERMINISTIC_SLH_DSA):
        if deterministic:  # FIPS 205 Algorithm 22 with opt_rand = PK.seed
            return slh_dsa_worker.run(slh_dsa_worker.sign_pure, _slh_dsa_params(family, bits),
                                      sk, data, context, False)
        return bytes(_slh_module(family, bits).sign(sk, data, context=context))
    h = _prehash_hash(alg)
    if not deterministic and not prehashed:
        return bytes(_slh_module(family, bits).sign(sk, data, context=context,
                                                    hash_algorithm=_pqcrypto_hash(h)))
    ph = PREHASH_OIDS[h] + _prehash(alg, data, prehashed)  # OID(PH) || PH(M)
    return slh_dsa_worker.run(slh_dsa_worker.sign_prehashed, _slh_dsa_params(family, bits), sk,
                              ph, context, not deterministic)


def _slh_dsa_verify(family: SlhDsaFamily | None, bits: int, pk: bytes, alg: SignAlg, data: bytes,
                    signature: bytes, prehashed: bool, context: bytes) -> None:
    mod = _slh_module(family, bits)
    if alg.kind in (SignKind.SLH_DSA, SignKind.DETERMINISTIC_SLH_DSA):
        mod.verify(pk, data, signature, context=context)
        return
    h = _prehash_hash(alg)
    if not prehashed:
        mod.verify(pk, data, signature, context=context, hash_algorithm=_pqcrypto_hash(h))
        return
    ph = PREHASH_OIDS[h] + data
    pub = _slh_dsa_public(family, bits, pk)
    if not pub.verify_hash(b"", signature, ctx=context, prehash=lambda _: ph):
        raise _bad_signature()


def verify(attrs: KeyAttributes, material: bytes | bytearray, alg: SignAlg, data: bytes,
           signature: bytes, prehashed: bool, context: bytes = b"") -> None:
    kt, bits = attrs.key_type, attrs.key_bits
    pk = public_from_material(attrs, material)
    try:
        if alg.kind == SignKind.PURE_EDDSA:
            _edwards_public(bits, pk).verify(signature, data)
        elif alg.is_ml_dsa:
            pub = ML_DSA[bits][3].from_public_bytes(pk)
            if alg.kind in (SignKind.ML_DSA, SignKind.DETERMINISTIC_ML_DSA):
                pub.verify(signature, data, context)
            else:
                h = _prehash_hash(alg)
                pub.verify_mu(signature, _ml_dsa_mu(pk, context, h, _prehash(alg, data, prehashed)))
        elif alg.is_slh_dsa:
            _slh_dsa_verify(kt.slh_dsa_family, bits, pk, alg, data, signature, prehashed, context)
        else:
            raise invalid_argument(f"{alg.kind.name} cannot be used with a {kt.describe()} key")
    except (InvalidSignature, pqcrypto.InvalidSignatureError):
        raise _bad_signature() from None
    except ValueError:  # malformed signature (wrong length) for the library
        raise _bad_signature() from None


# -- key encapsulation ---------------------------------------------------------------------------


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
            ct, ss = _ml_kem_512().encaps(pk)
            return bytes(ss), bytes(ct)
        ss, ct = _CRYPTOGRAPHY_ML_KEM[bits][1].from_public_bytes(pk).encapsulate()
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
                dk = m if len(m) != ML_KEM_SEED else _ml_kem_512_expand(m)[1]
                return bytes(_ml_kem_512().decaps(dk, ciphertext))
            return bytes(_CRYPTOGRAPHY_ML_KEM[bits][0].from_seed_bytes(m).decapsulate(ciphertext))
        mk, xk = _xwing_expand(m)
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


# -- the provider mixin --------------------------------------------------------------------------


class PqcOps(SignatureOps):
    """Extension key types and algorithms; everything else falls through to the classic code."""

    # Key management: extension key types here, the rest in SoftwareBase.

    def psa_generate_key(self, app: Identity, req: PsaGenerateKeyRequest) -> EmptyResult:
        if not handles_key_type(req.attributes.key_type):
            return super().psa_generate_key(app, req)
        check_not_deprecated(req.attributes, self.limits.allow_deprecated)
        self._pqc_check_policy(req.attributes)
        self._pqc_check_free(app, req.key_name)
        self._store_new(app, req.key_name, req.attributes, generate(req.attributes))
        return EmptyResult()

    def psa_import_key(self, app: Identity, req: PsaImportKeyRequest) -> EmptyResult:
        if not handles_key_type(req.attributes.key_type):
            return super().psa_import_key(app, req)
        self._pqc_check_policy(req.attributes)
        self._pqc_check_free(app, req.key_name)
        material, bits = import_material(req.attributes, req.data)
        self._store_new(app, req.key_name, dataclasses.replace(req.attributes, key_bits=bits),
                        material)
        return EmptyResult()

    def psa_export_public_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        rec = self.load(app, req.key_name)
        if not handles_key_type(rec.attributes.key_type):
            return super().psa_export_public_key(app, req)
        with self.material(rec) as m:
            return KeyDataResult(public_from_material(rec.attributes, m))

    def psa_export_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        rec = self.load(app, req.key_name)
        if not handles_key_type(rec.attributes.key_type):
            return super().psa_export_key(app, req)
        check_export(rec.attributes)
        with self.material(rec) as m:
            return KeyDataResult(export_material(rec.attributes, m))

    def _pqc_check_free(self, app: Identity, key_name: str) -> None:
        if self.store.exists(app, key_name):
            raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS,
                              f"key {key_name!r} already exists")

    @staticmethod
    def _pqc_check_policy(attrs: KeyAttributes) -> None:
        if not alg_compatible(attrs.key_type, attrs.algorithm):
            raise invalid_argument(f"a {attrs.key_type.describe()} key cannot permit "
                                   f"{attrs.algorithm}")

    # Signatures: extension keys/algorithms and context strings here, the rest in SignatureOps.

    def _pqc_sign_checks(self, rec: KeyRecord, alg: SignAlg, context: bytes, flag: str, op: str,
                     prehashed: bool) -> None:
        # Parsec's order, as the classic signature code: usage flag, the policy's algorithm, then
        # key type vs algorithm and the rest.
        attrs = with_implied_usage(rec.attributes)
        check_usage(attrs, flag, op)
        check_alg(attrs, alg, op, verify=flag.startswith("verify"))
        check_sign_request(attrs, alg, flag, op)
        if len(context) > MAX_CONTEXT:
            raise invalid_argument(f"a context string has at most {MAX_CONTEXT} bytes")
        if context and alg.kind not in CONTEXT_SIGN_KINDS:
            raise invalid_argument(f"{alg.kind.name} takes no context string")
        if prehashed and alg.is_extension and alg.kind not in PREHASH_PQC_SIGN_KINDS:
            raise invalid_argument(f"{alg.kind.name} signs messages, not hashes: use "
                                   "PsaSignMessage / PsaVerifyMessage or a Hash- variant")

    def psa_sign_hash(self, app: Identity, req: PsaSignHashRequest) -> SignatureResult:
        if not handles_request(req.alg, req.context):
            return super().psa_sign_hash(app, req)
        rec = self.load(app, req.key_name)
        self._pqc_sign_checks(rec, req.alg, req.context, "sign_hash", "signing hashes", True)
        check_sign_hash_length(req.alg, req.hash)
        with self.material(rec) as m:
            return SignatureResult(sign(rec.attributes, m, req.alg, req.hash, True, req.context))

    def psa_verify_hash(self, app: Identity, req: PsaVerifyHashRequest) -> EmptyResult:
        if not handles_request(req.alg, req.context):
            return super().psa_verify_hash(app, req)
        rec = self.load(app, req.key_name)
        self._pqc_sign_checks(rec, req.alg, req.context, "verify_hash", "verifying hash signatures",
                          True)
        check_sign_hash_length(req.alg, req.hash)
        with self.material(rec) as m:
            verify(rec.attributes, m, req.alg, req.hash, req.signature, True, req.context)
        return EmptyResult()

    def psa_sign_message(self, app: Identity, req: PsaSignMessageRequest) -> SignatureResult:
        if not handles_request(req.alg, req.context):
            return super().psa_sign_message(app, req)
        rec = self.load(app, req.key_name)
        self._pqc_sign_checks(rec, req.alg, req.context, "sign_message", "signing messages", False)
        with self.material(rec) as m:
            return SignatureResult(sign(rec.attributes, m, req.alg, req.message, False,
                                        req.context))

    def psa_verify_message(self, app: Identity, req: PsaVerifyMessageRequest) -> EmptyResult:
        if not handles_request(req.alg, req.context):
            return super().psa_verify_message(app, req)
        rec = self.load(app, req.key_name)
        self._pqc_sign_checks(rec, req.alg, req.context, "verify_message", "verifying messages", False)
        with self.material(rec) as m:
            verify(rec.attributes, m, req.alg, req.message, req.signature, False, req.context)
        return EmptyResult()

    # Key encapsulation (extension opcodes 0x0100 / 0x0101).

    def _pqc_kem_output(self, app: Identity, name: str, attrs: KeyAttributes | None) -> KeyAttributes | None:
        if attrs is None:
            if name:
                raise invalid_argument("output_key_name given without output_key_attributes")
            return None
        if not name:
            raise invalid_argument("output_key_attributes given without output_key_name")
        out = output_attributes(attrs)
        check_not_deprecated(out, self.limits.allow_deprecated)
        self._pqc_check_free(app, name)
        return out

    def _pqc_kem_result(self, app: Identity, name: str, out: KeyAttributes | None, secret: bytes) -> bytes:
        """The secret to return, or b"" once it is stored as the new key `name`."""
        if out is None:
            return secret
        self._store_new(app, name, out, bytearray(secret))
        return b""

    def psa_encapsulate(self, app: Identity, req: PsaEncapsulateRequest) -> PsaEncapsulateResult:
        rec = self.load(app, req.key_name)
        check_kem_key(rec.attributes.key_type, req.alg)
        check_usage(rec.attributes, "encrypt", "encapsulation")
        check_alg(rec.attributes, KemAlg(req.alg), "encapsulation")
        out = self._pqc_kem_output(app, req.output_key_name, req.output_key_attributes)
        with self.material(rec) as m:
            secret, ciphertext = encapsulate(rec.attributes, m, req.alg)
        return PsaEncapsulateResult(ciphertext, self._pqc_kem_result(app, req.output_key_name, out,
                                                                 secret))

    def psa_decapsulate(self, app: Identity, req: PsaDecapsulateRequest) -> PsaDecapsulateResult:
        rec = self.load(app, req.key_name)
        check_kem_key(rec.attributes.key_type, req.alg)
        check_usage(rec.attributes, "decrypt", "decapsulation")
        check_alg(rec.attributes, KemAlg(req.alg), "decapsulation")
        out = self._pqc_kem_output(app, req.output_key_name, req.output_key_attributes)
        with self.material(rec) as m:
            secret = decapsulate(rec.attributes, m, req.alg, req.ciphertext)
        return PsaDecapsulateResult(self._pqc_kem_result(app, req.output_key_name, out, secret))

    # CanDoCrypto: extension attributes here, the rest wherever the classic code answers it.

    def can_do_crypto(self, app: Identity | None, req: CanDoCryptoRequest) -> EmptyResult:
        verdict = pqc_capability(req.check_type, req.attributes)
        if verdict is None:
            classic: Callable[[Identity | None, CanDoCryptoRequest], EmptyResult] | None = \
                getattr(super(), "can_do_crypto", None)
            if classic is None:
                raise not_supported("CanDoCrypto is not supported")
            return classic(app, req)
        if not verdict:
            raise not_supported(f"the software provider cannot do this with "
                                f"{req.attributes.key_type.describe()} keys")
        return EmptyResult()


__all__ = ["PqcOps", "pqc_capability"]
