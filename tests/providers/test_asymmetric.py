"""Asymmetric encryption and key agreement end to end: PsaAsymmetricEncrypt/Decrypt and
PsaRawKeyAgreement, cross-checked with `cryptography` and the openssl command line."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from capabilities import Pinned, only
from capabilities.needs import Need, Needs, assert_refused, generates, imports, serves
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, ec, padding, rsa, x448, x25519
from pqptest.psa import attrs
from pqptest.status import raised_status as status

from pqparsec.client import BasicClient
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    DhFamily,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAgreementAlg,
    KeyKind,
    KeyType,
    RawKeyAgreement,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.status import ResponseStatus

pytestmark = pytest.mark.filterwarnings("ignore:Diffie-Hellman")

_names = itertools.count()
PKCS1 = EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT)
ECDH = KeyAgreementAlg(RawKeyAgreement.ECDH)
FFDH = KeyAgreementAlg(RawKeyAgreement.FFDH)
DH_PAIR = KeyType(KeyKind.DH_KEY_PAIR, dh_family=DhFamily.RFC7919)
CRYPTO_HASH: dict[Hash, type[hashes.HashAlgorithm]] = {
    Hash.SHA_1: hashes.SHA1, Hash.SHA_224: hashes.SHA224, Hash.SHA_256: hashes.SHA256,
    Hash.SHA_384: hashes.SHA384, Hash.SHA_512: hashes.SHA512}
PLAINTEXT = bytes.fromhex("693edb1b227903f4c0bfd691763784a2948e925035c28c5c3ccafe18e8813778")


def name() -> str:
    return f"asym-{next(_names)}"


def oaep(h: Hash) -> EncryptAlg:
    return EncryptAlg(EncryptKind.RSA_OAEP, h)


def crypto_padding(alg: EncryptAlg, label: bytes = b"") -> padding.AsymmetricPadding:
    if alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
        return padding.PKCS1v15()
    assert alg.hash is not None
    hh = CRYPTO_HASH[alg.hash]()
    return padding.OAEP(padding.MGF1(hh), hh, label or None)


# What the tests need of a provider (capabilities/needs.py): a test runs where the pinned table
# has all of it, and test_unsupported_needs_are_refused checks the refusals everywhere else.
NEEDS = Needs()
ENCRYPTION = (Opcode.PSA_ASYMMETRIC_ENCRYPT, Opcode.PSA_ASYMMETRIC_DECRYPT,
              Opcode.PSA_EXPORT_PUBLIC_KEY)
AGREEMENT = (Opcode.PSA_RAW_KEY_AGREEMENT, Opcode.PSA_EXPORT_PUBLIC_KEY)
RSA = KeyType.rsa_key_pair()
P256 = KeyType.ecc_key_pair(EccFamily.SECP_R1)
# Providers that take an OAEP label (the `salt`), which CanDoCrypto cannot ask about: SoftHSM2
# 2.6 takes none (docs/providers-pkcs11.md), and the PKCS#11 provider refuses one.
OAEP_LABELS = {"software": True, "tpm": True, "pkcs11": False}


def crypts(bits: int, alg: EncryptAlg, *ops: Opcode) -> Need:
    """The provider makes an RSA key pair for `alg` as rsa_key() does, and serves `ops`."""
    make = imports if alg.hash == Hash.SHA_1 else generates
    return make(RSA, bits, alg, *(ops or ENCRYPTION))


def agrees(kt: KeyType, bits: int, alg: KeyAgreementAlg = ECDH) -> Need:
    return generates(kt, bits, alg, *AGREEMENT)


def rsa_key(client: BasicClient, bits: int, alg: EncryptAlg, **flags: bool) -> str:
    """A key pair for `alg`: generated, or imported where the policy names SHA-1 (a deprecated
    hash: generation refuses it, import only warns)."""
    a = attrs(KeyType.rsa_key_pair(), bits, alg, **(flags or {"encrypt": True, "decrypt": True}))
    k = name()
    if alg.hash == Hash.SHA_1:
        priv = rsa.generate_private_key(65537, bits)
        client.import_key(k, a, priv.private_bytes(serialization.Encoding.DER,
                                                   serialization.PrivateFormat.TraditionalOpenSSL,
                                                   serialization.NoEncryption()))
        return k
    client.generate_key(k, a)
    return k


def rsa_public(client: BasicClient, k: str) -> rsa.RSAPublicKey:
    pub = serialization.load_der_public_key(client.export_public_key(k))
    assert isinstance(pub, rsa.RSAPublicKey)
    return pub


# ------------------------------------------------------------------------------------------------
# Encryption

ENCRYPTION_CASES = [(PKCS1, 1024), (PKCS1, 2048), (oaep(Hash.SHA_1), 1024), (oaep(Hash.SHA_224), 2048),
                    (oaep(Hash.SHA_256), 2048), (oaep(Hash.SHA_384), 2048), (oaep(Hash.SHA_512), 2048)]


@NEEDS.cases("alg, bits", ENCRYPTION_CASES, lambda c: [crypts(c[1], c[0])],
             ids=lambda c: f"{c[0].kind.name}{c[0].hash.name if c[0].hash else ''}-{c[1]}")
def test_encrypt_decrypt(client: BasicClient, alg: EncryptAlg, bits: int) -> None:
    k = rsa_key(client, bits, alg)
    ct = client.asymmetric_encrypt(k, alg, PLAINTEXT)
    assert len(ct) == bits // 8
    assert client.asymmetric_encrypt(k, alg, PLAINTEXT) != ct  # randomized padding
    assert client.asymmetric_decrypt(k, alg, ct) == PLAINTEXT
    # Made outside with the exported public key, decrypted inside.
    outside = rsa_public(client, k).encrypt(b"from outside", crypto_padding(alg))
    assert client.asymmetric_decrypt(k, alg, outside) == b"from outside"
    # A changed ciphertext does not decrypt.
    bad = bytearray(ct)
    bad[-1] ^= 1
    assert status(client.asymmetric_decrypt, k, alg, bytes(bad)) == ResponseStatus.PSA_ERROR_INVALID_PADDING


@NEEDS.cases("h", [Hash.SHA_1, Hash.SHA_256, Hash.SHA_512], lambda h: [crypts(2048, oaep(h))])
def test_oaep_label(client: BasicClient, provider: str, h: Hash) -> None:
    """The `salt` field is the OAEP label."""
    alg = oaep(h)
    k = rsa_key(client, 2048, alg)
    label = b"some random label"
    if not OAEP_LABELS[provider]:
        assert status(client.asymmetric_encrypt, k, alg, PLAINTEXT, label) == \
            ResponseStatus.PSA_ERROR_NOT_SUPPORTED
        ct = client.asymmetric_encrypt(k, alg, PLAINTEXT)
        assert status(client.asymmetric_decrypt, k, alg, ct, label) == \
            ResponseStatus.PSA_ERROR_NOT_SUPPORTED
        assert client.asymmetric_decrypt(k, alg, ct) == PLAINTEXT
        return
    ct = client.asymmetric_encrypt(k, alg, PLAINTEXT, salt=label)
    assert client.asymmetric_decrypt(k, alg, ct, salt=label) == PLAINTEXT
    assert status(client.asymmetric_decrypt, k, alg, ct, b"") == ResponseStatus.PSA_ERROR_INVALID_PADDING
    assert status(client.asymmetric_decrypt, k, alg, ct, b"other label") == \
        ResponseStatus.PSA_ERROR_INVALID_PADDING
    outside = rsa_public(client, k).encrypt(b"labelled", crypto_padding(alg, b"encryption label"))
    assert client.asymmetric_decrypt(k, alg, outside, salt=b"encryption label") == b"labelled"


@NEEDS.test(crypts(2048, oaep(Hash.SHA_256), *ENCRYPTION, Opcode.PSA_EXPORT_KEY))
def test_ciphertext_decrypts_outside(client: BasicClient, tmp_path: Path) -> None:
    """With the exported private key, `cryptography` and openssl decrypt what the service made."""
    alg = oaep(Hash.SHA_256)
    k = rsa_key(client, 2048, alg, encrypt=True, export=True)
    der = client.export_key(k)
    priv = serialization.load_der_private_key(der, None)
    assert isinstance(priv, rsa.RSAPrivateKey)
    label = b"label"
    ct = client.asymmetric_encrypt(k, alg, PLAINTEXT, salt=label)
    assert priv.decrypt(ct, crypto_padding(alg, label)) == PLAINTEXT
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("no openssl command")
    (tmp_path / "key.der").write_bytes(der)
    (tmp_path / "ct.bin").write_bytes(ct)
    done = subprocess.run([exe, "pkeyutl", "-decrypt", "-keyform", "DER", "-inkey",
                           str(tmp_path / "key.der"), "-in", str(tmp_path / "ct.bin"),
                           "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256",
                           "-pkeyopt", "rsa_mgf1_md:sha256", "-pkeyopt", f"rsa_oaep_label:{label.hex()}"],
                          capture_output=True, check=True)
    assert done.stdout == PLAINTEXT


@NEEDS.test(crypts(2048, oaep(Hash.SHA_256)),
            imports(KeyType.rsa_public_key(), 2048, oaep(Hash.SHA_256), Opcode.PSA_IMPORT_KEY))
def test_encrypt_with_public_key(client: BasicClient) -> None:
    alg = oaep(Hash.SHA_256)
    pub_attrs = attrs(KeyType.rsa_public_key(), 2048, alg, encrypt=True, decrypt=True)
    k = rsa_key(client, 2048, alg)
    kp = name()
    client.import_key(kp, pub_attrs, client.export_public_key(k))
    ct = client.asymmetric_encrypt(kp, alg, PLAINTEXT)
    assert client.asymmetric_decrypt(k, alg, ct) == PLAINTEXT
    assert status(client.asymmetric_decrypt, kp, alg, ct) in (ResponseStatus.PSA_ERROR_INVALID_ARGUMENT,
                                                              ResponseStatus.PSA_ERROR_NOT_PERMITTED)


@NEEDS.test(crypts(1024, PKCS1), crypts(1024, oaep(Hash.SHA_256)))
def test_decrypt_with_another_key(client: BasicClient) -> None:
    for alg in (PKCS1, oaep(Hash.SHA_256)):
        k1, k2 = rsa_key(client, 1024, alg), rsa_key(client, 1024, alg)
        ct = client.asymmetric_encrypt(k1, alg, PLAINTEXT)
        assert status(client.asymmetric_decrypt, k2, alg, ct) == ResponseStatus.PSA_ERROR_INVALID_PADDING


@NEEDS.test(crypts(1024, PKCS1))
def test_pkcs1_takes_no_salt(client: BasicClient) -> None:
    k = rsa_key(client, 1024, PKCS1)
    ct = client.asymmetric_encrypt(k, PKCS1, PLAINTEXT)
    assert status(client.asymmetric_encrypt, k, PKCS1, PLAINTEXT, b"salt") == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    assert status(client.asymmetric_decrypt, k, PKCS1, ct, b"salt") == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(crypts(1024, PKCS1), crypts(1024, oaep(Hash.SHA_256)))
def test_input_sizes(client: BasicClient) -> None:
    k = rsa_key(client, 1024, PKCS1)
    assert len(client.asymmetric_encrypt(k, PKCS1, b"x" * (128 - 11))) == 128  # the longest
    assert status(client.asymmetric_encrypt, k, PKCS1, b"x" * (128 - 10)) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    ko = rsa_key(client, 1024, oaep(Hash.SHA_256))
    assert status(client.asymmetric_encrypt, ko, oaep(Hash.SHA_256), b"x" * (128 - 65)) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    ct = client.asymmetric_encrypt(k, PKCS1, PLAINTEXT)
    assert status(client.asymmetric_decrypt, k, PKCS1, ct[:-1]) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    assert status(client.asymmetric_decrypt, k, PKCS1, ct + b"\x00") == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(crypts(1024, PKCS1), crypts(1024, oaep(Hash.SHA_256)))
def test_encryption_policy(client: BasicClient) -> None:
    k = rsa_key(client, 1024, oaep(Hash.SHA_256))
    # Another scheme or hash than the policy's.
    assert status(client.asymmetric_encrypt, k, PKCS1, PLAINTEXT) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert status(client.asymmetric_encrypt, k, oaep(Hash.SHA_1), PLAINTEXT) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    # Usage flags.
    k_dec = rsa_key(client, 1024, PKCS1, decrypt=True)
    k_enc = rsa_key(client, 1024, PKCS1, encrypt=True)
    ct = client.asymmetric_encrypt(k_enc, PKCS1, PLAINTEXT)
    assert status(client.asymmetric_encrypt, k_dec, PKCS1, PLAINTEXT) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert status(client.asymmetric_decrypt, k_enc, PKCS1, ct) == ResponseStatus.PSA_ERROR_NOT_PERMITTED


@only("software")  # a policy the key type cannot perform: the software provider's checks
def test_encryption_wrong_key_type(client: BasicClient) -> None:
    k = name()
    client.generate_key(k, attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, PKCS1, encrypt=True,
                                 decrypt=True))
    assert status(client.asymmetric_encrypt, k, PKCS1, PLAINTEXT) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    ks = name()
    client.generate_key(ks, attrs(KeyType.rsa_key_pair(), 1024,
                                  SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256), encrypt=True))
    assert status(client.asymmetric_encrypt, ks, PKCS1, PLAINTEXT) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    # OAEP with a hash the provider does not offer.
    alg = oaep(Hash.SHA3_256)
    kx = name()
    client.generate_key(kx, attrs(KeyType.rsa_key_pair(), 1024, alg, encrypt=True))
    assert status(client.asymmetric_encrypt, kx, alg, PLAINTEXT) == ResponseStatus.PSA_ERROR_NOT_SUPPORTED


@NEEDS.test(serves(*ENCRYPTION))
def test_encryption_missing_key(client: BasicClient) -> None:
    missing = ResponseStatus.PSA_ERROR_DOES_NOT_EXIST
    assert status(client.asymmetric_encrypt, "nope", PKCS1, PLAINTEXT) == missing
    assert status(client.asymmetric_decrypt, "nope", PKCS1, PLAINTEXT) == missing


# ------------------------------------------------------------------------------------------------
# Key agreement

WEIERSTRASS: list[tuple[EccFamily, int, ec.EllipticCurve]] = [
    (EccFamily.SECP_R1, 256, ec.SECP256R1()), (EccFamily.SECP_R1, 384, ec.SECP384R1()),
    (EccFamily.SECP_R1, 521, ec.SECP521R1()), (EccFamily.SECP_K1, 256, ec.SECP256K1()),
    (EccFamily.BRAINPOOL_P_R1, 256, ec.BrainpoolP256R1()),
    (EccFamily.BRAINPOOL_P_R1, 384, ec.BrainpoolP384R1()),
    (EccFamily.BRAINPOOL_P_R1, 512, ec.BrainpoolP512R1()),
]


def agreement_key(client: BasicClient, kt: KeyType, bits: int, alg: KeyAgreementAlg,
                  **flags: bool) -> str:
    k = name()
    client.generate_key(k, attrs(kt, bits, alg, **(flags or {"derive": True})))
    return k


def _point(pub: ec.EllipticCurvePublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@NEEDS.cases("family, bits, curve", WEIERSTRASS,
             lambda c: [agrees(KeyType.ecc_key_pair(c[0]), c[1])],
             ids=[f"{f.name}-{b}" for f, b, _ in WEIERSTRASS])
def test_ecdh(client: BasicClient, family: EccFamily, bits: int,
              curve: ec.EllipticCurve) -> None:
    k1 = agreement_key(client, KeyType.ecc_key_pair(family), bits, ECDH)
    k2 = agreement_key(client, KeyType.ecc_key_pair(family), bits, ECDH)
    s12 = client.raw_key_agreement(RawKeyAgreement.ECDH, k1, client.export_public_key(k2))
    s21 = client.raw_key_agreement(RawKeyAgreement.ECDH, k2, client.export_public_key(k1))
    assert s12 == s21 and len(s12) == (bits + 7) // 8
    # With a party outside the service.
    peer = ec.generate_private_key(curve)
    ours = ec.EllipticCurvePublicKey.from_encoded_point(curve, client.export_public_key(k1))
    assert client.raw_key_agreement(RawKeyAgreement.ECDH, k1, _point(peer.public_key())) == \
        peer.exchange(ec.ECDH(), ours)


@NEEDS.cases("bits, cls, pub_cls", [
    (255, x25519.X25519PrivateKey, x25519.X25519PublicKey), (448, x448.X448PrivateKey, x448.X448PublicKey)],
    lambda c: [agrees(KeyType.ecc_key_pair(EccFamily.MONTGOMERY), c[0])], ids=["X25519", "X448"])
def test_ecdh_montgomery(client: BasicClient, bits: int, cls: Any,
                         pub_cls: Any) -> None:
    kt = KeyType.ecc_key_pair(EccFamily.MONTGOMERY)
    k1, k2 = agreement_key(client, kt, bits, ECDH), agreement_key(client, kt, bits, ECDH)
    s12 = client.raw_key_agreement(RawKeyAgreement.ECDH, k1, client.export_public_key(k2))
    assert s12 == client.raw_key_agreement(RawKeyAgreement.ECDH, k2, client.export_public_key(k1))
    peer = cls.generate()
    raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
    ours_pub = pub_cls.from_public_bytes(client.export_public_key(k1))
    assert client.raw_key_agreement(RawKeyAgreement.ECDH, k1, peer.public_key().public_bytes(*raw)) == \
        peer.exchange(ours_pub)
    # Small-order points give no secret; a peer of the other curve is refused.
    assert status(client.raw_key_agreement, RawKeyAgreement.ECDH, k1, bytes(len(s12))) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    other_len = 56 if bits == 255 else 32
    assert status(client.raw_key_agreement, RawKeyAgreement.ECDH, k1, b"\x09" + bytes(other_len - 1)) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.cases("bits", [2048, 3072, 4096, 6144, 8192], lambda bits: [agrees(DH_PAIR, bits, FFDH)])
def test_ffdh(client: BasicClient, bits: int) -> None:
    from pqparsec.service.providers.software.keys import DH_GROUPS

    k = agreement_key(client, DH_PAIR, bits, FFDH)
    group = dh.DHParameterNumbers(DH_GROUPS[bits], 2)
    peer = group.parameters().generate_private_key()
    y = peer.public_key().public_numbers().y.to_bytes(bits // 8, "big")
    ours = dh.DHPublicNumbers(int.from_bytes(client.export_public_key(k), "big"), group).public_key()
    secret = client.raw_key_agreement(RawKeyAgreement.FFDH, k, y)
    assert len(secret) == bits // 8
    assert secret == peer.exchange(ours).rjust(bits // 8, b"\x00")
    if bits == 2048:
        k2 = agreement_key(client, DH_PAIR, bits, FFDH)
        assert client.raw_key_agreement(RawKeyAgreement.FFDH, k2, client.export_public_key(k)) == \
            client.raw_key_agreement(RawKeyAgreement.FFDH, k, client.export_public_key(k2))
        p = DH_GROUPS[bits]
        for bad in (1, p - 1, p):  # degenerate or out of range
            assert status(client.raw_key_agreement, RawKeyAgreement.FFDH, k,
                          bad.to_bytes(256, "big")) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
        assert status(client.raw_key_agreement, RawKeyAgreement.FFDH, k, y[1:]) == \
            ResponseStatus.PSA_ERROR_INVALID_ARGUMENT  # not padded to the group size


@NEEDS.test(agrees(KeyType.ecc_key_pair(EccFamily.SECP_R1), 384))
def test_ecdh_with_openssl(client: BasicClient, tmp_path: Path) -> None:
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("no openssl command")
    k = agreement_key(client, KeyType.ecc_key_pair(EccFamily.SECP_R1), 384, ECDH)
    ours = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP384R1(), client.export_public_key(k))
    subprocess.run([exe, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384",
                    "-out", str(tmp_path / "peer.pem")], check=True, capture_output=True)
    (tmp_path / "ours.pem").write_bytes(ours.public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    done = subprocess.run([exe, "pkeyutl", "-derive", "-inkey", str(tmp_path / "peer.pem"), "-peerkey",
                           str(tmp_path / "ours.pem")], capture_output=True, check=True)
    peer = serialization.load_pem_private_key((tmp_path / "peer.pem").read_bytes(), None)
    assert isinstance(peer, ec.EllipticCurvePrivateKey)
    assert client.raw_key_agreement(RawKeyAgreement.ECDH, k, _point(peer.public_key())) == done.stdout


@NEEDS.test(agrees(P256, 256))
def test_key_agreement_bad_peer_keys(client: BasicClient) -> None:
    k = agreement_key(client, KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ECDH)
    p384 = _point(ec.generate_private_key(ec.SECP384R1()).public_key())
    good = _point(ec.generate_private_key(ec.SECP256R1()).public_key())
    compressed = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    for bad in (b"\x04" + b"\x01" * 64, p384, compressed, good[:-1], b""):
        assert status(client.raw_key_agreement, RawKeyAgreement.ECDH, k, bad) == \
            ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(agrees(P256, 256), generates(P256, 256, SignAlg(SignKind.ECDSA, Hash.SHA_256)))
def test_key_agreement_policy(client: BasicClient) -> None:
    kt = KeyType.ecc_key_pair(EccFamily.SECP_R1)
    peer = _point(ec.generate_private_key(ec.SECP256R1()).public_key())
    # No derive flag.
    k = agreement_key(client, kt, 256, ECDH, export=True)
    assert status(client.raw_key_agreement, RawKeyAgreement.ECDH, k, peer) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    # The policy names another algorithm.
    ks = name()
    a = attrs(kt, 256, SignAlg(SignKind.ECDSA, Hash.SHA_256), derive=True, sign_hash=True)
    client.generate_key(ks, a)
    assert status(client.raw_key_agreement, RawKeyAgreement.ECDH, ks, peer) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    k2 = agreement_key(client, kt, 256, ECDH)
    assert status(client.raw_key_agreement, RawKeyAgreement.FFDH, k2, peer) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED


@only("software")  # a policy the key type cannot perform: the software provider's checks
def test_key_agreement_wrong_key_type(client: BasicClient) -> None:
    peer = _point(ec.generate_private_key(ec.SECP256R1()).public_key())
    for kt, bits, alg in ((KeyType.rsa_key_pair(), 1024, ECDH), (KeyType.ecc_key_pair(EccFamily.SECP_R1),
                                                                256, FFDH)):
        k = name()
        client.generate_key(k, attrs(kt, bits, alg, derive=True))
        assert status(client.raw_key_agreement, alg.raw, k, peer) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    # A public key cannot agree.
    kp = name()
    client.import_key(kp, attrs(KeyType.ecc_public_key(EccFamily.SECP_R1), 256, ECDH, derive=True), peer)
    assert status(client.raw_key_agreement, RawKeyAgreement.ECDH, kp, peer) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(serves(*AGREEMENT))
def test_key_agreement_missing_key(client: BasicClient) -> None:
    assert status(client.raw_key_agreement, RawKeyAgreement.ECDH, "nope", b"\x04" + b"\x01" * 64) == \
        ResponseStatus.PSA_ERROR_DOES_NOT_EXIST


# ------------------------------------------------------------------------------------------------
# What a provider's table lacks is refused


@NEEDS.refusals()
def test_unsupported_needs_are_refused(client: BasicClient, table: Pinned, need: Need) -> None:
    assert_refused(client, table, need)
