"""The post-quantum extension end to end: a real `pqparsec serve` process, a real socket.

Round trips for every parameter set, known answers through the service, cross-library checks,
and the guarantee that a client which never asks sees exactly Parsec."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pqcrypto
import pytest
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, mldsa, mlkem
from pqc_vectors import ml_dsa_kat, ml_kem_kat, xwing_hpke_vectors
from pqptest.service import ServiceProcess

from pqparsec.client.errors import InvalidSignature, ServiceError
from pqparsec.client.pqc import PqcClient
from pqparsec.protocol.header import RawHeader
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.proto import list_keys_pb2, list_opcodes_pb2
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    Hash,
    KemAlg,
    KemKind,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    NoAlgorithm,
    SignAlg,
    SignKind,
    SlhDsaFamily,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus
from pqparsec.service.providers.software.pqc import (
    DETERMINISTIC_ML_DSA_AVAILABLE,
    DETERMINISTIC_SLH_DSA_AVAILABLE,
)

KEM_USAGE = UsageFlags(encrypt=True, decrypt=True, export=True)
SIGN_USAGE = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True,
                        export=True)
ML_DSA_SETS = {44: 128, 65: 192, 87: 256}
CTX = b"pqparsec test context"


def status_of(fn: Callable[[], Any]) -> ResponseStatus:
    with pytest.raises(ServiceError) as e:
        fn()
    return e.value.status


def kem_attrs(kind: KeyKind, bits: int, alg: KemKind = KemKind.ML_KEM,
              usage: UsageFlags = KEM_USAGE) -> KeyAttributes:
    return KeyAttributes(KeyType(kind), bits, KeyPolicy(usage, KemAlg(alg)))


def sign_attrs(kt: KeyType, bits: int, alg: SignAlg, usage: UsageFlags = SIGN_USAGE) -> KeyAttributes:
    return KeyAttributes(kt, bits, KeyPolicy(usage, alg))


# -- ML-KEM --------------------------------------------------------------------------------------

@pytest.mark.parametrize("bits", [512, 768, 1024])
def test_ml_kem_round_trip(pq: PqcClient, bits: int) -> None:
    pq.generate_key("kem", kem_attrs(KeyKind.ML_KEM_KEY_PAIR, bits))
    ct, ss = pq.encapsulate("kem", KemKind.ML_KEM)
    assert len(ct) == {512: 768, 768: 1088, 1024: 1568}[bits] and len(ss) == 32
    assert pq.decapsulate("kem", KemKind.ML_KEM, ct) == ss
    # encapsulation to an imported public key, decapsulated by the pair
    pub = pq.export_public_key("kem")
    assert len(pub) == {512: 800, 768: 1184, 1024: 1568}[bits]
    pq.import_key("kem-pub", kem_attrs(KeyKind.ML_KEM_PUBLIC_KEY, 0), pub)
    ct2, ss2 = pq.encapsulate("kem-pub", KemKind.ML_KEM)
    assert pq.decapsulate("kem", KemKind.ML_KEM, ct2) == ss2
    # implicit rejection: a corrupted ciphertext decapsulates to another secret, not an error
    bad = bytes([ct[0] ^ 1]) + ct[1:]
    assert pq.decapsulate("kem", KemKind.ML_KEM, bad) != ss
    assert status_of(lambda: pq.decapsulate("kem", KemKind.ML_KEM, ct[:-1])) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    assert status_of(lambda: pq.decapsulate("kem-pub", KemKind.ML_KEM, ct)) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    assert status_of(lambda: pq.encapsulate("kem", KemKind.X_WING)) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    seed = pq.export_key("kem")  # the PSA format: the seed d || z
    assert len(seed) == 64
    pq.import_key("kem-again", kem_attrs(KeyKind.ML_KEM_KEY_PAIR, bits), seed)
    assert pq.export_public_key("kem-again") == pub
    assert pq.decapsulate("kem-again", KemKind.ML_KEM, ct) == ss


@pytest.mark.parametrize("bits", [512, 768, 1024])
def test_ml_kem_known_answers_through_service(pq: PqcClient, bits: int) -> None:
    """NIST KAT: key generation from d || z (the public key), decapsulation, implicit rejection;
    the key pair exports as the seed it was imported from."""
    for i, v in enumerate(ml_kem_kat(bits, 2)):
        name = f"kat{i}"
        pq.import_key(name, kem_attrs(KeyKind.ML_KEM_KEY_PAIR, bits), v["d"] + v["z"])
        assert pq.export_public_key(name) == v["pk"]
        assert pq.export_key(name) == v["d"] + v["z"]
        assert pq.decapsulate(name, KemKind.ML_KEM, v["ct"]) == v["ss"]
        assert pq.decapsulate(name, KemKind.ML_KEM, v["ct_n"]) == v["ss_n"]


@pytest.mark.parametrize("bits", [512, 768, 1024])
def test_ml_kem_cross_library(pq: PqcClient, bits: int) -> None:
    """A second library encapsulates to the service's key; the service decapsulates."""
    pq.generate_key("kem", kem_attrs(KeyKind.ML_KEM_KEY_PAIR, bits))
    pub = pq.export_public_key("kem")
    other = __import__(f"pqcrypto.kem.ml_kem_{bits}", fromlist=["encaps"])
    ct, ss = other.encaps(pub)
    assert pq.decapsulate("kem", KemKind.ML_KEM, ct) == ss
    if bits != 512:
        cls = {768: mlkem.MLKEM768PublicKey, 1024: mlkem.MLKEM1024PublicKey}[bits]
        ss3, ct3 = cls.from_public_bytes(pub).encapsulate()
        assert pq.decapsulate("kem", KemKind.ML_KEM, ct3) == ss3


def test_kem_policy(pq: PqcClient) -> None:
    pq.generate_key("enc-only", kem_attrs(KeyKind.ML_KEM_KEY_PAIR, 768,
                                          usage=UsageFlags(encrypt=True)))
    ct, _ = pq.encapsulate("enc-only", KemKind.ML_KEM)
    assert status_of(lambda: pq.decapsulate("enc-only", KemKind.ML_KEM, ct)) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    pq.generate_key("no-alg", KeyAttributes(KeyType(KeyKind.ML_KEM_KEY_PAIR), 768,
                                            KeyPolicy(KEM_USAGE, NoAlgorithm())))
    assert status_of(lambda: pq.encapsulate("no-alg", KemKind.ML_KEM)) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert status_of(lambda: pq.encapsulate("missing", KemKind.ML_KEM)) == \
        ResponseStatus.PSA_ERROR_DOES_NOT_EXIST
    assert status_of(lambda: pq.generate_key("bad-bits", kem_attrs(KeyKind.ML_KEM_KEY_PAIR, 640))) \
        == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    assert status_of(lambda: pq.generate_key(
        "bad-policy", KeyAttributes(KeyType(KeyKind.ML_KEM_KEY_PAIR), 768,
                                    KeyPolicy(KEM_USAGE, SignAlg(SignKind.ML_DSA))))) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


def test_kem_into_new_keys(pq: PqcClient, pqc_service: ServiceProcess) -> None:
    """PSA semantics: with output attributes the shared secret becomes a new key, not returned."""
    pq.generate_key("kem", kem_attrs(KeyKind.ML_KEM_KEY_PAIR, 1024))
    aes = KeyAttributes(KeyType.simple(KeyKind.AES), 0, KeyPolicy(UsageFlags(export=True)))
    ct = pq.encapsulate_to_key("kem", KemKind.ML_KEM, "sender-aes", aes)
    pq.decapsulate_to_key("kem", KemKind.ML_KEM, ct, "receiver-aes", aes)
    a, b = pq.export_key("sender-aes"), pq.export_key("receiver-aes")
    assert a == b and len(a) == 32
    listed = {k.name: k.attributes for k in pq.list_keys()}
    assert listed["sender-aes"].key_bits == 256  # a classic key: visible to Parsec clients
    assert "kem" not in listed
    assert status_of(lambda: pq.decapsulate_to_key("kem", KemKind.ML_KEM, ct, "receiver-aes", aes)) \
        == ResponseStatus.PSA_ERROR_ALREADY_EXISTS
    rsa = KeyAttributes(KeyType.rsa_key_pair(), 0, KeyPolicy(UsageFlags()))
    assert status_of(lambda: pq.encapsulate_to_key("kem", KemKind.ML_KEM, "x", rsa)) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    short = KeyAttributes(KeyType.simple(KeyKind.AES), 128, KeyPolicy(UsageFlags()))
    assert status_of(lambda: pq.encapsulate_to_key("kem", KemKind.ML_KEM, "x", short)) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    derive = KeyAttributes(KeyType.simple(KeyKind.DERIVE), 256, KeyPolicy(UsageFlags(derive=True)))
    pq.encapsulate_to_key("kem", KemKind.ML_KEM, "derive-key", derive)
    assert "derive-key" in {k.name for k in pq.list_keys()}
    # another application cannot use the key, and does not see it
    other = PqcClient(app_name="someone-else", endpoint=pqc_service.endpoint)
    assert status_of(lambda: other.encapsulate("kem", KemKind.ML_KEM)) == \
        ResponseStatus.PSA_ERROR_DOES_NOT_EXIST


# -- X-Wing --------------------------------------------------------------------------------------

def test_xwing_round_trip_and_known_answers(pq: PqcClient) -> None:
    pq.generate_key("xw", kem_attrs(KeyKind.XWING_KEY_PAIR, 768, KemKind.X_WING))
    ct, ss = pq.encapsulate("xw", KemKind.X_WING)
    assert len(ct) == 1120 and pq.decapsulate("xw", KemKind.X_WING, ct) == ss
    pub = pq.export_public_key("xw")
    assert len(pub) == 1216 and len(pq.export_key("xw")) == 32
    pq.import_key("xw-pub", kem_attrs(KeyKind.XWING_PUBLIC_KEY, 0, KemKind.X_WING), pub)
    ct2, ss2 = pq.encapsulate("xw-pub", KemKind.X_WING)
    assert pq.decapsulate("xw", KemKind.X_WING, ct2) == ss2
    assert status_of(lambda: pq.encapsulate("xw", KemKind.ML_KEM)) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    for i, v in enumerate(xwing_hpke_vectors()):
        pq.import_key(f"xw-kat{i}", kem_attrs(KeyKind.XWING_KEY_PAIR, 0, KemKind.X_WING), v["skRm"])
        assert pq.export_public_key(f"xw-kat{i}") == v["pkRm"]
        assert pq.decapsulate(f"xw-kat{i}", KemKind.X_WING, v["enc"]) == v["shared_secret"]


def test_xwing_cross_library(pq: PqcClient) -> None:
    hybrid = pytest.importorskip("Crypto.PublicKey.Hybrid")
    pq.generate_key("xw", kem_attrs(KeyKind.XWING_KEY_PAIR, 768, KemKind.X_WING))
    theirs = hybrid._construct(param_set=hybrid.MLKEM768_X25519, pk=pq.export_public_key("xw"))
    ss, ct = theirs._encaps()
    assert pq.decapsulate("xw", KemKind.X_WING, ct) == ss


# -- ML-DSA --------------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [44, 65, 87])
def test_ml_dsa_round_trip(pq: PqcClient, n: int) -> None:
    bits = ML_DSA_SETS[n]
    kt = KeyType(KeyKind.ML_DSA_KEY_PAIR)
    pure, det = SignAlg(SignKind.ML_DSA), SignAlg(SignKind.DETERMINISTIC_ML_DSA)
    pq.generate_key("hedged", sign_attrs(kt, bits, pure))
    msg = b"the message"
    sig = pq.sign_message_with_context("hedged", pure, msg, CTX)
    assert len(sig) == {44: 2420, 65: 3309, 87: 4627}[n]
    pq.verify_message_with_context("hedged", pure, msg, sig, CTX)
    pq.verify_message_with_context("hedged", det, msg, sig, CTX)  # equivalent for verification
    assert status_of(lambda: pq.verify_message_with_context("hedged", pure, msg, sig, b"other")) \
        == ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
    assert status_of(lambda: pq.sign_message_with_context("hedged", det, msg, CTX)) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert status_of(lambda: pq.sign_hash("hedged", pure, hashlib.sha256(msg).digest())) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    # a second library verifies the service's signature
    pub = pq.export_public_key("hedged")
    cls = {44: mldsa.MLDSA44PublicKey, 65: mldsa.MLDSA65PublicKey, 87: mldsa.MLDSA87PublicKey}[n]
    cls.from_public_bytes(pub).verify(sig, msg, CTX)
    other = __import__(f"pqcrypto.sign.ml_dsa_{n}", fromlist=["verify"])
    other.verify(pub, msg, sig, context=CTX)
    # hash-and-sign with a context, through both the hash and the message functions
    halg = SignAlg(SignKind.HASH_ML_DSA, ANY_HASH)
    pq.generate_key("hash", sign_attrs(kt, bits, halg))
    alg = SignAlg(SignKind.HASH_ML_DSA, Hash.SHA_384)
    digest = hashlib.sha384(msg).digest()
    hsig = pq.sign_hash_with_context("hash", alg, digest, CTX)
    pq.verify_message_with_context("hash", alg, msg, hsig, CTX)
    msig = pq.sign_message_with_context("hash", alg, msg, CTX)
    pq.verify_hash_with_context("hash", SignAlg(SignKind.DETERMINISTIC_HASH_ML_DSA, Hash.SHA_384),
                                digest, msig, CTX)
    other.verify(pq.export_public_key("hash"), digest, msig, context=CTX,
                 hash_algorithm=pqcrypto.HashAlgorithm.Sha384)
    assert status_of(lambda: pq.sign_hash_with_context("hash", alg, digest[:-1], CTX)) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    # deterministic variants
    if not DETERMINISTIC_ML_DSA_AVAILABLE:
        return
    pq.generate_key("det", sign_attrs(kt, bits, det))
    d1 = pq.sign_message_with_context("det", det, msg, CTX)
    assert d1 == pq.sign_message_with_context("det", det, msg, CTX)
    pq.verify_message_with_context("det", pure, msg, d1, CTX)
    dh = SignAlg(SignKind.DETERMINISTIC_HASH_ML_DSA, Hash.SHA_256)
    pq.generate_key("det-hash", sign_attrs(kt, bits, dh))
    s1 = pq.sign_hash_with_context("det-hash", dh, hashlib.sha256(msg).digest(), CTX)
    assert s1 == pq.sign_message_with_context("det-hash", dh, msg, CTX)
    pq.verify_message_with_context("det-hash", dh, msg, s1, CTX)


@pytest.mark.parametrize("n", [44, 65, 87])
def test_ml_dsa_known_answers_through_service(pq: PqcClient, n: int) -> None:
    bits = ML_DSA_SETS[n]
    det = SignAlg(SignKind.DETERMINISTIC_ML_DSA)
    for i, v in enumerate(ml_dsa_kat(n, 2)):
        pq.import_key(f"kat{i}", sign_attrs(KeyType(KeyKind.ML_DSA_KEY_PAIR), bits, det), v["xi"])
        assert pq.export_public_key(f"kat{i}") == v["pk"]
        assert pq.export_key(f"kat{i}") == v["xi"]
        pq.verify_message_with_context(f"kat{i}", det, v["msg"], v["sig"], v["ctx"])
        if DETERMINISTIC_ML_DSA_AVAILABLE:
            assert pq.sign_message_with_context(f"kat{i}", det, v["msg"], v["ctx"]) == v["sig"]
        pq.import_key(f"kat{i}-pub", sign_attrs(KeyType(KeyKind.ML_DSA_PUBLIC_KEY), 0,
                                                SignAlg(SignKind.ML_DSA)), v["pk"])
        pq.verify_message_with_context(f"kat{i}-pub", SignAlg(SignKind.ML_DSA), v["msg"], v["sig"],
                                       v["ctx"])


# -- SLH-DSA -------------------------------------------------------------------------------------

F_SETS = [(fam, bits) for fam in (SlhDsaFamily.SHA2_F, SlhDsaFamily.SHAKE_F) for bits in (128, 192, 256)]
# The "s" sets are slow to sign (up to ~1.4 s here): one signature each, pure and hash alternating.
S_SETS = [(SlhDsaFamily.SHA2_S, 128, False), (SlhDsaFamily.SHA2_S, 192, True),
          (SlhDsaFamily.SHA2_S, 256, False), (SlhDsaFamily.SHAKE_S, 128, True),
          (SlhDsaFamily.SHAKE_S, 192, False), (SlhDsaFamily.SHAKE_S, 256, True)]


def _slh_module(fam: SlhDsaFamily, bits: int) -> Any:
    name = {SlhDsaFamily.SHA2_S: "sha2_{}s", SlhDsaFamily.SHA2_F: "sha2_{}f",
            SlhDsaFamily.SHAKE_S: "shake_{}s", SlhDsaFamily.SHAKE_F: "shake_{}f"}[fam]
    return __import__(f"pqcrypto.sign.slh_dsa_{name.format(bits)}", fromlist=["verify"])


@pytest.mark.parametrize(("fam", "bits"), F_SETS, ids=lambda x: getattr(x, "name", str(x)))
def test_slh_dsa_fast_sets(pq: PqcClient, fam: SlhDsaFamily, bits: int) -> None:
    kt = KeyType.slh_dsa_key_pair(fam)
    pure = SignAlg(SignKind.SLH_DSA)
    pq.generate_key("slh", sign_attrs(kt, bits, pure))
    msg = b"hash-based"
    sig = pq.sign_message_with_context("slh", pure, msg, CTX)
    pq.verify_message_with_context("slh", SignAlg(SignKind.DETERMINISTIC_SLH_DSA), msg, sig, CTX)
    pub = pq.export_public_key("slh")
    assert len(pub) == bits // 4 and len(pq.export_key("slh")) == bits // 2
    _slh_module(fam, bits).verify(pub, msg, sig, context=CTX)
    assert status_of(lambda: pq.verify_message_with_context("slh", pure, msg + b"!", sig, CTX)) == \
        ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
    assert status_of(lambda: pq.sign_message_with_context(
        "slh", SignAlg(SignKind.DETERMINISTIC_SLH_DSA), msg)) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED  # hedged and deterministic differ for signing
    # HashSLH-DSA: the service hashes (PsaSignMessage), or the client does (PsaSignHash); both
    # verify either way, and pqcrypto, whose HashSLH-DSA hashes the message itself, agrees
    halg = SignAlg(SignKind.HASH_SLH_DSA, Hash.SHA_256)
    pq.generate_key("slh-hash", sign_attrs(kt, bits, SignAlg(SignKind.HASH_SLH_DSA, ANY_HASH)))
    digest = hashlib.sha256(msg).digest()
    msig = pq.sign_message_with_context("slh-hash", halg, msg, CTX)
    pq.verify_hash_with_context("slh-hash", halg, digest, msig, CTX)
    sha256 = {"hash_algorithm": pqcrypto.HashAlgorithm.Sha256}
    _slh_module(fam, bits).verify(pq.export_public_key("slh-hash"), msg, msig, context=CTX, **sha256)
    pq.import_key("slh-hash-pub", sign_attrs(KeyType.slh_dsa_public_key(fam), 0, halg),
                  pq.export_public_key("slh-hash"))
    assert status_of(lambda: pq.verify_message_with_context("slh-hash-pub", halg, msg, msig)) == \
        ResponseStatus.PSA_ERROR_INVALID_SIGNATURE  # wrong (empty) context
    if bits != 128 or not DETERMINISTIC_SLH_DSA_AVAILABLE:
        return  # a hash from the client, and deterministic signing: slh-dsa, slower
    hsig = pq.sign_hash_with_context("slh-hash", halg, digest, CTX)
    pq.verify_message_with_context("slh-hash-pub", halg, msg, hsig, CTX)
    _slh_module(fam, bits).verify(pq.export_public_key("slh-hash"), msg, hsig, context=CTX, **sha256)
    det = SignAlg(SignKind.DETERMINISTIC_SLH_DSA)
    pq.generate_key("slh-det", sign_attrs(kt, bits, det))
    dsig = pq.sign_message_with_context("slh-det", det, msg, CTX)
    assert pq.sign_message_with_context("slh-det", det, msg, CTX) == dsig
    pq.verify_message_with_context("slh-det", pure, msg, dsig, CTX)
    _slh_module(fam, bits).verify(pq.export_public_key("slh-det"), msg, dsig, context=CTX)


@pytest.mark.slow
@pytest.mark.parametrize(("fam", "bits", "prehash"), S_SETS,
                         ids=lambda x: getattr(x, "name", str(x)))
def test_slh_dsa_small_sets(pq: PqcClient, fam: SlhDsaFamily, bits: int, prehash: bool) -> None:
    kt = KeyType.slh_dsa_key_pair(fam)
    alg = SignAlg(SignKind.HASH_SLH_DSA, Hash.SHA_512) if prehash else SignAlg(SignKind.SLH_DSA)
    pq.generate_key("slh", sign_attrs(kt, bits, alg))
    msg = b"small and slow"
    sig = pq.sign_message_with_context("slh", alg, msg, CTX)
    assert len(sig) == {128: 7856, 192: 16224, 256: 29792}[bits]
    pq.verify_message_with_context("slh", alg, msg, sig, CTX)
    # pqcrypto's HashSLH-DSA takes the message (and hashes it): FIPS 205 HashSLH-DSA.Verify
    kw = {"hash_algorithm": pqcrypto.HashAlgorithm.Sha512} if prehash else {}
    _slh_module(fam, bits).verify(pq.export_public_key("slh"), msg, sig, context=CTX, **kw)
    if prehash:
        pq.verify_hash_with_context("slh", alg, hashlib.sha512(msg).digest(), sig, CTX)


# -- EdDSA ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("bits", [255, 448])
def test_eddsa_round_trip(pq: PqcClient, bits: int) -> None:
    eddsa = SignAlg(SignKind.PURE_EDDSA)
    pq.generate_key("ed", sign_attrs(KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS), bits, eddsa))
    sig = pq.sign_message("ed", eddsa, b"edwards")
    assert len(sig) == {255: 64, 448: 114}[bits]
    pq.verify_message("ed", eddsa, b"edwards", sig)
    pub = pq.export_public_key("ed")
    cls = ed25519.Ed25519PublicKey if bits == 255 else ed448.Ed448PublicKey
    cls.from_public_bytes(pub).verify(sig, b"edwards")
    pq.import_key("ed-pub", sign_attrs(KeyType.ecc_public_key(EccFamily.TWISTED_EDWARDS), 0, eddsa),
                  pub)
    pq.verify_message("ed-pub", eddsa, b"edwards", sig)
    assert status_of(lambda: pq.verify_message("ed-pub", eddsa, b"other", sig)) == \
        ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
    # Parsec's order: the policy (pure_eddsa) is checked before the key type
    assert status_of(lambda: pq.sign_message("ed", SignAlg(SignKind.ECDSA, Hash.SHA_256), b"x")) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert status_of(lambda: pq.sign_message_with_context("ed", eddsa, b"x", b"ctx")) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    assert status_of(lambda: pq.sign_hash("ed", eddsa, bytes(32))) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    # a key from the other library signs, the service verifies
    theirs = ed25519.Ed25519PrivateKey.generate() if bits == 255 else ed448.Ed448PrivateKey.generate()
    pq.import_key("ed-theirs", sign_attrs(KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS), bits,
                                          eddsa), theirs.private_bytes_raw())
    pq.verify_message("ed-theirs", eddsa, b"m", theirs.sign(b"m"))
    assert pq.sign_message("ed-theirs", eddsa, b"m") == theirs.sign(b"m")  # EdDSA is deterministic


# -- context strings on classic algorithms -------------------------------------------------------

def test_context_rules(pq: PqcClient) -> None:
    pure = SignAlg(SignKind.ML_DSA)
    pq.generate_key("d", sign_attrs(KeyType(KeyKind.ML_DSA_KEY_PAIR), 128, pure))
    assert status_of(lambda: pq.sign_message_with_context("d", pure, b"m", bytes(256))) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    pq.sign_message_with_context("d", pure, b"m", bytes(255))
    ecdsa = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    pq.generate_key("p256", sign_attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ecdsa))
    assert status_of(lambda: pq.sign_message_with_context("p256", ecdsa, b"m", b"c")) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    # an algorithm of the other family: refused by the key's policy first (Parsec's order)
    assert status_of(lambda: pq.sign_message("p256", pure, b"m")) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert status_of(lambda: pq.sign_message("d", ecdsa, b"m")) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    # sign_hash usage implies sign_message (PSA), for the extension algorithms too
    pq.generate_key("h", sign_attrs(KeyType(KeyKind.ML_DSA_KEY_PAIR), 128, pure,
                                    UsageFlags(sign_hash=True, verify_hash=True)))
    pq.verify_message("h", pure, b"m", pq.sign_message("h", pure, b"m"))


# -- what a Parsec client sees -------------------------------------------------------------------

def _raw_core(svc: ServiceProcess, opcode: Opcode, body: bytes, app: str | None) -> bytes:
    auth = app.encode() if app else b""
    hdr = RawHeader(provider=0, opcode=int(opcode), body_len=len(body), auth_len=len(auth),
                    auth_type=1 if app else 0)
    resp, payload = svc.raw(hdr.pack() + body + auth)
    assert resp.status == 0, resp
    return payload


def _field_numbers(msg: Any) -> set[int]:
    """Every field number and enum value in a decoded message, recursively."""
    out: set[int] = set()
    for fd, value in msg.ListFields():
        out.add(fd.number)
        values = value if fd.is_repeated else [value]
        for v in values:
            if fd.message_type is not None:
                out |= _field_numbers(v)
            elif fd.enum_type is not None:
                out.add(int(v))
    return out


def test_parsec_client_view(pq: PqcClient, pqc_service: ServiceProcess) -> None:
    # keys of every kind, classic and extension
    ecdsa = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    pq.generate_key("classic", sign_attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ecdsa))
    pq.generate_key("mlkem", kem_attrs(KeyKind.ML_KEM_KEY_PAIR, 768))
    pq.generate_key("ed", sign_attrs(KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS), 255,
                                     SignAlg(SignKind.PURE_EDDSA)))
    pq.generate_key("raw-with-ext-alg", KeyAttributes(KeyType.simple(KeyKind.DERIVE), 256,
                                                      KeyPolicy(UsageFlags(), KemAlg(KemKind.ML_KEM))))
    # a plain ListKeys, exactly as a Parsec client sends it (empty body)
    plain = list_keys_pb2.Result.FromString(_raw_core(pqc_service, Opcode.LIST_KEYS, b"", pq.app_name))
    assert [k.name for k in plain.keys] == ["classic"]
    assert max(_field_numbers(plain)) < 100
    assert {k.name for k in pq.list_keys(include_extensions=True)} == \
        {"classic", "mlkem", "ed", "raw-with-ext-alg"}
    # a plain ListOpcodes never returns an extension opcode; asking does
    for pid in (0, 1):
        body = list_opcodes_pb2.Operation(provider_id=pid).SerializeToString()
        ops = list_opcodes_pb2.Result.FromString(_raw_core(pqc_service, Opcode.LIST_OPCODES, body,
                                                           None)).opcodes
        assert ops and all(op < 0x100 for op in ops)
    assert {0x100, 0x101} <= set(pq.list_opcodes(1, include_extensions=True))


def test_can_do_crypto(pq: PqcClient) -> None:
    yes = [(CheckType.GENERATE, kem_attrs(KeyKind.ML_KEM_KEY_PAIR, 512)),
           (CheckType.USE, kem_attrs(KeyKind.XWING_PUBLIC_KEY, 768, KemKind.X_WING)),
           (CheckType.IMPORT, sign_attrs(KeyType.slh_dsa_key_pair(SlhDsaFamily.SHAKE_S), 256,
                                         SignAlg(SignKind.HASH_SLH_DSA, ANY_HASH))),
           (CheckType.GENERATE, sign_attrs(KeyType(KeyKind.ML_DSA_KEY_PAIR), 192,
                                           SignAlg(SignKind.HASH_ML_DSA, Hash.SHA_512))),
           (CheckType.GENERATE, sign_attrs(KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS), 448,
                                           SignAlg(SignKind.PURE_EDDSA))),
           (CheckType.IMPORT, kem_attrs(KeyKind.ML_KEM_KEY_PAIR, 512))]
    det_slh = (CheckType.USE, sign_attrs(KeyType.slh_dsa_key_pair(SlhDsaFamily.SHA2_F), 128,
                                         SignAlg(SignKind.DETERMINISTIC_SLH_DSA)))
    no = [(CheckType.GENERATE, kem_attrs(KeyKind.ML_KEM_PUBLIC_KEY, 768)),
          (CheckType.DERIVE, kem_attrs(KeyKind.ML_KEM_KEY_PAIR, 768)),
          (CheckType.USE, kem_attrs(KeyKind.ML_KEM_KEY_PAIR, 768, KemKind.X_WING)),
          (CheckType.USE, sign_attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
                                     SignAlg(SignKind.ML_DSA)))]
    (yes if DETERMINISTIC_SLH_DSA_AVAILABLE else no).append(det_slh)
    for check, attrs in yes:
        assert pq.can_do_crypto(check, attrs), (check, attrs)
    for check, attrs in no:
        assert not pq.can_do_crypto(check, attrs), (check, attrs)


def test_convenience_sign_of_hash_slh_dsa(pq: PqcClient) -> None:
    """BasicClient.sign with a HashSLH-DSA key sends the message (PsaSignMessage), for the
    service's fast back-end to hash and sign; the result is a FIPS 205 HashSLH-DSA signature."""
    fam, bits = SlhDsaFamily.SHA2_F, 128
    halg = SignAlg(SignKind.HASH_SLH_DSA, Hash.SHA_256)
    pq.generate_key("conv-slh", sign_attrs(KeyType.slh_dsa_key_pair(fam), bits, halg))
    msg = b"convenience"
    sig = pq.sign("conv-slh", msg)
    pq.verify("conv-slh", msg, sig)
    _slh_module(fam, bits).verify(pq.export_public_key("conv-slh"), msg, sig,
                                  hash_algorithm=pqcrypto.HashAlgorithm.Sha256)
    with pytest.raises(InvalidSignature):
        pq.verify("conv-slh", msg + b"!", sig)
