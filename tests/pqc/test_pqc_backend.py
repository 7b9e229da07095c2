"""The software provider's PQC back-end (providers/software/pqc.py) in-process: known answers
from published vectors, and cross-checks with independent libraries."""

from __future__ import annotations

import hashlib

import pqcrypto
import pytest
from pqc_vectors import ml_dsa_kat, ml_kem_kat, xwing_hpke_vectors

from pqparsec.protocol.operations import CheckType
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
    SignAlg,
    SignKind,
    SlhDsaFamily,
    UsageFlags,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.providers.software import pqc

ML_DSA_BITS = {44: 128, 65: 192, 87: 256}


def attrs(kt: KeyType, bits: int, alg: object = None) -> KeyAttributes:
    return KeyAttributes(kt, bits, KeyPolicy(UsageFlags(sign_message=True, verify_message=True),
                                             alg if alg is not None else SignAlg(SignKind.ML_DSA)))


# -- ML-KEM (FIPS 203 KATs) ----------------------------------------------------------------------

@pytest.mark.parametrize("bits", [512, 768, 1024])
def test_ml_kem_keygen_and_decaps_known_answers(bits: int) -> None:
    for v in ml_kem_kat(bits):
        a = KeyAttributes(KeyType(KeyKind.ML_KEM_KEY_PAIR), bits)
        material, got_bits = pqc.import_material(a, v["d"] + v["z"])  # PSA format: d || z
        assert got_bits == bits
        assert pqc.public_from_material(a, material) == v["pk"]
        assert pqc.decapsulate(a, material, KemKind.ML_KEM, v["ct"]) == v["ss"]
        # implicit rejection: the invalid ciphertext yields the published pseudorandom secret
        assert pqc.decapsulate(a, material, KemKind.ML_KEM, v["ct_n"]) == v["ss_n"]
        assert pqc.export_material(a, material) == v["d"] + v["z"]


def test_ml_kem_512_records_of_earlier_versions() -> None:
    """Before ML-KEM-512 keys were kept as seeds, generation stored pqcrypto's expanded dk (the
    KAT's sk, 1632 bytes). Such records still work; they only have no PSA export format."""
    a = KeyAttributes(KeyType(KeyKind.ML_KEM_KEY_PAIR), 512)
    for v in ml_kem_kat(512):
        assert pqc.public_from_material(a, v["sk"]) == v["pk"]
        assert pqc.decapsulate(a, v["sk"], KemKind.ML_KEM, v["ct"]) == v["ss"]
        assert pqc.decapsulate(a, v["sk"], KemKind.ML_KEM, v["ct_n"]) == v["ss_n"]
        ss, ct = pqc.encapsulate(a, v["sk"], KemKind.ML_KEM)
        assert pqc.decapsulate(a, v["sk"], KemKind.ML_KEM, ct) == ss
        with pytest.raises(ParsecError) as e:
            pqc.export_material(a, v["sk"])
        assert e.value.status == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    assert len(pqc.generate(a)) == 64  # new keys: the seed d || z


@pytest.mark.parametrize("bits", [512, 768, 1024])
def test_ml_kem_public_key_modulus_check(bits: int) -> None:
    """FIPS 203 section 7.2: every coefficient of ek must be below q; 0xff... is not."""
    a = KeyAttributes(KeyType(KeyKind.ML_KEM_PUBLIC_KEY), bits)
    with pytest.raises(ParsecError) as e:
        pqc.import_material(a, b"\xff" * pqc.ML_KEM[bits].ek_len)
    assert e.value.status == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


def test_ml_kem_encapsulation_known_answer_with_pycryptodome() -> None:
    """Deterministic encapsulation (randomness m from the KAT) needs a library that takes m:
    pycryptodome's. Our stored seed format gives it the same key."""
    mlkem = pytest.importorskip("Crypto.PublicKey.MLKEM")
    for bits in (512, 768, 1024):
        for v in ml_kem_kat(bits, 2):
            key = mlkem.construct(param_set=getattr(mlkem, f"ML_KEM_{bits}"), seed=v["d"] + v["z"])
            assert key.ek == v["pk"]
            ss, ct = key.public_key()._encaps(v["msg"])  # FIPS 203 Encaps_internal(ek, m)
            assert (ss, ct) == (v["ss"], v["ct"])


@pytest.mark.parametrize("bits", [512, 768, 1024])
def test_ml_kem_cross_library(bits: int) -> None:
    """Encapsulate with pqcrypto to our key; decapsulate here (and the other way round)."""
    a = KeyAttributes(KeyType(KeyKind.ML_KEM_KEY_PAIR), bits)
    material = pqc.generate(a)
    pk = pqc.public_from_material(a, material)
    other = __import__(f"pqcrypto.kem.ml_kem_{bits}", fromlist=["encaps"])
    ct, ss = other.encaps(pk)
    assert pqc.decapsulate(a, material, KemKind.ML_KEM, ct) == ss
    pk2, sk2 = other.keygen()
    pub = KeyAttributes(KeyType(KeyKind.ML_KEM_PUBLIC_KEY), bits)
    m2, _ = pqc.import_material(pub, pk2)
    ss2, ct2 = pqc.encapsulate(pub, m2, KemKind.ML_KEM)
    assert other.decaps(sk2, ct2) == ss2


# -- X-Wing (HPKE-PQ vectors, KEM 0x647a) --------------------------------------------------------

def test_xwing_known_answers() -> None:
    vectors = xwing_hpke_vectors()
    assert vectors
    a = KeyAttributes(KeyType(KeyKind.XWING_KEY_PAIR), 768)
    for v in vectors:
        material, bits = pqc.import_material(KeyAttributes(KeyType(KeyKind.XWING_KEY_PAIR), 0),
                                             v["skRm"])
        assert bits == 768
        assert pqc.public_from_material(a, material) == v["pkRm"]
        assert pqc.decapsulate(a, material, KemKind.X_WING, v["enc"]) == v["shared_secret"]


def test_xwing_cross_library() -> None:
    hybrid = pytest.importorskip("Crypto.PublicKey.Hybrid")
    a = KeyAttributes(KeyType(KeyKind.XWING_KEY_PAIR), 768)
    material = pqc.generate(a)
    theirs = hybrid._construct(param_set=hybrid.MLKEM768_X25519, seed=bytes(material))
    assert theirs.public_key()._pk == pqc.public_from_material(a, material)
    ss, ct = theirs.public_key()._encaps()
    assert pqc.decapsulate(a, material, KemKind.X_WING, ct) == ss
    ss2, ct2 = pqc.encapsulate(a, material, KemKind.X_WING)
    assert theirs._decaps(ct2) == ss2


# -- ML-DSA (FIPS 204 KATs) ----------------------------------------------------------------------

@pytest.mark.parametrize("n", [44, 65, 87])
def test_ml_dsa_known_answers(n: int) -> None:
    bits = ML_DSA_BITS[n]
    a = attrs(KeyType(KeyKind.ML_DSA_KEY_PAIR), bits)
    for v in ml_dsa_kat(n):
        material, _ = pqc.import_material(a, v["xi"])
        assert pqc.public_from_material(a, material) == v["pk"]
        pqc.verify(a, material, SignAlg(SignKind.ML_DSA), v["msg"], v["sig"], False, v["ctx"])
        with pytest.raises(ParsecError):
            pqc.verify(a, material, SignAlg(SignKind.ML_DSA), v["msg"], v["sig"], False, b"")
        if pqc.DETERMINISTIC_ML_DSA_AVAILABLE:
            sig = pqc.sign(a, material, SignAlg(SignKind.DETERMINISTIC_ML_DSA), v["msg"], False,
                           v["ctx"])
            assert sig == v["sig"]


@pytest.mark.parametrize("n", [44, 65, 87])
def test_hash_ml_dsa_cross_library(n: int) -> None:
    """HashML-DSA made here (external mu through cryptography) verifies with pqcrypto, whose
    HashML-DSA takes PH(M); and pqcrypto's verifies here."""
    bits = ML_DSA_BITS[n]
    a = attrs(KeyType(KeyKind.ML_DSA_KEY_PAIR), bits)
    material = pqc.generate(a)
    pk = pqc.public_from_material(a, material)
    other = __import__(f"pqcrypto.sign.ml_dsa_{n}", fromlist=["verify"])
    msg, ctx = b"message to pre-hash", b"an application context"
    for h, name in ((Hash.SHA_256, "Sha256"), (Hash.SHA_512, "Sha512"), (Hash.SHA3_384, "Sha3_384")):
        alg = SignAlg(SignKind.HASH_ML_DSA, h)
        digest = hashlib.new({"Sha256": "sha256", "Sha512": "sha512", "Sha3_384": "sha3_384"}[name],
                             msg).digest()
        sig = pqc.sign(a, material, alg, msg, False, ctx)
        other.verify(pk, digest, sig, context=ctx,
                     hash_algorithm=getattr(pqcrypto.HashAlgorithm, name))
        pqc.verify(a, material, alg, digest, sig, True, ctx)
        with pytest.raises(ParsecError):  # a HashML-DSA signature is no ML-DSA signature
            pqc.verify(a, material, SignAlg(SignKind.ML_DSA), msg, sig, False, ctx)
    pk2, sk2 = other.keygen()
    pub = attrs(KeyType(KeyKind.ML_DSA_PUBLIC_KEY), bits)
    m2, _ = pqc.import_material(pub, pk2)
    digest = hashlib.sha256(msg).digest()
    sig2 = other.sign(sk2, digest, context=ctx, hash_algorithm=pqcrypto.HashAlgorithm.Sha256)
    pqc.verify(pub, m2, SignAlg(SignKind.HASH_ML_DSA, Hash.SHA_256), msg, sig2, False, ctx)


def test_deterministic_hash_ml_dsa_matches_pycryptodome() -> None:
    if not pqc.DETERMINISTIC_ML_DSA_AVAILABLE:
        pytest.skip("pycryptodome >= 4.4 not installed: deterministic ML-DSA is NotSupported")
    a = attrs(KeyType(KeyKind.ML_DSA_KEY_PAIR), 128)
    material = pqc.generate(a)
    alg = SignAlg(SignKind.DETERMINISTIC_HASH_ML_DSA, Hash.SHA_256)
    s1 = pqc.sign(a, material, alg, b"m", False, b"c")
    s2 = pqc.sign(a, material, alg, hashlib.sha256(b"m").digest(), True, b"c")
    assert s1 == s2
    pqc.verify(a, material, SignAlg(SignKind.HASH_ML_DSA, Hash.SHA_256), b"m", s1, False, b"c")


# -- SLH-DSA -------------------------------------------------------------------------------------

def test_slh_dsa_key_pair_import_checks_consistency() -> None:
    kt = KeyType.slh_dsa_key_pair(SlhDsaFamily.SHAKE_F)
    a = attrs(kt, 128, SignAlg(SignKind.SLH_DSA))
    material = pqc.generate(a)
    m2, bits = pqc.import_material(KeyAttributes(kt, 0), bytes(material))
    assert bits == 128 and m2 == material
    broken = bytes(material[:-1]) + bytes([material[-1] ^ 1])  # PK.root flipped
    with pytest.raises(ParsecError) as e:
        pqc.import_material(a, broken)
    assert e.value.status == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


@pytest.mark.skipif(not pqc.DETERMINISTIC_SLH_DSA_AVAILABLE, reason="slh-dsa is not installed")
def test_slh_dsa_worker_processes() -> None:
    """slh-dsa runs in worker processes (it holds the GIL for whole signatures); a worker that
    dies is replaced, and an error inside one comes back as WorkerError."""
    from pqparsec.service.providers import slh_dsa_worker as w

    kt = KeyType.slh_dsa_key_pair(SlhDsaFamily.SHA2_F)
    sk = bytes(pqc.generate(attrs(kt, 128, SignAlg(SignKind.SLH_DSA))))
    assert w.run(w.root_matches, "sha2_128f", sk)
    assert not w.run(w.root_matches, "sha2_128f", sk[:-1] + bytes([sk[-1] ^ 1]))
    for worker in list(w._idle.queue):
        worker.proc.kill()
        worker.proc.wait()
    sig = w.run(w.sign_pure, "sha2_128f", sk, b"m", b"c", False)
    assert sig == w.run(w.sign_pure, "sha2_128f", sk, b"m", b"c", False)  # deterministic
    assert not w._in_process
    with pytest.raises(w.WorkerError, match="AttributeError"):
        w.run(w.sign_pure, "no_such_set", sk, b"m", b"", False)


# -- Edwards (RFC 8032 test vector 1) ------------------------------------------------------------

def test_ed25519_rfc8032_vector() -> None:
    sk = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    pk = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    sig = bytes.fromhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    a = attrs(KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS), 255, SignAlg(SignKind.PURE_EDDSA))
    material, bits = pqc.import_material(a, sk)
    assert bits == 255 and pqc.public_from_material(a, material) == pk
    assert pqc.sign(a, material, SignAlg(SignKind.PURE_EDDSA), b"", False) == sig


# -- capabilities --------------------------------------------------------------------------------

def test_capability_helper() -> None:
    mlkem = KeyAttributes(KeyType(KeyKind.ML_KEM_KEY_PAIR), 768,
                          KeyPolicy(UsageFlags(decrypt=True), KemAlg(KemKind.ML_KEM)))
    assert pqc.pqc_capability(CheckType.GENERATE, mlkem) is True
    assert pqc.pqc_capability(CheckType.DERIVE, mlkem) is False
    wrong_alg = KeyAttributes(KeyType(KeyKind.ML_KEM_KEY_PAIR), 768,
                              KeyPolicy(UsageFlags(decrypt=True), KemAlg(KemKind.X_WING)))
    assert pqc.pqc_capability(CheckType.USE, wrong_alg) is False
    assert pqc.pqc_capability(CheckType.USE, KeyAttributes(KeyType(KeyKind.ML_KEM_KEY_PAIR), 640)) \
        is False
    assert pqc.pqc_capability(CheckType.GENERATE,
                              KeyAttributes(KeyType(KeyKind.ML_DSA_PUBLIC_KEY), 128)) is False
    det_slh = KeyAttributes(KeyType.slh_dsa_key_pair(SlhDsaFamily.SHA2_F), 128,
                            KeyPolicy(UsageFlags(sign_message=True),
                                      SignAlg(SignKind.DETERMINISTIC_SLH_DSA)))
    # pqcrypto signs hedged only; slh-dsa signs deterministically
    assert pqc.pqc_capability(CheckType.USE, det_slh) is pqc.DETERMINISTIC_SLH_DSA_AVAILABLE
    hash_slh = KeyAttributes(KeyType.slh_dsa_key_pair(SlhDsaFamily.SHA2_F), 128,
                             KeyPolicy(UsageFlags(sign_hash=True),
                                       SignAlg(SignKind.HASH_SLH_DSA, ANY_HASH)))
    assert pqc.pqc_capability(CheckType.USE, hash_slh) is True
    classic = KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256)
    assert pqc.pqc_capability(CheckType.USE, classic) is None
