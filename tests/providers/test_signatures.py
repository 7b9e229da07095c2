"""Signatures end to end: PsaSignHash/PsaVerifyHash/PsaSignMessage/PsaVerifyMessage.

Every signature the service makes is also verified outside it, with `cryptography` and (when
the command exists) with the openssl command line."""

from __future__ import annotations

import hashlib
import itertools
import shutil
import subprocess
from pathlib import Path

import pytest
from capabilities import Pinned, only
from capabilities.needs import Need, Needs, assert_refused, generates, imports, serves
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    NoDigestInfo,
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from pqptest.psa import attrs
from pqptest.status import raised_status as status

from pqparsec.client import BasicClient
from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    Hash,
    KeyAgreementAlg,
    KeyType,
    RawKeyAgreement,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.status import ResponseStatus

_names = itertools.count()

HASHLIB = {Hash.SHA_1: "sha1", Hash.SHA_224: "sha224", Hash.SHA_256: "sha256", Hash.SHA_384: "sha384",
           Hash.SHA_512: "sha512", Hash.SHA3_256: "sha3_256", Hash.SHA3_512: "sha3_512"}
CRYPTO_HASH: dict[Hash, type[hashes.HashAlgorithm]] = {
    Hash.SHA_1: hashes.SHA1, Hash.SHA_224: hashes.SHA224, Hash.SHA_256: hashes.SHA256,
    Hash.SHA_384: hashes.SHA384, Hash.SHA_512: hashes.SHA512, Hash.SHA3_256: hashes.SHA3_256,
    Hash.SHA3_512: hashes.SHA3_512}
CURVES: dict[tuple[EccFamily, int], ec.EllipticCurve] = {
    (EccFamily.SECP_R1, 192): ec.SECP192R1(), (EccFamily.SECP_R1, 224): ec.SECP224R1(),
    (EccFamily.SECP_R1, 256): ec.SECP256R1(), (EccFamily.SECP_R1, 384): ec.SECP384R1(),
    (EccFamily.SECP_R1, 521): ec.SECP521R1(), (EccFamily.SECP_K1, 256): ec.SECP256K1(),
    (EccFamily.BRAINPOOL_P_R1, 256): ec.BrainpoolP256R1(),
    (EccFamily.BRAINPOOL_P_R1, 384): ec.BrainpoolP384R1(),
    (EccFamily.BRAINPOOL_P_R1, 512): ec.BrainpoolP512R1(),
}
MESSAGE = b"Bob wrote this message."


def name() -> str:
    return f"sig-{next(_names)}"


def h(alg: Hash, data: bytes) -> bytes:
    return hashlib.new(HASHLIB[alg], data).digest()


def make_key(client: BasicClient, kt: KeyType, bits: int, alg: SignAlg, **flags: bool) -> str:
    """A generated key for `alg`, named (the test runs only where the pinned table says the
    provider generates it: see NEEDS)."""
    every = {"sign_hash": True, "verify_hash": True, "sign_message": True, "verify_message": True}
    k = name()
    client.generate_key(k, attrs(kt, bits, alg, **(flags or every)))
    return k


# What the tests need of a provider (capabilities/needs.py): a test runs where the pinned table
# has all of it, and test_unsupported_needs_are_refused checks the refusals everywhere else.
NEEDS = Needs()
SIGNING = (Opcode.PSA_SIGN_HASH, Opcode.PSA_VERIFY_HASH, Opcode.PSA_EXPORT_PUBLIC_KEY)
MESSAGES = (Opcode.PSA_SIGN_MESSAGE, Opcode.PSA_VERIFY_MESSAGE)
P256 = KeyType.ecc_key_pair(EccFamily.SECP_R1)
ECDSA_256 = SignAlg(SignKind.ECDSA, Hash.SHA_256)


def signs(kt: KeyType, bits: int, alg: SignAlg, *ops: Opcode) -> Need:
    """The provider generates this key for this algorithm and serves `ops` (signing by default)."""
    return generates(kt, bits, alg, *(ops or SIGNING))


# ------------------------------------------------------------------------------------------------
# Independent verifiers


def load_public(data: bytes, kt: KeyType, bits: int) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    if kt.is_rsa:
        key = serialization.load_der_public_key(data)  # PKCS#1 RSAPublicKey
        assert isinstance(key, rsa.RSAPublicKey)
        return key
    assert kt.ecc_family is not None
    return ec.EllipticCurvePublicKey.from_encoded_point(CURVES[(kt.ecc_family, bits)], data)


def crypto_verify(pub: rsa.RSAPublicKey | ec.EllipticCurvePublicKey, alg: SignAlg, data: bytes,
                  sig: bytes, prehashed: bool) -> None:
    """Verify a PSA-format signature with `cryptography`; raises InvalidSignature."""
    if alg.kind == SignKind.RSA_PKCS1V15_SIGN_RAW:
        assert isinstance(pub, rsa.RSAPublicKey)
        if pub.recover_data_from_signature(sig, padding.PKCS1v15(), NoDigestInfo()) != data:
            raise InvalidSignature
        return
    assert isinstance(alg.hash, Hash)
    hh = CRYPTO_HASH[alg.hash]()
    choice: hashes.HashAlgorithm | Prehashed = Prehashed(hh) if prehashed else hh
    if isinstance(pub, rsa.RSAPublicKey):
        pad: padding.AsymmetricPadding = padding.PKCS1v15()
        if alg.kind == SignKind.RSA_PSS:  # PSA: salt as long as the hash
            pad = padding.PSS(padding.MGF1(hh), hh.digest_size)
        pub.verify(sig, data, pad, choice)
        return
    n = (pub.curve.key_size + 7) // 8
    assert len(sig) == 2 * n
    der = encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
    pub.verify(der, data, ec.ECDSA(choice))


def openssl_verify(tmp: Path, pub: rsa.RSAPublicKey | ec.EllipticCurvePublicKey, alg: SignAlg,
                   digest: bytes, sig: bytes) -> bool:
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("no openssl command")
    (tmp / "pub.pem").write_bytes(pub.public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo))
    (tmp / "in.bin").write_bytes(digest)
    if isinstance(pub, ec.EllipticCurvePublicKey):
        n = len(sig) // 2
        sig = encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
    (tmp / "sig.bin").write_bytes(sig)
    if alg.kind == SignKind.RSA_PKCS1V15_SIGN_RAW:  # recover the signed bytes, compare
        recovered = subprocess.run([exe, "pkeyutl", "-verifyrecover", "-pubin", "-inkey",
                                    str(tmp / "pub.pem"), "-in", str(tmp / "sig.bin")], capture_output=True)
        return recovered.returncode == 0 and recovered.stdout == digest
    cmd = [exe, "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp / "pub.pem"),
           "-in", str(tmp / "in.bin"), "-sigfile", str(tmp / "sig.bin")]
    assert isinstance(alg.hash, Hash)
    cmd += ["-pkeyopt", f"digest:{HASHLIB[alg.hash].replace('_', '-')}"]
    if alg.kind == SignKind.RSA_PSS:
        cmd += ["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:digest"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    return done.returncode == 0 and "Signature Verified Successfully" in done.stdout


# ------------------------------------------------------------------------------------------------
# Sign and verify, checked outside the service

CASES: list[tuple[KeyType, int, SignAlg]] = [
    (KeyType.rsa_key_pair(), 2048, SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)),
    (KeyType.rsa_key_pair(), 1024, SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_512)),
    (KeyType.rsa_key_pair(), 2048, SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA3_256)),
    (KeyType.rsa_key_pair(), 2048, SignAlg(SignKind.RSA_PSS, Hash.SHA_256)),
    (KeyType.rsa_key_pair(), 2048, SignAlg(SignKind.RSA_PSS, Hash.SHA_384)),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, SignAlg(SignKind.ECDSA, Hash.SHA_256)),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 384, SignAlg(SignKind.ECDSA, Hash.SHA_384)),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 521, SignAlg(SignKind.ECDSA, Hash.SHA_512)),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, SignAlg(SignKind.ECDSA, Hash.SHA_512)),
    (KeyType.ecc_key_pair(EccFamily.SECP_K1), 256, SignAlg(SignKind.ECDSA, Hash.SHA_256)),
    (KeyType.ecc_key_pair(EccFamily.BRAINPOOL_P_R1), 256, SignAlg(SignKind.ECDSA, Hash.SHA_256)),
    (KeyType.ecc_key_pair(EccFamily.BRAINPOOL_P_R1), 384, SignAlg(SignKind.ECDSA, Hash.SHA_384)),
    (KeyType.ecc_key_pair(EccFamily.BRAINPOOL_P_R1), 512, SignAlg(SignKind.ECDSA, Hash.SHA_512)),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, SignAlg(SignKind.DETERMINISTIC_ECDSA, Hash.SHA_256)),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), 384, SignAlg(SignKind.DETERMINISTIC_ECDSA, Hash.SHA_256)),
]


def _case_id(case: tuple[KeyType, int, SignAlg]) -> str:
    kt, bits, alg = case
    return f"{kt.describe()}-{bits}-{alg.kind.name}-{alg.hash.name if isinstance(alg.hash, Hash) else ''}"


@NEEDS.cases("case", CASES, lambda c: [signs(*c)], ids=_case_id)
def test_sign_verify_hash(client: BasicClient, tmp_path: Path,
                          case: tuple[KeyType, int, SignAlg]) -> None:
    kt, bits, alg = case
    assert isinstance(alg.hash, Hash)
    k = make_key(client, kt, bits, alg)
    digest = h(alg.hash, MESSAGE)
    sig = client.sign_hash(k, alg, digest)
    client.verify_hash(k, alg, digest, sig)
    pub = load_public(client.export_public_key(k), kt, bits)
    crypto_verify(pub, alg, digest, sig, prehashed=True)
    if shutil.which("openssl"):
        assert openssl_verify(tmp_path, pub, alg, digest, sig)
    # Tampering with the signature or the hash is caught, by the service and outside.
    bad_sig = bytearray(sig)
    bad_sig[len(sig) // 2] ^= 1
    assert status(client.verify_hash, k, alg, digest, bytes(bad_sig)) == \
        ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
    with pytest.raises(InvalidSignature):
        crypto_verify(pub, alg, digest, bytes(bad_sig), prehashed=True)
    other = h(alg.hash, MESSAGE + b"!")
    assert status(client.verify_hash, k, alg, other, sig) == ResponseStatus.PSA_ERROR_INVALID_SIGNATURE


@NEEDS.cases("case", CASES[::3], lambda c: [signs(*c, *MESSAGES, *SIGNING)], ids=_case_id)
def test_sign_verify_message(client: BasicClient,
                             case: tuple[KeyType, int, SignAlg]) -> None:
    kt, bits, alg = case
    k = make_key(client, kt, bits, alg)
    sig = client.sign_message(k, alg, MESSAGE)
    client.verify_message(k, alg, MESSAGE, sig)
    crypto_verify(load_public(client.export_public_key(k), kt, bits), alg, MESSAGE, sig,
                  prehashed=False)
    assert status(client.verify_message, k, alg, MESSAGE + b"!", sig) == \
        ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
    # The two forms agree: a message signature verifies as a signature of its hash.
    assert isinstance(alg.hash, Hash)
    client.verify_hash(k, alg, h(alg.hash, MESSAGE), sig)


@NEEDS.test(signs(P256, 256, ECDSA_256),
            imports(KeyType.ecc_public_key(EccFamily.SECP_R1), 256, ECDSA_256, Opcode.PSA_IMPORT_KEY))
def test_verify_with_imported_public_key(client: BasicClient) -> None:
    alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    k = make_key(client, KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, alg)
    pub_attrs = attrs(KeyType.ecc_public_key(EccFamily.SECP_R1), 256, alg, verify_hash=True)
    kp = name()
    client.import_key(kp, pub_attrs, client.export_public_key(k))
    digest = h(Hash.SHA_256, MESSAGE)
    client.verify_hash(kp, alg, digest, client.sign_hash(k, alg, digest))
    # A signature made outside the service verifies inside.
    outside = ec.generate_private_key(ec.SECP256R1())
    kq = name()
    client.import_key(kq, pub_attrs, outside.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    r, s = decode_dss_signature(outside.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
    client.verify_hash(kq, alg, digest, r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    assert status(client.verify_hash, kq, alg, digest, r.to_bytes(32, "big") + r.to_bytes(32, "big")) \
        == ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
    # A public key cannot sign.
    assert status(client.sign_hash, kq, alg, digest) in (ResponseStatus.PSA_ERROR_INVALID_ARGUMENT,
                                                         ResponseStatus.PSA_ERROR_NOT_PERMITTED)


@NEEDS.test(signs(*CASES[0]), signs(*CASES[5]))
def test_signature_of_wrong_length(client: BasicClient) -> None:
    for kt, bits, alg in (CASES[0], CASES[5]):
        k = make_key(client, kt, bits, alg)
        assert isinstance(alg.hash, Hash)
        digest = h(alg.hash, MESSAGE)
        sig = client.sign_hash(k, alg, digest)
        for bad in (sig[:-1], sig + b"\x00", b""):
            assert status(client.verify_hash, k, alg, digest, bad) == \
                ResponseStatus.PSA_ERROR_INVALID_SIGNATURE


@NEEDS.test(signs(P256, 256, SignAlg(SignKind.DETERMINISTIC_ECDSA, Hash.SHA_256)),
            signs(P256, 256, ECDSA_256))
def test_deterministic_ecdsa_is_deterministic(client: BasicClient) -> None:
    det = SignAlg(SignKind.DETERMINISTIC_ECDSA, Hash.SHA_256)
    k = make_key(client, KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, det)
    digest = h(Hash.SHA_256, MESSAGE)
    assert client.sign_hash(k, det, digest) == client.sign_hash(k, det, digest)
    rnd = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    k2 = make_key(client, KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, rnd)
    assert client.sign_hash(k2, rnd, digest) != client.sign_hash(k2, rnd, digest)


@NEEDS.test(signs(KeyType.rsa_key_pair(), 2048, SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_384),
                  *SIGNING, Opcode.PSA_EXPORT_KEY))
def test_rsa_pkcs1_signature_matches_cryptography(client: BasicClient) -> None:
    """PKCS#1 v1.5 is deterministic: the service's signature is the one `cryptography` makes
    with the same (exported) key."""
    alg = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_384)
    k = make_key(client, KeyType.rsa_key_pair(), 2048, alg, sign_hash=True, export=True)
    priv = serialization.load_der_private_key(client.export_key(k), None)
    assert isinstance(priv, rsa.RSAPrivateKey)
    digest = h(Hash.SHA_384, MESSAGE)
    assert client.sign_hash(k, alg, digest) == priv.sign(digest, padding.PKCS1v15(),
                                                         Prehashed(hashes.SHA384()))


@NEEDS.test(signs(KeyType.rsa_key_pair(), 2048, SignAlg(SignKind.RSA_PSS, Hash.SHA_256)))
def test_rsa_pss_uses_hash_length_salt(client: BasicClient) -> None:
    alg = SignAlg(SignKind.RSA_PSS, Hash.SHA_256)
    k = make_key(client, KeyType.rsa_key_pair(), 2048, alg)
    pub = load_public(client.export_public_key(k), KeyType.rsa_key_pair(), 2048)
    assert isinstance(pub, rsa.RSAPublicKey)
    digest = h(Hash.SHA_256, MESSAGE)
    sig = client.sign_hash(k, alg, digest)
    pub.verify(sig, digest, padding.PSS(padding.MGF1(hashes.SHA256()), 32), Prehashed(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        pub.verify(sig, digest, padding.PSS(padding.MGF1(hashes.SHA256()), 20),
                   Prehashed(hashes.SHA256()))


# ------------------------------------------------------------------------------------------------
# Raw PKCS#1 v1.5 and ECDSA without hashing

SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


@NEEDS.test(signs(KeyType.rsa_key_pair(), 2048, SignAlg(SignKind.RSA_PKCS1V15_SIGN_RAW)))
def test_rsa_pkcs1_raw(client: BasicClient, tmp_path: Path) -> None:
    raw = SignAlg(SignKind.RSA_PKCS1V15_SIGN_RAW)
    k = make_key(client, KeyType.rsa_key_pair(), 2048, raw)
    pub = load_public(client.export_public_key(k), KeyType.rsa_key_pair(), 2048)
    assert isinstance(pub, rsa.RSAPublicKey)
    for data in (b"\x01", b"any bytes at all, no DigestInfo", b"\xff" * (256 - 11)):
        sig = client.sign_hash(k, raw, data)
        client.verify_hash(k, raw, data, sig)
        crypto_verify(pub, raw, data, sig, prehashed=True)
        if shutil.which("openssl"):
            assert openssl_verify(tmp_path, pub, raw, data, sig)
    # Signing DigestInfo || hash raw is PKCS#1 v1.5 with that hash.
    digest = h(Hash.SHA_256, MESSAGE)
    sig = client.sign_hash(k, raw, SHA256_DIGEST_INFO + digest)
    pub.verify(sig, digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    # Too long for the key's padding; a changed input does not verify.
    assert status(client.sign_hash, k, raw, b"\x00" * (256 - 10)) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    assert status(client.verify_hash, k, raw, SHA256_DIGEST_INFO + digest[:-1] + b"\x00", sig) == \
        ResponseStatus.PSA_ERROR_INVALID_SIGNATURE


ECDSA_ANY_CASES: list[tuple[EccFamily, int, int, type[hashes.HashAlgorithm]]] = [
    (EccFamily.SECP_R1, 256, 32, hashes.SHA256),
    (EccFamily.SECP_R1, 192, 28, hashes.SHA224),  # truncated to 192 bits, not a byte boundary of 28
    (EccFamily.SECP_R1, 192, 20, hashes.SHA1),
    (EccFamily.SECP_R1, 224, 32, hashes.SHA256),
    (EccFamily.SECP_R1, 256, 64, hashes.SHA512),  # truncated to the order's 256 bits
    (EccFamily.SECP_R1, 256, 20, hashes.SHA1),  # shorter than the order
    (EccFamily.SECP_R1, 384, 64, hashes.SHA512),
    (EccFamily.SECP_R1, 521, 64, hashes.SHA512),
    (EccFamily.SECP_R1, 521, 28, hashes.SHA224),
    (EccFamily.BRAINPOOL_P_R1, 512, 48, hashes.SHA384),
]


@NEEDS.cases("family, bits, length, carrier", ECDSA_ANY_CASES,
             lambda c: [signs(KeyType.ecc_key_pair(c[0]), c[1], SignAlg(SignKind.ECDSA_ANY))],
             ids=lambda c: f"{c[0].name}-{c[1]}-{c[2]}")
def test_ecdsa_any(client: BasicClient, family: EccFamily, bits: int, length: int,
                   carrier: type[hashes.HashAlgorithm]) -> None:
    """ECDSA_ANY signs given bytes as ECDSA signs a hash of that length: checked against
    `cryptography` verifying with a hash of the same length."""
    anyalg = SignAlg(SignKind.ECDSA_ANY)
    k = make_key(client, KeyType.ecc_key_pair(family), bits, anyalg)
    data = hashlib.shake_256(MESSAGE).digest(length)
    sig = client.sign_hash(k, anyalg, data)
    client.verify_hash(k, anyalg, data, sig)
    pub = load_public(client.export_public_key(k), KeyType.ecc_key_pair(family), bits)
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    n = (bits + 7) // 8
    der = encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
    pub.verify(der, data, ec.ECDSA(Prehashed(carrier())))
    bad = bytes([data[0] ^ 0x80]) + data[1:]
    assert status(client.verify_hash, k, anyalg, bad, sig) == ResponseStatus.PSA_ERROR_INVALID_SIGNATURE


@only("software")  # what the software provider does with an input longer than 64 bytes
def test_ecdsa_any_p521_long_input(client: BasicClient) -> None:
    anyalg = SignAlg(SignKind.ECDSA_ANY)
    k = make_key(client, KeyType.ecc_key_pair(EccFamily.SECP_R1), 521, anyalg)
    assert status(client.sign_hash, k, anyalg, b"\x01" * 66) == ResponseStatus.PSA_ERROR_NOT_SUPPORTED


@NEEDS.test(signs(KeyType.rsa_key_pair(), 1024, SignAlg(SignKind.RSA_PKCS1V15_SIGN_RAW), *MESSAGES),
            signs(P256, 256, SignAlg(SignKind.ECDSA_ANY), *MESSAGES))
def test_raw_schemes_are_for_hashes_only(client: BasicClient) -> None:
    for kt, bits, alg in ((KeyType.rsa_key_pair(), 1024, SignAlg(SignKind.RSA_PKCS1V15_SIGN_RAW)),
                          (KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, SignAlg(SignKind.ECDSA_ANY))):
        k = make_key(client, kt, bits, alg)
        assert status(client.sign_message, k, alg, MESSAGE) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
        assert status(client.verify_message, k, alg, MESSAGE, b"\x00" * 64) == \
            ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


# ------------------------------------------------------------------------------------------------
# Policy


@NEEDS.test(signs(P256, 256, SignAlg(SignKind.ECDSA, ANY_HASH)))
def test_any_hash_policy(client: BasicClient) -> None:
    policy = SignAlg(SignKind.ECDSA, ANY_HASH)
    k = make_key(client, KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, policy)
    for hh in (Hash.SHA_256, Hash.SHA_384, Hash.SHA_512):
        alg = SignAlg(SignKind.ECDSA, hh)
        sig = client.sign_hash(k, alg, h(hh, MESSAGE))
        client.verify_hash(k, alg, h(hh, MESSAGE), sig)
    # The wildcard is for policies only, not requests; another scheme is not covered.
    assert status(client.sign_hash, k, policy, h(Hash.SHA_256, MESSAGE)) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    assert status(client.sign_hash, k, SignAlg(SignKind.DETERMINISTIC_ECDSA, Hash.SHA_256),
                  h(Hash.SHA_256, MESSAGE)) == ResponseStatus.PSA_ERROR_NOT_PERMITTED


@NEEDS.test(signs(KeyType.rsa_key_pair(), 2048, SignAlg(SignKind.RSA_PSS, ANY_HASH), *MESSAGES))
def test_any_hash_policy_rsa(client: BasicClient) -> None:
    policy = SignAlg(SignKind.RSA_PSS, ANY_HASH)
    k = make_key(client, KeyType.rsa_key_pair(), 2048, policy)
    for hh in (Hash.SHA_256, Hash.SHA_512):
        alg = SignAlg(SignKind.RSA_PSS, hh)
        client.verify_message(k, alg, MESSAGE, client.sign_message(k, alg, MESSAGE))
    assert status(client.sign_message, k, SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256),
                  MESSAGE) == ResponseStatus.PSA_ERROR_NOT_PERMITTED


@NEEDS.test(signs(KeyType.rsa_key_pair(), 1024, SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_512)))
def test_wrong_hash_algorithm_not_permitted(client: BasicClient) -> None:
    alg = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_512)
    k = make_key(client, KeyType.rsa_key_pair(), 1024, alg)
    sha256 = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
    assert status(client.sign_hash, k, sha256, h(Hash.SHA_256, MESSAGE)) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED


@NEEDS.cases("case", [CASES[0], CASES[5]], lambda c: [signs(*c)], ids=_case_id)
def test_hash_length_must_match(client: BasicClient,
                                case: tuple[KeyType, int, SignAlg]) -> None:
    kt, bits, alg = case
    k = make_key(client, kt, bits, alg)
    good = h(Hash.SHA_256, MESSAGE)
    sig = client.sign_hash(k, alg, good)
    for bad in (b"\xee" * 31, b"\xbb" * 33):
        assert status(client.sign_hash, k, alg, bad) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
        assert status(client.verify_hash, k, alg, bad, sig) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(signs(P256, 256, ECDSA_256, *SIGNING, *MESSAGES))
def test_usage_flags(client: BasicClient) -> None:
    alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    kt = KeyType.ecc_key_pair(EccFamily.SECP_R1)
    digest = h(Hash.SHA_256, MESSAGE)
    # verify only
    k1 = make_key(client, kt, 256, alg, verify_hash=True)
    assert status(client.sign_hash, k1, alg, digest) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    # sign only
    k2 = make_key(client, kt, 256, alg, sign_hash=True)
    sig = client.sign_hash(k2, alg, digest)
    assert status(client.verify_hash, k2, alg, digest, sig) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    # sign_hash grants sign_message (PSA); sign_message does not grant sign_hash.
    client.sign_message(k2, alg, MESSAGE)
    k3 = make_key(client, kt, 256, alg, sign_message=True, verify_message=True)
    assert status(client.sign_hash, k3, alg, digest) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    sig3 = client.sign_message(k3, alg, MESSAGE)
    client.verify_message(k3, alg, MESSAGE, sig3)
    assert status(client.verify_hash, k3, alg, digest, sig3) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    # no flags at all
    k4 = make_key(client, kt, 256, alg, export=True)
    assert status(client.sign_message, k4, alg, MESSAGE) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert status(client.verify_message, k4, alg, MESSAGE, sig3) == ResponseStatus.PSA_ERROR_NOT_PERMITTED


@NEEDS.test(signs(P256, 256, ECDSA_256))
def test_wrong_key_type(client: BasicClient) -> None:
    digest = h(Hash.SHA_256, MESSAGE)
    rsa_alg = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
    ecdsa = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    # Parsec checks the policy's algorithm before the key type: an ECDSA key asked for RSA is
    # NotPermitted (parsec-interface's validate; the software provider follows it).
    k = make_key(client, KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ecdsa)
    got = status(client.sign_hash, k, rsa_alg, digest)
    if client.provider == ProviderId.MBED_CRYPTO:
        assert got == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    else:
        assert got in (ResponseStatus.PSA_ERROR_NOT_PERMITTED, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT)
    # A policy naming an algorithm the key type cannot do: the key type check answers.
    if client.provider == ProviderId.MBED_CRYPTO:
        a = attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, rsa_alg, sign_hash=True)
        k2 = name()
        client.generate_key(k2, a)
        assert status(client.sign_hash, k2, rsa_alg, digest) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
        a3 = attrs(KeyType.ecc_key_pair(EccFamily.MONTGOMERY), 255, ecdsa, sign_hash=True)
        k3 = name()
        client.generate_key(k3, a3)
        assert status(client.sign_hash, k3, ecdsa, digest) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
        a4 = attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, KeyAgreementAlg(RawKeyAgreement.ECDH),
                   sign_hash=True)
        k4 = name()
        client.generate_key(k4, a4)
        assert status(client.sign_hash, k4, ecdsa, digest) == ResponseStatus.PSA_ERROR_NOT_PERMITTED


@NEEDS.test(serves(*SIGNING))
def test_missing_key(client: BasicClient) -> None:
    alg = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
    digest = h(Hash.SHA_256, MESSAGE)
    assert status(client.sign_hash, "nope", alg, digest) == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST
    assert status(client.verify_hash, "nope", alg, digest, b"\xde\xad") == \
        ResponseStatus.PSA_ERROR_DOES_NOT_EXIST


# ------------------------------------------------------------------------------------------------
# What a provider's table lacks is refused


@NEEDS.refusals()
def test_unsupported_needs_are_refused(client: BasicClient, table: Pinned, need: Need) -> None:
    assert_refused(client, table, need)
