"""SLH-DSA (FIPS 205) against NIST's ACVP vectors, end to end over the service's socket.

The vectors are a subset of ACVP-Server's SLH-DSA-{keyGen,sigGen,sigVer}-FIPS205 (vectors/README.md
says which). Only the "external" interface is reachable through PSA: "pure" cases go through
SLH_DSA with the case's context, "preHash" cases through HASH_SLH_DSA(hash), both as
PsaVerifyMessage (the service hashes) and as PsaVerifyHash (the client hashes). The "internal"
interface (slh_sign_internal on a raw M') has no PSA operation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from pqc_vectors import slh_dsa_acvp

from pqparsec.client.errors import ServiceError
from pqparsec.client.pqc import PqcClient
from pqparsec.protocol.psa import (
    ANY_HASH,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    SlhDsaFamily,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus
from pqparsec.service.providers.software.pqc import DETERMINISTIC_SLH_DSA_AVAILABLE

SIGN_USAGE = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True,
                        export=True)
HASHLIB = {"SHA2-224": "sha224", "SHA2-256": "sha256", "SHA2-384": "sha384",
           "SHA2-512": "sha512", "SHA2-512/224": "sha512_224", "SHA2-512/256": "sha512_256",
           "SHA3-224": "sha3_224", "SHA3-256": "sha3_256", "SHA3-384": "sha3_384",
           "SHA3-512": "sha3_512"}


def status_of(fn: Callable[[], Any]) -> ResponseStatus:
    with pytest.raises(ServiceError) as e:
        fn()
    return e.value.status


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [f"tc{c['tcId']}-{c['parameterSet'][8:]}-{c.get('preHash', 'key')}" for c in cases]


def _algs(case: dict[str, Any], deterministic: bool = False) -> tuple[SignAlg, SignAlg]:
    """(the algorithm of a request, the policy that permits it) for an ACVP case."""
    if "hash" in case:
        kind = SignKind.DETERMINISTIC_HASH_SLH_DSA if deterministic else SignKind.HASH_SLH_DSA
        return SignAlg(kind, case["hash"]), SignAlg(kind, ANY_HASH)
    alg = SignAlg(SignKind.DETERMINISTIC_SLH_DSA if deterministic else SignKind.SLH_DSA)
    return alg, alg


# -- keyGen: (SK.seed, SK.prf, PK.seed) -> PK.root ---------------------------------------------

KEY_GEN = [c for c in slh_dsa_acvp("keyGen")
           # every "f" case, and one of SLH-DSA-SHA2-128s (the PK.root check costs ~1 s there)
           if c["parameterSet"].endswith("f") or c["tcId"] == 1]


@pytest.mark.parametrize("case", KEY_GEN, ids=_ids(KEY_GEN))
def test_key_gen(pq: PqcClient, case: dict[str, Any]) -> None:
    """The 4n-byte key pair SK.seed || SK.prf || PK.seed || PK.root imports, and exports as it
    came, with the ACVP public key; a PK.root that SK.seed and PK.seed do not give is refused
    (checked on the "f" sets, where the check is cheap)."""
    sk = case["skSeed"] + case["skPrf"] + case["pk"]
    policy = KeyPolicy(SIGN_USAGE, SignAlg(SignKind.SLH_DSA))
    pq.import_key("kat", KeyAttributes(case["key_type"], 0, policy), sk)
    assert pq.key_attributes("kat").key_bits == case["bits"]
    assert pq.export_public_key("kat") == case["pk"]
    assert pq.export_key("kat") == sk
    if case["parameterSet"].endswith("s"):
        return
    for i, bad in enumerate((sk[:-1] + bytes([sk[-1] ^ 0x80]),  # PK.root
                             bytes([sk[0] ^ 1]) + sk[1:])):  # SK.seed
        assert status_of(lambda b=bad, i=i: pq.import_key(
            f"bad{i}", KeyAttributes(case["key_type"], case["bits"], policy), b)) == \
            ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


# -- sigVer: external interface, pure and pre-hash ----------------------------------------------

SIG_VER = slh_dsa_acvp("sigVer")


@pytest.mark.parametrize("case", SIG_VER, ids=_ids(SIG_VER))
def test_sig_ver(pq: PqcClient, case: dict[str, Any]) -> None:
    alg, policy = _algs(case)
    pub_type = KeyType.slh_dsa_public_key(case["family"])
    pq.import_key("pk", KeyAttributes(pub_type, 0, KeyPolicy(UsageFlags(verify_message=True,
                                                                        verify_hash=True), policy)),
                  case["pk"])
    msg, ctx, sig = case["message"], case["context"], case["signature"]

    def check(fn: Callable[[], None]) -> None:
        if case["testPassed"]:
            fn()
        else:
            assert status_of(fn) == ResponseStatus.PSA_ERROR_INVALID_SIGNATURE

    check(lambda: pq.verify_message_with_context("pk", alg, msg, sig, ctx))
    if "hash" in case:  # the client hashes: PsaVerifyHash
        digest = hashlib.new(HASHLIB[case["hashAlg"]], msg).digest()
        check(lambda: pq.verify_hash_with_context("pk", alg, digest, sig, ctx))
    if case["testPassed"]:  # the context is part of what is signed
        assert status_of(lambda: pq.verify_message_with_context(
            "pk", alg, msg, sig, ctx + b"!" if len(ctx) < 255 else ctx[:-1])) == \
            ResponseStatus.PSA_ERROR_INVALID_SIGNATURE


# -- sigGen: deterministic signatures, byte for byte ---------------------------------------------

# The 128f cases and pure SHA2-192f (SHA-512 inside): slh-dsa signs in pure Python, 0.2 to 1 s a
# signature for the "f" sets; the file has every "f" set for a longer run.
SIG_GEN = [c for c in slh_dsa_acvp("sigGen")
           if c["bits"] == 128 or (c["family"] == SlhDsaFamily.SHA2_F and c["preHash"] == "pure"
                                   and c["bits"] == 192)]


@pytest.mark.skipif(not DETERMINISTIC_SLH_DSA_AVAILABLE, reason="slh-dsa is not installed")
@pytest.mark.parametrize("case", SIG_GEN, ids=_ids(SIG_GEN))
def test_sig_gen_deterministic(pq: PqcClient, case: dict[str, Any]) -> None:
    alg, policy = _algs(case, deterministic=True)
    pq.import_key("sk", KeyAttributes(case["key_type"], 0, KeyPolicy(SIGN_USAGE, policy)),
                  case["sk"])
    sig = pq.sign_message_with_context("sk", alg, case["message"], case["context"])
    assert hashlib.sha256(sig).hexdigest().upper() == case["signatureSha256"]
    if "hash" in case:  # the same signature from the hash the client computed
        digest = hashlib.new(HASHLIB[case["hashAlg"]], case["message"]).digest()
        assert pq.sign_hash_with_context("sk", alg, digest, case["context"]) == sig
    # the hedged form of the scheme verifies it (PSA: equivalent for verification)
    pq.verify_message_with_context("sk", _algs(case)[0], case["message"], sig, case["context"])
