"""Malformed post-quantum requests over the socket: wrong ciphertext lengths, keys of the wrong
type for the algorithm, over-long context strings. Each must give the exact PSA status (and never
crash the connection or the service)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pqparsec.client import templates
from pqparsec.client.errors import ServiceError
from pqparsec.client.pqc import PqcClient
from pqparsec.protocol.psa import (
    Hash,
    KemAlg,
    KemKind,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    SlhDsaFamily,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

INVALID = ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
NOT_PERMITTED = ResponseStatus.PSA_ERROR_NOT_PERMITTED
KEM_USAGE = UsageFlags(encrypt=True, decrypt=True)
SIGN_USAGE = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True)
ML_DSA = SignAlg(SignKind.ML_DSA)
SLH_DSA = SignAlg(SignKind.SLH_DSA)


def status_of(fn: Callable[[], Any]) -> ResponseStatus:
    with pytest.raises(ServiceError) as e:
        fn()
    return e.value.status


def mlkem(bits: int = 768, usage: UsageFlags = KEM_USAGE) -> KeyAttributes:
    return KeyAttributes(KeyType(KeyKind.ML_KEM_KEY_PAIR), bits,
                         KeyPolicy(usage, KemAlg(KemKind.ML_KEM)))


def mldsa(alg: SignAlg = ML_DSA) -> KeyAttributes:
    return KeyAttributes(KeyType(KeyKind.ML_DSA_KEY_PAIR), 192, KeyPolicy(SIGN_USAGE, alg))


def slhdsa() -> KeyAttributes:
    return KeyAttributes(KeyType.slh_dsa_key_pair(SlhDsaFamily.SHA2_F), 128,
                         KeyPolicy(SIGN_USAGE, SLH_DSA))


@pytest.mark.parametrize(("bits", "ct_len"), [(512, 768), (768, 1088), (1024, 1568)])
def test_decapsulate_wrong_ciphertext_length(pq: PqcClient, bits: int, ct_len: int) -> None:
    pq.generate_key("kem", mlkem(bits))
    for n in (0, 1, ct_len - 1, ct_len + 1, 1088 if bits != 768 else 1568):
        assert status_of(lambda n=n: pq.decapsulate("kem", KemKind.ML_KEM, b"\x5a" * n)) == \
            INVALID, n
    ct, ss = pq.encapsulate("kem", KemKind.ML_KEM)
    assert pq.decapsulate("kem", KemKind.ML_KEM, ct) == ss  # the key still works
    assert status_of(lambda: pq.decapsulate("kem", KemKind.ML_KEM, ct + b"\0")) == INVALID


def test_xwing_wrong_ciphertext_length(pq: PqcClient) -> None:
    pq.generate_key("xw", KeyAttributes(KeyType(KeyKind.XWING_KEY_PAIR), 768,
                                        KeyPolicy(KEM_USAGE, KemAlg(KemKind.X_WING))))
    ct, _ = pq.encapsulate("xw", KemKind.X_WING)
    assert status_of(lambda: pq.decapsulate("xw", KemKind.X_WING, ct[:-1])) == INVALID
    assert status_of(lambda: pq.decapsulate("xw", KemKind.X_WING, ct[:1088])) == INVALID


def test_kem_with_keys_of_other_types(pq: PqcClient) -> None:
    # PSA psa_encapsulate/psa_decapsulate: a key type that cannot do the algorithm is
    # INVALID_ARGUMENT. The service checks the key type before the usage flags and policy.
    pq.generate_key("ecc", templates.ecc_signing())
    pq.generate_key("ecdh", templates.ecdh())
    pq.generate_key("dsa", mldsa())
    pq.generate_key("aes", templates.aead())
    for name in ("ecc", "ecdh", "dsa", "aes"):
        assert status_of(lambda name=name: pq.encapsulate(name, KemKind.ML_KEM)) == INVALID, name
        assert status_of(lambda name=name: pq.decapsulate(name, KemKind.ML_KEM, b"\0" * 1088)) \
            == INVALID, name


def test_sign_with_keys_of_other_types(pq: PqcClient) -> None:
    # PSA psa_sign_message: NOT_PERMITTED when the key's usage or policy does not allow the
    # algorithm, checked (as in Parsec and Mbed TLS) before key type compatibility. A key's policy
    # can only name an algorithm its type can do, so a mismatched key is NOT_PERMITTED.
    pq.generate_key("kem", mlkem())
    pq.generate_key("kem-signflags", mlkem(usage=SIGN_USAGE))
    pq.generate_key("ecc", templates.ecc_signing())
    pq.generate_key("ed", templates.eddsa())
    pq.generate_key("slh", slhdsa())
    for name in ("kem", "kem-signflags", "ecc", "ed", "slh"):
        assert status_of(lambda name=name: pq.sign_message(name, ML_DSA, b"m")) == \
            NOT_PERMITTED, name
        assert status_of(lambda name=name: pq.verify_message(name, ML_DSA, b"m", b"\0" * 3309)) \
            == NOT_PERMITTED, name
    pq.generate_key("dsa", mldsa())
    assert status_of(lambda: pq.sign_message("dsa", SLH_DSA, b"m")) == NOT_PERMITTED
    assert status_of(lambda: pq.sign_message("dsa", SignAlg(SignKind.ECDSA, Hash.SHA_256),
                                             b"m")) == NOT_PERMITTED
    # a policy naming an algorithm the key type cannot do is refused at creation
    assert status_of(lambda: pq.generate_key("bad", KeyAttributes(
        KeyType(KeyKind.ML_KEM_KEY_PAIR), 768, KeyPolicy(SIGN_USAGE, ML_DSA)))) == INVALID
    assert status_of(lambda: pq.generate_key("bad", KeyAttributes(
        KeyType(KeyKind.ML_DSA_KEY_PAIR), 192, KeyPolicy(KEM_USAGE, KemAlg(KemKind.ML_KEM))))) \
        == INVALID


@pytest.mark.parametrize("which", ["ml-dsa", "hash-ml-dsa", "slh-dsa"])
def test_context_longer_than_255_bytes(pq: PqcClient, which: str) -> None:
    if which == "slh-dsa":
        attrs, alg = slhdsa(), SLH_DSA
    elif which == "hash-ml-dsa":
        alg = SignAlg(SignKind.HASH_ML_DSA, Hash.SHA_256)
        attrs = mldsa(alg)
    else:
        attrs, alg = mldsa(), ML_DSA
    pq.generate_key("k", attrs)
    sig = pq.sign_message_with_context("k", alg, b"m", b"c" * 255)  # the limit itself is fine
    pq.verify_message_with_context("k", alg, b"m", sig, b"c" * 255)
    for n in (256, 1000, 65536):
        ctx = b"c" * n
        assert status_of(lambda ctx=ctx: pq.sign_message_with_context("k", alg, b"m", ctx)) == \
            INVALID, n
        assert status_of(lambda ctx=ctx: pq.verify_message_with_context(
            "k", alg, b"m", sig, ctx)) == INVALID, n
    if alg.hash is not None:
        digest = b"\1" * 32
        assert status_of(lambda: pq.sign_hash_with_context("k", alg, digest, b"c" * 256)) == \
            INVALID
        hsig = pq.sign_hash_with_context("k", alg, digest, b"c" * 255)
        assert status_of(lambda: pq.verify_hash_with_context("k", alg, digest, hsig,
                                                             b"c" * 256)) == INVALID


def test_context_with_schemes_without_one(pq: PqcClient) -> None:
    pq.generate_key("ed", templates.eddsa())
    pq.generate_key("ecc", templates.ecc_signing())
    eddsa = SignAlg(SignKind.PURE_EDDSA)
    assert status_of(lambda: pq.sign_message_with_context("ed", eddsa, b"m", b"x")) == INVALID
    ecdsa = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    assert status_of(lambda: pq.sign_hash_with_context("ecc", ecdsa, b"\1" * 32, b"x")) == INVALID


def test_malformed_signatures(pq: PqcClient) -> None:
    pq.generate_key("dsa", mldsa())
    sig = pq.sign_message("dsa", ML_DSA, b"m")
    for bad in (b"", sig[:-1], sig + b"\0", b"\0" * len(sig)):
        assert status_of(lambda bad=bad: pq.verify_message("dsa", ML_DSA, b"m", bad)) == \
            ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
