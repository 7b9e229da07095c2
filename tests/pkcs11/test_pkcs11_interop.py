"""Signatures and ciphertexts cross between the PKCS#11 provider, `cryptography` and the software
provider, both ways; RSA-OAEP as far as the token goes; AES-GCM and HMAC against `cryptography`."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pqptest.psa import attrs
from pqptest.service import ServiceProcess
from pqptest.softhsm import SoftHsm
from pqptest.status import raised_status as status

from pqparsec.client import BasicClient
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyKind,
    KeyType,
    MacAlg,
    MacKind,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.status import ResponseStatus

PKCS11, SOFTWARE = 2, 1
CURVES = {256: (ec.SECP256R1(), Hash.SHA_256, hashes.SHA256()),
          384: (ec.SECP384R1(), Hash.SHA_384, hashes.SHA384()),
          521: (ec.SECP521R1(), Hash.SHA_512, hashes.SHA512())}
MESSAGE = b"signed on one side, verified on the other"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The PKCS#11 provider first, the software provider beside it; SHA-1 allowed (the only OAEP
    hash SoftHSM has)."""
    tmp = str(tmp_path_factory.mktemp("p11-interop"))
    hsm = SoftHsm(tmp)
    token = hsm.init_token("interop")
    svc = ServiceProcess(tmp, env=hsm.env, auth_type="Direct", core={"allow_deprecated": True},
                         providers=[hsm.table(token), {"provider_type": "MbedCrypto"}])
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture
def p11(service: ServiceProcess, request: pytest.FixtureRequest) -> BasicClient:
    return service.client(f"p11-{request.node.name}", provider=PKCS11)


@pytest.fixture
def sw(service: ServiceProcess, request: pytest.FixtureRequest) -> BasicClient:
    return service.client(f"p11-{request.node.name}", provider=SOFTWARE)


def _raw_to_der(sig: bytes) -> bytes:
    n = len(sig) // 2
    return encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))


def _der_to_raw(der: bytes, bits: int) -> bytes:
    r, s = decode_dss_signature(der)
    n = (bits + 7) // 8
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


@pytest.mark.parametrize("bits", sorted(CURVES))
def test_ecdsa_both_ways(p11: BasicClient, sw: BasicClient, bits: int) -> None:
    curve, h, ch = CURVES[bits]
    alg = SignAlg(SignKind.ECDSA, h)
    digest = hashlib.new(ch.name, MESSAGE).digest()
    p11.generate_key("k", attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), bits, alg,
                                sign_hash=True, verify_hash=True))
    point = p11.export_public_key("k")
    pub = ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    # PKCS#11 signs; cryptography and the software provider verify.
    sig = p11.sign_hash("k", alg, digest)
    assert len(sig) == 2 * ((bits + 7) // 8)
    pub.verify(_raw_to_der(sig), digest, ec.ECDSA(Prehashed(ch)))
    pub_attrs = attrs(KeyType.ecc_public_key(EccFamily.SECP_R1), bits, alg, verify_hash=True)
    sw.import_key("k-pub", pub_attrs, point)
    sw.verify_hash("k-pub", alg, digest, sig)
    # cryptography signs; PKCS#11 verifies with an imported public key.
    mine = ec.generate_private_key(curve)
    p11.import_key("mine", pub_attrs, mine.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    sig = _der_to_raw(mine.sign(digest, ec.ECDSA(Prehashed(ch))), bits)
    p11.verify_hash("mine", alg, digest, sig)
    bad = sig[:-1] + bytes([sig[-1] ^ 1])
    assert status(p11.verify_hash, "mine", alg, digest, bad) == ResponseStatus.PSA_ERROR_INVALID_SIGNATURE


def test_software_provider_key_verified_on_pkcs11_and_back(p11: BasicClient, sw: BasicClient) -> None:
    alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    pair = attrs(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, alg, sign_hash=True,
                 verify_hash=True, sign_message=True, verify_message=True)
    public = attrs(KeyType.ecc_public_key(EccFamily.SECP_R1), 256, alg, verify_hash=True,
                   verify_message=True)
    sw.generate_key("soft", pair)
    p11.import_key("soft-pub", public, sw.export_public_key("soft"))
    p11.verify_message("soft-pub", alg, MESSAGE, sw.sign_message("soft", alg, MESSAGE))
    p11.generate_key("hard", pair)
    sw.import_key("hard-pub", public, p11.export_public_key("hard"))
    sw.verify_message("hard-pub", alg, MESSAGE, p11.sign_message("hard", alg, MESSAGE))


@pytest.mark.parametrize("kind", [SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PSS])
def test_rsa_signatures_both_ways(p11: BasicClient, sw: BasicClient, kind: SignKind) -> None:
    alg = SignAlg(kind, Hash.SHA_256)
    digest = hashlib.sha256(MESSAGE).digest()
    p11.generate_key("k", attrs(KeyType.rsa_key_pair(), 2048, alg, sign_hash=True,
                                verify_hash=True))
    der = p11.export_public_key("k")
    pub = serialization.load_der_public_key(_spki(der))
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048
    pad: padding.AsymmetricPadding = padding.PKCS1v15() if kind == SignKind.RSA_PKCS1V15_SIGN \
        else padding.PSS(padding.MGF1(hashes.SHA256()), 32)
    sig = p11.sign_hash("k", alg, digest)
    pub.verify(sig, digest, pad, Prehashed(hashes.SHA256()))
    sw.import_key("k-pub", attrs(KeyType.rsa_public_key(), 2048, alg, verify_hash=True), der)
    sw.verify_hash("k-pub", alg, digest, sig)
    # The software provider signs; PKCS#11 verifies.
    sw.generate_key("soft", attrs(KeyType.rsa_key_pair(), 2048, alg, sign_hash=True))
    p11.import_key("soft-pub", attrs(KeyType.rsa_public_key(), 2048, alg, verify_hash=True),
                   sw.export_public_key("soft"))
    p11.verify_hash("soft-pub", alg, digest, sw.sign_hash("soft", alg, digest))


def _spki(pkcs1: bytes) -> bytes:
    """SubjectPublicKeyInfo around a DER RSAPublicKey (for `cryptography`)."""
    def der(tag: int, body: bytes) -> bytes:
        n = len(body)
        length = bytes([n]) if n < 0x80 else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + \
            n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([tag]) + length + body
    return der(0x30, bytes.fromhex("300d06092a864886f70d0101010500") + der(0x03, b"\x00" + pkcs1))


def test_rsa_imported_private_key_signs_like_the_original(p11: BasicClient) -> None:
    key = rsa.generate_private_key(65537, 2048)
    alg = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_384)
    p11.import_key("imp", attrs(KeyType.rsa_key_pair(), 0, alg, sign_hash=True),
                   key.private_bytes(serialization.Encoding.DER,
                                     serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption()))
    digest = hashlib.sha384(MESSAGE).digest()
    # PKCS#1 v1.5 is deterministic: same key, same signature.
    assert p11.sign_hash("imp", alg, digest) == key.sign(digest, padding.PKCS1v15(),
                                                         Prehashed(hashes.SHA384()))
    assert p11.list_keys()[0].attributes.key_bits == 2048


def test_rsa_encryption(p11: BasicClient) -> None:
    oaep1 = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_1)
    oaep256 = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256)
    pkcs1 = EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT)
    pair = KeyType.rsa_key_pair()
    # SoftHSM decrypts OAEP with SHA-1 only: the others are NotSupported, and CanDoCrypto says so.
    assert p11.can_do_crypto(CheckType.USE, attrs(pair, 2048, oaep1, encrypt=True, decrypt=True))
    assert not p11.can_do_crypto(CheckType.USE, attrs(pair, 2048, oaep256, encrypt=True,
                                                      decrypt=True))
    p11.generate_key("o1", attrs(pair, 2048, oaep1, encrypt=True, decrypt=True))
    pub = serialization.load_der_public_key(_spki(p11.export_public_key("o1")))
    assert isinstance(pub, rsa.RSAPublicKey)
    ct = pub.encrypt(b"secret", padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None))
    assert p11.asymmetric_decrypt("o1", oaep1, ct) == b"secret"
    assert p11.asymmetric_decrypt("o1", oaep1, p11.asymmetric_encrypt("o1", oaep1, b"x")) == b"x"
    # A key with that policy could never be used: it is not made (issue 12).
    assert status(p11.generate_key, "o256", attrs(pair, 2048, oaep256, encrypt=True,
                                                  decrypt=True)) == \
        ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    assert int(ResponseStatus.PSA_ERROR_NOT_SUPPORTED) == 1134
    # PKCS#1 v1.5 both ways, and a bad padding.
    p11.generate_key("p1", attrs(pair, 1024, pkcs1, encrypt=True, decrypt=True))
    pub = serialization.load_der_public_key(_spki(p11.export_public_key("p1")))
    assert isinstance(pub, rsa.RSAPublicKey)
    assert p11.asymmetric_decrypt("p1", pkcs1, pub.encrypt(b"hi", padding.PKCS1v15())) == b"hi"
    assert p11.asymmetric_decrypt("p1", pkcs1, p11.asymmetric_encrypt("p1", pkcs1, b"yo")) == b"yo"
    assert status(p11.asymmetric_decrypt, "p1", pkcs1, b"\x01" * 128) == \
        ResponseStatus.PSA_ERROR_INVALID_PADDING
    assert status(p11.asymmetric_encrypt, "p1", pkcs1, b"x" * 118) == \
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT


def test_aes_gcm_against_cryptography(p11: BasicClient) -> None:
    alg = AeadAlg(AeadKind.GCM)
    key = os.urandom(32)
    p11.import_key("aes", attrs(KeyType.simple(KeyKind.AES), 256, alg, encrypt=True, decrypt=True),
                   key)
    for nonce in (os.urandom(12), os.urandom(1), os.urandom(64)):
        ct = p11.aead_encrypt("aes", alg, nonce, b"aad", b"plaintext")
        if len(nonce) >= 8:  # what `cryptography` takes
            assert AESGCM(key).decrypt(nonce, ct, b"aad") == b"plaintext"
        assert p11.aead_decrypt("aes", alg, nonce, b"aad", ct) == b"plaintext"
        bad = ct[:-1] + bytes([ct[-1] ^ 1])
        assert status(p11.aead_decrypt, "aes", alg, nonce, b"aad", bad) == \
            ResponseStatus.PSA_ERROR_INVALID_SIGNATURE


def test_hmac_short_keys_and_export(p11: BasicClient) -> None:
    """SoftHSM wants HMAC keys at least as long as the hash; shorter ones are stored zero-padded,
    which computes the same HMAC, and export gives back the key as imported."""
    alg = MacAlg(MacKind.HMAC, Hash.SHA_256)
    for size in (4, 20, 32, 100):
        key = os.urandom(size)
        name = f"h{size}"
        p11.import_key(name, attrs(KeyType.simple(KeyKind.HMAC), 0, alg, sign_message=True,
                                   verify_message=True, export=True), key)
        mac = hmac.new(key, MESSAGE, "sha256").digest()
        assert p11.mac_compute(name, alg, MESSAGE) == mac
        p11.mac_verify(name, alg, MESSAGE, mac)
        assert p11.export_key(name) == key
        assert {k.name: k for k in p11.list_keys()}[name].attributes.key_bits == size * 8
    p11.generate_key("gen", attrs(KeyType.simple(KeyKind.HMAC), 128, alg, sign_message=True,
                                  export=True))
    key = p11.export_key("gen")
    assert len(key) == 16
    assert p11.mac_compute("gen", alg, MESSAGE) == hmac.new(key, MESSAGE, "sha256").digest()


def test_software_public_operations(tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = str(tmp_path_factory.mktemp("p11-spo"))
    hsm = SoftHsm(tmp)
    token = hsm.init_token("spo")
    svc = ServiceProcess(tmp, env=hsm.env, auth_type="Direct", core={"allow_deprecated": True},
                         providers=[hsm.table(token, software_public_operations=True)])
    svc.start()
    try:
        c = svc.client("spo")
        for alg, kt, bits in ((SignAlg(SignKind.ECDSA, Hash.SHA_384),
                               KeyType.ecc_key_pair(EccFamily.SECP_R1), 384),
                              (SignAlg(SignKind.RSA_PSS, Hash.SHA_256), KeyType.rsa_key_pair(), 1024)):
            c.generate_key("s", attrs(kt, bits, alg, sign_hash=True, verify_hash=True))
            assert alg.hash is not None and isinstance(alg.hash, Hash)
            digest = os.urandom(alg.hash.digest_size)
            sig = c.sign_hash("s", alg, digest)
            c.verify_hash("s", alg, digest, sig)
            assert status(c.verify_hash, "s", alg, digest, sig[::-1]) == \
                ResponseStatus.PSA_ERROR_INVALID_SIGNATURE
            c.destroy_key("s")
        oaep = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_1)
        c.generate_key("e", attrs(KeyType.rsa_key_pair(), 1024, oaep, encrypt=True, decrypt=True))
        assert c.asymmetric_decrypt("e", oaep, c.asymmetric_encrypt("e", oaep, b"m")) == b"m"
    finally:
        svc.stop()
