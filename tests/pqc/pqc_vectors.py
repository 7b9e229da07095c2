"""Published known-answer vectors: NIST ML-KEM / ML-DSA KATs and the HPKE-PQ vectors (X-Wing =
HPKE KEM 0x647a) shipped by an installed package (cryptography-vectors), and a subset of NIST's
ACVP SLH-DSA vectors kept in vectors/ (vectors/README.md)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from pqparsec.protocol.psa import Hash, KeyType, SlhDsaFamily


def _vectors_dir() -> Path:
    vectors = pytest.importorskip("cryptography_vectors")
    return Path(vectors.__file__).parent


def read_rsp(relpath: str, limit: int) -> list[dict[str, str]]:
    """The first `limit` records of a NIST .rsp file ("count = n" starts a record)."""
    records: list[dict[str, str]] = []
    with open(_vectors_dir() / relpath) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = (p.strip() for p in line.split("=", 1))
            if key == "count":
                if len(records) == limit:
                    break
                records.append({})
            if records:
                records[-1][key] = value
    return records


def ml_kem_kat(bits: int, limit: int = 3) -> list[dict[str, bytes]]:
    """Fields: d, z (keygen seeds), msg (encapsulation randomness m), pk, sk (expanded dk),
    ct, ss, ct_n (an invalid ciphertext), ss_n (its implicit-rejection secret)."""
    return [{k: bytes.fromhex(v) for k, v in r.items() if k != "count"}
            for r in read_rsp(f"asymmetric/MLKEM/kat_MLKEM_{bits}.rsp", limit)]


def ml_dsa_kat(n: int, limit: int = 3) -> list[dict[str, bytes]]:
    """Deterministic pure ML-DSA: xi (seed), pk, sk, msg, ctx, sm = signature || msg."""
    out = []
    for r in read_rsp(f"asymmetric/MLDSA/kat_MLDSA_{n}_det_pure.rsp", limit):
        v = {k: bytes.fromhex(val) for k, val in r.items()
             if k not in ("count", "mlen", "smlen")}
        v["sig"] = v["sm"][:len(v["sm"]) - len(v["msg"])]
        out.append(v)
    return out


def xwing_hpke_vectors() -> list[dict[str, bytes]]:
    """HPKE-PQ vectors of KEM 0x647a (MLKEM768-X25519 = X-Wing): skRm is the 32-byte X-Wing
    seed, pkRm its encapsulation key, enc the ciphertext, shared_secret the KEM output."""
    with open(_vectors_dir() / "HPKE" / "hpke-pq-test-vectors.json") as f:
        data = json.load(f)
    return [{k: bytes.fromhex(v[k]) for k in ("skRm", "pkRm", "enc", "shared_secret")}
            for v in data if int(v["kem_id"]) == 0x647A]


# -- SLH-DSA: NIST ACVP (FIPS 205) --------------------------------------------------------------

SLH_DSA_ACVP = Path(__file__).with_name("vectors") / "slh_dsa_acvp.json.gz"
_ACVP_FAMILIES = {"SHA2-s": SlhDsaFamily.SHA2_S, "SHA2-f": SlhDsaFamily.SHA2_F,
                  "SHAKE-s": SlhDsaFamily.SHAKE_S, "SHAKE-f": SlhDsaFamily.SHAKE_F}
ACVP_HASHES = {"SHA2-224": Hash.SHA_224, "SHA2-256": Hash.SHA_256, "SHA2-384": Hash.SHA_384,
               "SHA2-512": Hash.SHA_512, "SHA2-512/224": Hash.SHA_512_224,
               "SHA2-512/256": Hash.SHA_512_256, "SHA3-224": Hash.SHA3_224,
               "SHA3-256": Hash.SHA3_256, "SHA3-384": Hash.SHA3_384, "SHA3-512": Hash.SHA3_512}


def slh_dsa_parameter_set(name: str) -> tuple[SlhDsaFamily, int]:
    """ "SLH-DSA-SHAKE-192f" -> (SHAKE_F, 192): the PSA family and key_bits."""
    _, _, fam, size = name.split("-")
    return _ACVP_FAMILIES[f"{fam}-{size[-1]}"], int(size[:-1])


def slh_dsa_acvp(mode: str) -> list[dict[str, Any]]:
    """The cases of one ACVP mode ("keyGen", "sigGen", "sigVer"), hex fields decoded, with
    `family`, `bits`, `key_type` (the key pair's) and, for pre-hash cases, `hash` added."""
    with gzip.open(SLH_DSA_ACVP, "rt") as f:
        cases: list[dict[str, Any]] = json.load(f)[mode]
    hex_fields = {"skSeed", "skPrf", "pkSeed", "pk", "sk", "message", "context", "signature"}
    out = []
    for c in cases:
        v: dict[str, Any] = {k: bytes.fromhex(x) if k in hex_fields else x for k, x in c.items()}
        v["family"], v["bits"] = slh_dsa_parameter_set(c["parameterSet"])
        v["key_type"] = KeyType.slh_dsa_key_pair(v["family"])
        if c.get("hashAlg", "none") != "none":
            v["hash"] = ACVP_HASHES[c["hashAlg"]]
        out.append(v)
    return out
