"""Parameter sets of the post-quantum and Edwards keys, and the libraries that implement them,
loaded on first use where they are costly."""

from __future__ import annotations

import functools
import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pqcrypto  # type: ignore[import-untyped]
from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem

from pqparsec.protocol.psa import Hash, SlhDsaFamily
from pqparsec.protocol.psa.policy import not_supported


def _available(module: str) -> bool:
    """Whether `module` can be imported, without importing it (its parent packages only)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # pragma: no cover - depends on the machine
        return False


@functools.cache
def lazy_import(name: str) -> ModuleType:
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
CRYPTOGRAPHY_ML_KEM: dict[int, tuple[Any, Any]] = {
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
HASHLIB = {Hash.SHA_224: "sha224", Hash.SHA_256: "sha256", Hash.SHA_384: "sha384",
            Hash.SHA_512: "sha512", Hash.SHA_512_224: "sha512_224", Hash.SHA_512_256: "sha512_256",
            Hash.SHA3_224: "sha3_224", Hash.SHA3_256: "sha3_256", Hash.SHA3_384: "sha3_384",
            Hash.SHA3_512: "sha3_512"}
_PQCRYPTO_HASH = {Hash.SHA_224: "Sha224", Hash.SHA_256: "Sha256", Hash.SHA_384: "Sha384",
                  Hash.SHA_512: "Sha512", Hash.SHA_512_224: "Sha512_224",
                  Hash.SHA_512_256: "Sha512_256", Hash.SHA3_224: "Sha3_224",
                  Hash.SHA3_256: "Sha3_256", Hash.SHA3_384: "Sha3_384", Hash.SHA3_512: "Sha3_512"}

DETERMINISTIC_ML_DSA_AVAILABLE = _available("Crypto.Signature.mldsa")
DETERMINISTIC_SLH_DSA_AVAILABLE = _available("slhdsa")


def slh_module(family: SlhDsaFamily | None, bits: int) -> ModuleType:
    if family is None or bits not in SLH_DSA_BITS:
        raise not_supported(f"SLH-DSA with family {family} and {bits} bits does not exist")
    fam, speed = _SLH_FAMILY_NAMES[family]
    return importlib.import_module(f"pqcrypto.sign.slh_dsa_{fam}_{bits}{speed}")


def ml_kem_512() -> ModuleType:
    return importlib.import_module("pqcrypto.kem.ml_kem_512")


def ml_kem_512_expand(seed: bytes) -> tuple[bytes, bytes]:
    """(ek, expanded dk) of an ML-KEM-512 seed d || z: FIPS 203 ML-KEM.KeyGen_internal, done by
    pycryptodome (`cryptography` has no ML-KEM-512, pqcrypto takes no seed)."""
    mlkem_512 = lazy_import("Crypto.PublicKey.MLKEM")
    key = mlkem_512.construct(param_set=mlkem_512.ML_KEM_512, seed=seed)
    return bytes(key.ek), bytes(key.expanded_dk)


def slh_dsa_params(family: SlhDsaFamily | None, bits: int) -> str:
    """slh-dsa's name of a parameter set ("sha2_128s"); NotSupported without slh-dsa."""
    if not DETERMINISTIC_SLH_DSA_AVAILABLE:
        raise not_supported("deterministic SLH-DSA signatures and HashSLH-DSA over a hash need the "
                            "slh-dsa package in the service's environment")
    if family is None or bits not in SLH_DSA_BITS:
        raise not_supported(f"SLH-DSA with family {family} and {bits} bits does not exist")
    fam, speed = _SLH_FAMILY_NAMES[family]
    return f"{fam}_{bits}{speed}"


def slh_dsa_public(family: SlhDsaFamily | None, bits: int, pk: bytes) -> Any:
    params = slh_dsa_params(family, bits)
    slhdsa = lazy_import("slhdsa")
    return slhdsa.PublicKey.from_digest(pk, getattr(slhdsa, params))


def pqcrypto_hash(h: Hash) -> Any:
    return getattr(pqcrypto.HashAlgorithm, _PQCRYPTO_HASH[h])


def slh_dsa_name(family: SlhDsaFamily, bits: int) -> str:
    fam, speed = _SLH_FAMILY_NAMES[family]
    return f"SLH-DSA-{fam.upper()}-{bits}{speed}"

