"""Rebuild slh_dsa_acvp.json.gz, the SLH-DSA known-answer subset the tests use, from NIST's ACVP
files (README.md in this folder says where they come from and which cases are kept).

    python tests/pqc/vectors/make_slh_dsa_subset.py DIR

DIR holds the six NIST files, named as in ACVP-Server's gen-val/json-files, with the folder
separator replaced by "__": SLH-DSA-keyGen-FIPS205__prompt.json, ...__expectedResults.json, and
the same for sigGen and sigVer. The output is byte-for-byte reproducible (gzip mtime 0)."""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("slh_dsa_acvp.json.gz")
# Pre-hashes that a PSA / Parsec client can name (Parsec's Hash enum has no SHAKE).
PSA_HASHES = {"SHA2-224", "SHA2-256", "SHA2-384", "SHA2-512", "SHA2-512/224", "SHA2-512/256",
              "SHA3-224", "SHA3-256", "SHA3-384", "SHA3-512"}


def _load(src: Path, mode: str, part: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((src / f"SLH-DSA-{mode}-FIPS205__{part}.json").read_text())
    return data


def _results(src: Path, mode: str) -> dict[int, dict[str, Any]]:
    return {t["tcId"]: t for g in _load(src, mode, "expectedResults")["testGroups"]
            for t in g["tests"]}


def _shortest(tests: list[dict[str, Any]]) -> dict[str, Any]:
    return min(tests, key=lambda t: (len(t["message"]), t["tcId"]))


def key_gen(src: Path) -> list[dict[str, Any]]:
    expected = _results(src, "keyGen")
    out = []
    for g in _load(src, "keyGen", "prompt")["testGroups"]:
        for t in g["tests"][:2]:
            e = expected[t["tcId"]]
            assert e["sk"] == t["skSeed"] + t["skPrf"] + e["pk"], t["tcId"]
            out.append({"tcId": t["tcId"], "parameterSet": g["parameterSet"],
                        "skSeed": t["skSeed"], "skPrf": t["skPrf"], "pkSeed": t["pkSeed"],
                        "pk": e["pk"]})
    return out


def sig_gen(src: Path) -> list[dict[str, Any]]:
    """Deterministic signing through the external interface, "f" sets only (the "s" sets take
    seconds per signature): per set the shortest pure case and the shortest pre-hash case with a
    PSA hash. The expected signature is kept as its SHA-256."""
    expected = _results(src, "sigGen")
    out = []
    for g in _load(src, "sigGen", "prompt")["testGroups"]:
        if not (g["deterministic"] and g["signatureInterface"] == "external"
                and g["parameterSet"].endswith("f")):
            continue
        tests = [t for t in g["tests"] if g["preHash"] == "pure" or t["hashAlg"] in PSA_HASHES]
        t = _shortest(tests)
        sig = bytes.fromhex(expected[t["tcId"]]["signature"])
        out.append({"tcId": t["tcId"], "parameterSet": g["parameterSet"], "preHash": g["preHash"],
                    "sk": t["sk"], "message": t["message"], "context": t["context"],
                    "hashAlg": t.get("hashAlg", "none"),
                    "signatureSha256": hashlib.sha256(sig).hexdigest().upper()})
    return out


def sig_ver(src: Path) -> list[dict[str, Any]]:
    """Verification through the external interface: for every set the shortest valid pure case;
    for the 128-bit sets (the smallest signatures) also the shortest invalid pure case of the
    right length and the shortest valid and invalid pre-hash cases with a PSA hash; for
    SLH-DSA-SHA2-128s also one signature of the wrong length. Cases with a SHAKE pre-hash are left
    out: a PSA / Parsec client cannot name that hash."""
    expected = _results(src, "sigVer")
    out = []
    for g in _load(src, "sigVer", "prompt")["testGroups"]:
        if g["signatureInterface"] != "external":
            continue
        small = "-128" in g["parameterSet"]
        if not small and g["preHash"] != "pure":
            continue
        psa = [t for t in g["tests"] if g["preHash"] == "pure" or t["hashAlg"] in PSA_HASHES]
        valid = _shortest([t for t in psa if expected[t["tcId"]]["testPassed"]])
        picks = [valid]
        if small:
            bad = [t for t in psa if not expected[t["tcId"]]["testPassed"]]
            # a modified signature or message (right length), and for one set a wrong length
            picks.append(_shortest([t for t in bad if len(t["signature"]) == len(valid["signature"])]))
            if g["parameterSet"] == "SLH-DSA-SHA2-128s" and g["preHash"] == "pure":
                picks.append(_shortest([t for t in bad
                                        if len(t["signature"]) != len(valid["signature"])]))
        for t in picks:
            out.append({"tcId": t["tcId"], "parameterSet": g["parameterSet"],
                        "preHash": g["preHash"], "pk": t["pk"], "message": t["message"],
                        "context": t["context"], "hashAlg": t.get("hashAlg", "none"),
                        "signature": t["signature"],
                        "testPassed": expected[t["tcId"]]["testPassed"]})
    return out


def main(src: Path) -> None:
    meta = _load(src, "keyGen", "prompt")
    subset = {"source": "NIST ACVP-Server gen-val/json-files SLH-DSA-{keyGen,sigGen,sigVer}-FIPS205",
              "vsId": meta["vsId"], "revision": meta["revision"],
              "keyGen": key_gen(src), "sigGen": sig_gen(src), "sigVer": sig_ver(src)}
    text = json.dumps(subset, indent=1, sort_keys=True).encode()
    with open(OUT, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(text)
    print(f"{OUT}: {len(subset['keyGen'])} keyGen, {len(subset['sigGen'])} sigGen, "
          f"{len(subset['sigVer'])} sigVer cases, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
