"""Asymmetric encryption and key agreement end to end: PsaAsymmetricEncrypt/Decrypt and
PsaRawKeyAgreement, cross-checked with `cryptography` and the openssl command line."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dh, ec, padding, rsa, x448, x25519

from pqparsec.client import BasicClient, ServiceError
from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    Algorithm,
    DhFamily,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    NoAlgorithm,
    RawKeyAgreement,
    SignAlg,
    SignKind,
    UsageFlags,
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


def attrs(kt: KeyType, bits: int, alg: Algorithm | None = None, **flags: bool) -> KeyAttributes:
    return KeyAttributes(kt, bits, KeyPolicy(UsageFlags(**flags), alg or NoAlgorithm()))


def status(fn: Callable[..., object], *args: object) -> ResponseStatus:
    with pytest.raises(ServiceError) as err:
        fn(*args)
    return err.value.status


def name() -> str:
    return f"asym-{next(_names)}"


def need(client: BasicClient, check: CheckType, a: KeyAttributes) -> None:
    if not client.can_do_crypto(check, a):
        pytest.skip(f"provider {client.provider.name} cannot {check.name.lower()} "
                    f"{a.key_type.describe()}/{a.key_bits} for {a.algorithm}")


def oaep(h: Hash) -> EncryptAlg:
    return EncryptAlg(EncryptKind.RSA_OAEP, h)


def crypto_padding(alg: EncryptAlg, label: bytes = b"") -> padding.AsymmetricPadding:
    if alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
        return padding.PKCS1v15()
    assert alg.hash is not None
    hh = CRYPTO_HASH[alg.hash]()
    return padding.OAEP(padding.MGF1(hh), hh, label or None)


@pytest.fixture
def encryption(require_opcode: Callable[[Opcode], None]) -> None:
    require_opcode(Opcode.PSA_ASYMMETRIC_ENCRYPT)
    require_opcode(Opcode.PSA_ASYMMETRIC_DECRYPT)


@pytest.fixture
def agreement(require_opcode: Callable[[Opcode], None]) -> None:
    require_opcode(Opcode.PSA_RAW_KEY_AGREEMENT)


def rsa_key(client: BasicClient, bits: int, alg: EncryptAlg, **flags: bool) -> str:
    """A key pair for `alg`: generated, or imported where the policy names SHA-1 (a deprecated
    hash: generation refuses it, import only warns)."""
    a = attrs(KeyType.rsa_key_pair(), bits, alg, **(flags or {"encrypt": True, "decrypt": True}))
    k = name()
    if alg.hash == Hash.SHA_1:
        need(client, CheckType.IMPORT, attrs(KeyType.rsa_key_pair(), bits, alg, decrypt=True))
        priv = rsa.generate_private_key(65537, bits)
        client.import_key(k, a, priv.private_bytes(serialization.Encoding.DER,
                                                   serialization.PrivateFormat.TraditionalOpenSSL,
                                                   serialization.NoEncryption()))
        return k
    need(client, CheckType.GENERATE, attrs(KeyType.rsa_key_pair(), bits, alg, decrypt=True))
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


@pytest.mark.parametrize(("alg", "bits"), ENCRYPTION_CASES,
                         ids=lambda v: v.kind.name + (v.hash.name if v.hash else "")
                         if isinstance(v, EncryptAlg) else str(v))
def test_encrypt_decrypt(client: BasicClient, encryption: None, alg: EncryptAlg, bits: int) -> None:
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


@pytest.mark.parametrize("h", [Hash.SHA_1, Hash.SHA_256, Hash.SHA_512])
def test_oaep_label(client: BasicClient, encryption: None, h: Hash) -> None:
    """The `salt` field is the OAEP label."""
    alg = oaep(h)
    k = rsa_key(client, 2048, alg)
    label = b"some random label"
    try:
        ct = client.asymmetric_encrypt(k, alg, PLAINTEXT, salt=label)
    except ServiceError as exc:  # a label is a parameter CanDoCrypto cannot ask about
        if exc.status != ResponseStatus.PSA_ERROR_NOT_SUPPORTED or client.provider == ProviderId.MBED_CRYPTO:
            raise
        pytest.skip(f"provider {client.provider.name} does not support OAEP labels")
    assert client.asymmetric_decrypt(k, alg, ct, salt=label) == PLAINTEXT
    assert status(client.asymmetric_decrypt, k, alg, ct, b"") == ResponseStatus.PSA_ERROR_INVALID_PADDING
    assert status(client.asymmetric_decrypt, k, alg, ct, b"other label") == \
        ResponseStatus.PSA_ERROR_INVALID_PADDING
    outside = rsa_public(client, k).encrypt(b"labelled", crypto_padding(alg, b"encryption label"))
    assert client.asymmetric_decrypt(k, alg, outside, salt=b"encryption label") == b"labelled"


def test_ciphertext_decrypts_outside(client: BasicClient, encryption: None,
                                     require_opcode: Callable[[Opcode], None], tmp_path: Path) -> None:
    """With the exported private key, `cryptography` and openssl decrypt what the service made."""
    require_opcode(Opcode.PSA_EXPORT_KEY)
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


def test_encrypt_with_public_key(client: BasicClient, encryption: None) -> None:
    alg = oaep(Hash.SHA_256)
    pub_attrs = attrs(KeyType.rsa_public_key(), 2048, alg, encrypt=True, decrypt=True)
    need(client, CheckType.IMPORT, pub_attrs)
    k = rsa_key(client, 2048, alg)
    kp = name()
    client.import_key(kp, pub_attrs, client.export_public_key(k))
    ct = client.asymmetric_encrypt(kp, alg, PLAINTEXT)
    assert client.asymmetric_decrypt(k, alg, ct) == PLAINTEXT
    assert status(client.asymmetric_decrypt, kp, alg, ct) in (ResponseStatus.PSA_ERROR_INVALID_ARGUMENT,
                                                              ResponseStatus.PSA_ERROR_NOT_PERMITTED)


def test_decrypt_with_another_key(client: BasicClient, encryption: None) -> None:
    for alg in (PKCS1, oaep(Hash.SHA_256)):
        k1, k2 = rsa_key(client, 1024, alg), rsa_key(client, 1024, alg)
        ct = client.asymmetric_encrypt(k1, alg, PLAINTEXT)
        assert status(client.asymmetric_decrypt, k2, alg, ct) == ResponseStatus.PSA_ERROR_INVALID_PADDING


def test_pkcs1_takes_no_salt(client: BasicClient, encryption: None) -> None:
    k = rsa_key(client, 1024, PKCS1)
    ct = client.asymmetric_encrypt(k, PKCS1, PLAINTEXT)
    assert status(client.asymmetric_encrypt, k, PKCS1, PLAINTEXT, b"salt") == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    assert status(client.asymmetric_decrypt, k, PKCS1, ct, b"salt") == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


def test_input_sizes(client: BasicClient, encryption: None) -> None:
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


def test_encryption_policy(client: BasicClient, encryption: None) -> None:
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


def test_encryption_wrong_key_type(client: BasicClient, encryption: None) -> None:
    if client.provider != ProviderId.MBED_CRYPTO:
        pytest.skip("a policy the key type cannot perform: the software provider's checks")
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


def test_encryption_missing_key(client: BasicClient, encryption: None) -> None:
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
    need(client, CheckType.GENERATE, attrs(kt, bits, alg, derive=True))
    k = name()
    client.generate_key(k, attrs(kt, bits, alg, **(flags or {"derive": True})))
    return k


def _point(pub: ec.EllipticCurvePublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


@pytest.mark.parametrize(("family", "bits", "curve"), WEIERSTRASS,
                         ids=[f"{f.name}-{b}" for f, b, _ in WEIERSTRASS])
def test_ecdh(client: BasicClient, agreement: None, family: EccFamily, bits: int,
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


@pytest.mark.parametrize(("bits", "cls", "pub_cls"), [
    (255, x25519.X25519PrivateKey, x25519.X25519PublicKey), (448, x448.X448PrivateKey, x448.X448PublicKey)])
def test_ecdh_montgomery(client: BasicClient, agreement: None, bits: int, cls: Any,
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


@pytest.mark.parametrize("bits", [2048, 3072, 4096, 6144, 8192])
def test_ffdh(client: BasicClient, agreement: None, bits: int) -> None:
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


def test_ecdh_with_openssl(client: BasicClient, agreement: None, tmp_path: Path,
                           require_opcode: Callable[[Opcode], None]) -> None:
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


def test_key_agreement_bad_peer_keys(client: BasicClient, agreement: None) -> None:
    k = agreement_key(client, KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, ECDH)
    p384 = _point(ec.generate_private_key(ec.SECP384R1()).public_key())
    good = _point(ec.generate_private_key(ec.SECP256R1()).public_key())
    compressed = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    for bad in (b"\x04" + b"\x01" * 64, p384, compressed, good[:-1], b""):
        assert status(client.raw_key_agreement, RawKeyAgreement.ECDH, k, bad) == \
            ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


def test_key_agreement_policy(client: BasicClient, agreement: None) -> None:
    kt = KeyType.ecc_key_pair(EccFamily.SECP_R1)
    peer = _point(ec.generate_private_key(ec.SECP256R1()).public_key())
    # No derive flag.
    k = agreement_key(client, kt, 256, ECDH, export=True)
    assert status(client.raw_key_agreement, RawKeyAgreement.ECDH, k, peer) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    # The policy names another algorithm.
    ks = name()
    a = attrs(kt, 256, SignAlg(SignKind.ECDSA, Hash.SHA_256), derive=True, sign_hash=True)
    need(client, CheckType.GENERATE, a)
    client.generate_key(ks, a)
    assert status(client.raw_key_agreement, RawKeyAgreement.ECDH, ks, peer) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED
    k2 = agreement_key(client, kt, 256, ECDH)
    assert status(client.raw_key_agreement, RawKeyAgreement.FFDH, k2, peer) == \
        ResponseStatus.PSA_ERROR_NOT_PERMITTED


def test_key_agreement_wrong_key_type(client: BasicClient, agreement: None) -> None:
    if client.provider != ProviderId.MBED_CRYPTO:
        pytest.skip("a policy the key type cannot perform: the software provider's checks")
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


def test_key_agreement_missing_key(client: BasicClient, agreement: None) -> None:
    assert status(client.raw_key_agreement, RawKeyAgreement.ECDH, "nope", b"\x04" + b"\x01" * 64) == \
        ResponseStatus.PSA_ERROR_DOES_NOT_EXIST
