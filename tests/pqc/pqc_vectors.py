"""Published known-answer vectors shipped by installed packages (cryptography-vectors):
NIST ML-KEM / ML-DSA KATs and the HPKE-PQ vectors (X-Wing = HPKE KEM 0x647a)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


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
