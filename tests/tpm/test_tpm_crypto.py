"""TPM provider operations against swtpm, cross-checked with `cryptography` in the test."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    Prehashed,
    decode_dss_signature,
    encode_dss_signature,
)
from pqptest.service import ServiceProcess

from pqparsec.client import BasicClient
from pqparsec.client.errors import ServiceError
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

SIGN = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True)
CRYPT = UsageFlags(encrypt=True, decrypt=True)
HASHES = {Hash.SHA_256: hashes.SHA256, Hash.SHA_384: hashes.SHA384, Hash.SHA_512: hashes.SHA512,
          Hash.SHA_1: hashes.SHA1}
CURVES = {256: ec.SECP256R1, 384: ec.SECP384R1}


def ecc(bits: int = 256, alg: SignAlg | None = None, usage: UsageFlags = SIGN) -> KeyAttributes:
    return KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), bits,
                         KeyPolicy(usage, alg or SignAlg(SignKind.ECDSA, ANY_HASH)))


def rsa_attrs(alg: SignAlg | EncryptAlg, bits: int = 2048,
              usage: UsageFlags | None = None) -> KeyAttributes:
    if usage is None:
        usage = SIGN if isinstance(alg, SignAlg) else CRYPT
    return KeyAttributes(KeyType.rsa_key_pair(), bits, KeyPolicy(usage, alg))


def status_of(exc: pytest.ExceptionInfo[ServiceError]) -> ResponseStatus:
    return ResponseStatus(exc.value.status)


def load_psa_public(data: bytes, bits: int | None = None) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    if data[0] == 4 and bits:
        return ec.EllipticCurvePublicKey.from_encoded_point(CURVES[bits](), data)
    key = serialization.load_der_public_key(_spki(data))
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def _spki(pkcs1: bytes) -> bytes:
    def der_len(n: int) -> bytes:
        if n < 0x80:
            return bytes([n])
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([0x80 | len(raw)]) + raw
    bitstring = b"\x03" + der_len(len(pkcs1) + 1) + b"\x00" + pkcs1
    body = bytes.fromhex("300d06092a864886f70d0101010500") + bitstring
    return b"\x30" + der_len(len(body)) + body


def raw_ecdsa(der: bytes, bits: int) -> bytes:
    r, s = decode_dss_signature(der)
    n = (bits + 7) // 8
    return r.to_bytes(n, "big") + s.to_bytes(n, "big")


# -- signatures made by the TPM, verified in software ---------------------------------------------

@pytest.mark.parametrize("bits,h", [(256, Hash.SHA_256), (256, Hash.SHA_512), (384, Hash.SHA_384),
                                    (384, Hash.SHA_256)])
def test_ecdsa_signed_by_tpm_verifies_in_software(client: BasicClient, bits: int, h: Hash) -> None:
    client.generate_key("k", ecc(bits))
    pub = load_psa_public(client.export_public_key("k"), bits)
    assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.key_size == bits
    digest = hashlib.new(h.name.replace("_", "").lower(), b"message").digest()
    sig = client.sign_hash("k", SignAlg(SignKind.ECDSA, h), digest)
    assert len(sig) == 2 * ((bits + 7) // 8)
    n = len(sig) // 2
    der = encode_dss_signature(int.from_bytes(sig[:n], "big"), int.from_bytes(sig[n:], "big"))
    pub.verify(der, digest, ec.ECDSA(Prehashed(HASHES[h]())))
    client.verify_hash("k", SignAlg(SignKind.ECDSA, h), digest, sig)


@pytest.mark.parametrize("kind", [SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PSS])
def test_rsa_signed_by_tpm_verifies_in_software(client: BasicClient, kind: SignKind) -> None:
    client.generate_key("r", rsa_attrs(SignAlg(kind, ANY_HASH)))
    pub = load_psa_public(client.export_public_key("r"))
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048
    for h in (Hash.SHA_256, Hash.SHA_384):
        digest = hashlib.new(h.name.replace("_", "").lower(), b"m").digest()
        sig = client.sign_hash("r", SignAlg(kind, h), digest)
        pad = padding.PKCS1v15() if kind == SignKind.RSA_PKCS1V15_SIGN else \
            padding.PSS(padding.MGF1(HASHES[h]()), padding.PSS.DIGEST_LENGTH)
        pub.verify(sig, digest, pad, Prehashed(HASHES[h]()))
        client.verify_hash("r", SignAlg(kind, h), digest, sig)
    message = b"a message the service hashes"
    sig = client.sign_message("r", SignAlg(kind, Hash.SHA_256), message)
    client.verify_message("r", SignAlg(kind, Hash.SHA_256), message, sig)


def test_tampered_signature_is_invalid(client: BasicClient) -> None:
    client.generate_key("k", ecc())
    digest = hashlib.sha256(b"x").digest()
    alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    sig = bytearray(client.sign_hash("k", alg, digest))
    sig[5] ^= 1
    with pytest.raises(ServiceError) as exc:
        client.verify_hash("k", alg, digest, bytes(sig))
    assert status_of(exc) == ResponseStatus.PSA_ERROR_INVALID_SIGNATURE


# -- signatures made in software, verified by the provider ------------------------------------

def test_software_signature_verifies_with_imported_public_key(client: BasicClient) -> None:
    sk = ec.generate_private_key(ec.SECP384R1())
    point = sk.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint)
    attrs = KeyAttributes(KeyType.ecc_public_key(EccFamily.SECP_R1), 384,
                          KeyPolicy(UsageFlags(verify_hash=True), SignAlg(SignKind.ECDSA, ANY_HASH)))
    client.import_key("pub", attrs, point)
    assert client.export_public_key("pub") == point
    digest = hashlib.sha384(b"hello").digest()
    sig = raw_ecdsa(sk.sign(digest, ec.ECDSA(Prehashed(hashes.SHA384()))), 384)
    client.verify_hash("pub", SignAlg(SignKind.ECDSA, Hash.SHA_384), digest, sig)
    with pytest.raises(ServiceError) as exc:
        client.sign_hash("pub", SignAlg(SignKind.ECDSA, Hash.SHA_384), digest)
    assert status_of(exc) == ResponseStatus.PSA_ERROR_NOT_PERMITTED  # no sign_hash usage


def test_imported_rsa_private_key_signs_in_tpm(client: BasicClient) -> None:
    sk = rsa.generate_private_key(65537, 2048)
    der = sk.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                           serialization.NoEncryption())
    client.import_key("imp", rsa_attrs(SignAlg(SignKind.RSA_PSS, ANY_HASH)), der)
    assert load_psa_public(client.export_public_key("imp")).public_numbers() == \
        sk.public_key().public_numbers()
    digest = hashlib.sha256(b"imported").digest()
    sig = client.sign_hash("imp", SignAlg(SignKind.RSA_PSS, Hash.SHA_256), digest)
    sk.public_key().verify(sig, digest, padding.PSS(padding.MGF1(hashes.SHA256()),
                                                    padding.PSS.AUTO), Prehashed(hashes.SHA256()))
    # ... and what the software key signs, the provider verifies
    sig2 = sk.sign(digest, padding.PSS(padding.MGF1(hashes.SHA256()), 32), Prehashed(hashes.SHA256()))
    client.verify_hash("imp", SignAlg(SignKind.RSA_PSS, Hash.SHA_256), digest, sig2)
    # the private key never comes back out
    with pytest.raises(ServiceError):
        client.export_key("imp")


def test_imported_ecc_private_key_signs_in_tpm(client: BasicClient) -> None:
    sk = ec.generate_private_key(ec.SECP256R1())
    scalar = sk.private_numbers().private_value.to_bytes(32, "big")
    client.import_key("imp", ecc(0), scalar)
    keys = {k.name: k for k in client.list_keys()}
    assert keys["imp"].attributes.key_bits == 256 and keys["imp"].provider_id == 3
    digest = hashlib.sha256(b"z").digest()
    sig = client.sign_hash("imp", SignAlg(SignKind.ECDSA, Hash.SHA_256), digest)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    sk.public_key().verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


# -- encryption ----------------------------------------------------------------------------------

@pytest.fixture
def oaep_key(client: BasicClient) -> rsa.RSAPublicKey:
    client.generate_key("enc", rsa_attrs(EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256)))
    pub = load_psa_public(client.export_public_key("enc"))
    assert isinstance(pub, rsa.RSAPublicKey)
    return pub


@pytest.mark.parametrize("label", [b"", b"label\0", b"label", b"x" * 100, b"\0" * 3])
def test_oaep_software_encrypt_tpm_decrypt(client: BasicClient, oaep_key: rsa.RSAPublicKey,
                                           label: bytes) -> None:
    """Whatever the label, with or without the trailing NUL the TPM wants."""
    alg = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256)
    ct = oaep_key.encrypt(b"secret", padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(),
                                                  label or None))
    assert client.asymmetric_decrypt("enc", alg, ct, label) == b"secret"
    ct2 = client.asymmetric_encrypt("enc", alg, b"round trip", label)
    assert client.asymmetric_decrypt("enc", alg, ct2, label) == b"round trip"
    for wrong in (label + b"!", label + b"\0", b"other\0"):  # through both decryption paths
        with pytest.raises(ServiceError) as exc:
            client.asymmetric_decrypt("enc", alg, ct, wrong)
        assert status_of(exc) == ResponseStatus.PSA_ERROR_INVALID_PADDING
    assert client.asymmetric_decrypt("enc", alg, ct, label) == b"secret"  # the TPM still works


def test_oaep_sha1_and_pkcs1v15(client: BasicClient) -> None:
    # SHA-1 is deprecated: such a key is not generated, but may be imported.
    sk = rsa.generate_private_key(65537, 2048)
    der = sk.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())
    sha1 = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_1)
    client.import_key("o1", rsa_attrs(sha1), der)
    for label in (b"", b"L"):
        ct = sk.public_key().encrypt(b"m", padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(),
                                                        label or None))
        assert client.asymmetric_decrypt("o1", sha1, ct, label) == b"m"
    alg = EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT)
    client.generate_key("p1", rsa_attrs(alg))
    pub = load_psa_public(client.export_public_key("p1"))
    assert isinstance(pub, rsa.RSAPublicKey)
    assert client.asymmetric_decrypt("p1", alg, pub.encrypt(b"m", padding.PKCS1v15())) == b"m"
    with pytest.raises(ServiceError) as exc:  # PKCS#1 v1.5 takes no salt
        client.asymmetric_encrypt("p1", EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT), b"m", b"s")
    assert status_of(exc) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    with pytest.raises(ServiceError) as exc:  # garbage decrypts to bad padding
        client.asymmetric_decrypt("p1", EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT), b"\x01" * 256)
    assert status_of(exc) == ResponseStatus.PSA_ERROR_INVALID_PADDING


def test_imported_rsa_key_decrypts(client: BasicClient) -> None:
    sk = rsa.generate_private_key(65537, 2048)
    der = sk.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())
    alg = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256)
    client.import_key("imp", rsa_attrs(alg), der)
    ct = sk.public_key().encrypt(b"to the tpm", padding.OAEP(padding.MGF1(hashes.SHA256()),
                                                             hashes.SHA256(), None))
    assert client.asymmetric_decrypt("imp", alg, ct) == b"to the tpm"


# -- policy, capabilities and errors --------------------------------------------------------------

def test_policy_is_enforced(client: BasicClient) -> None:
    client.generate_key("k", ecc(alg=SignAlg(SignKind.ECDSA, Hash.SHA_256),
                                 usage=UsageFlags(sign_hash=True)))
    digest = hashlib.sha384(b"x").digest()
    with pytest.raises(ServiceError) as exc:  # another hash than the policy's
        client.sign_hash("k", SignAlg(SignKind.ECDSA, Hash.SHA_384), digest)
    assert status_of(exc) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    with pytest.raises(ServiceError) as exc:  # wrong hash length
        client.sign_hash("k", SignAlg(SignKind.ECDSA, Hash.SHA_256), digest)
    assert status_of(exc) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    with pytest.raises(ServiceError) as exc:  # no verify_hash usage
        client.verify_hash("k", SignAlg(SignKind.ECDSA, Hash.SHA_256), digest[:32], b"\0" * 64)
    assert status_of(exc) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    with pytest.raises(ServiceError) as exc:  # an RSA algorithm on an ECC key
        client.asymmetric_decrypt("k", EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT), b"x")
    assert status_of(exc) == ResponseStatus.PSA_ERROR_NOT_PERMITTED


def test_unsupported_keys_and_algorithms(client: BasicClient) -> None:
    with pytest.raises(ServiceError) as exc:
        client.generate_key("x", KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 521))
    assert status_of(exc) == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    with pytest.raises(ServiceError) as exc:
        client.generate_key("x", KeyAttributes(KeyType.ecc_key_pair(EccFamily.MONTGOMERY), 255))
    assert status_of(exc) == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    with pytest.raises(ServiceError) as exc:
        client.generate_key("x", KeyAttributes(KeyType.rsa_public_key(), 2048))
    assert status_of(exc) == ResponseStatus.PSA_ERROR_INVALID_ARGUMENT
    client.generate_key("d", ecc())
    with pytest.raises(ServiceError) as exc:
        client.generate_key("d", ecc())
    assert status_of(exc) == ResponseStatus.PSA_ERROR_ALREADY_EXISTS
    with pytest.raises(ServiceError) as exc:
        client.sign_hash("nope", SignAlg(SignKind.ECDSA, Hash.SHA_256), b"\0" * 32)
    assert status_of(exc) == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST


@pytest.mark.parametrize("attrs", [
    ecc(alg=SignAlg(SignKind.DETERMINISTIC_ECDSA, ANY_HASH)),
    ecc(alg=SignAlg(SignKind.ECDSA, Hash.SHA3_256)),
    rsa_attrs(EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_224)),
    rsa_attrs(SignAlg(SignKind.RSA_PSS, Hash.SHA3_384)),
], ids=["det-ecdsa", "ecdsa-sha3", "oaep-sha224", "pss-sha3"])
def test_policy_the_tpm_cannot_use_is_refused_at_creation(client: BasicClient,
                                                          attrs: KeyAttributes) -> None:
    """A key the TPM could never use is not created (it was, and every use failed)."""
    with pytest.raises(ServiceError) as exc:
        client.generate_key("never", attrs)
    assert status_of(exc) == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    assert "never" not in [k.name for k in client.list_keys()]
    assert not client.can_do_crypto(CheckType.GENERATE, attrs)


def test_policy_of_another_key_family_is_accepted(client: BasicClient) -> None:
    """As in the software provider: a policy no key of the type can do is stored, and a use
    is InvalidArgument (not NotSupported at creation)."""
    client.generate_key("mixed", KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, KeyPolicy(
        CRYPT, EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256))))
    client.destroy_key("mixed")


def test_deprecated_generation_refused(client: BasicClient) -> None:
    with pytest.raises(ServiceError) as exc:
        client.generate_key("k", ecc(alg=SignAlg(SignKind.ECDSA, Hash.SHA_1)))
    assert status_of(exc) == ResponseStatus.DEPRECATED_PRIMITIVE


def test_can_do_crypto_matches_the_operations(client: BasicClient) -> None:
    yes = [
        (CheckType.GENERATE, ecc(256)), (CheckType.GENERATE, ecc(384)),
        (CheckType.USE, rsa_attrs(SignAlg(SignKind.RSA_PSS, Hash.SHA_256))),
        (CheckType.USE, rsa_attrs(EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256), 3072)),
        (CheckType.IMPORT, KeyAttributes(KeyType.rsa_public_key(), 2048)),
        (CheckType.GENERATE, KeyAttributes(KeyType.rsa_key_pair(), 3072)),
    ]
    no = [
        (CheckType.GENERATE, ecc(521)),
        (CheckType.GENERATE, KeyAttributes(KeyType.rsa_public_key(), 2048)),
        (CheckType.USE, ecc(alg=SignAlg(SignKind.DETERMINISTIC_ECDSA, Hash.SHA_256))),
        (CheckType.USE, ecc(alg=SignAlg(SignKind.ECDSA, Hash.SHA3_256))),
        (CheckType.USE, rsa_attrs(SignAlg(SignKind.RSA_PSS, Hash.SHA_256), usage=UsageFlags())),
        (CheckType.DERIVE, ecc(256)),
        (CheckType.GENERATE, KeyAttributes(KeyType.rsa_key_pair(), 4096)),
    ]
    for check, attrs in yes:
        assert client.can_do_crypto(check, attrs), (check, attrs)
    for check, attrs in no:
        assert not client.can_do_crypto(check, attrs), (check, attrs)


def test_list_opcodes(client: BasicClient) -> None:
    ops = set(client.list_opcodes(3))
    assert {0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0A, 0x0B, 0x0D, 0x1E, 0x1F, 0x20} <= ops
    assert 0x0C not in ops  # PsaExportKey: private keys do not leave the TPM


def test_keys_are_per_application(client: BasicClient, tpm_service: ServiceProcess) -> None:
    client.generate_key("mine", ecc())
    other = tpm_service.client("someone-else", provider=3)
    with pytest.raises(ServiceError) as exc:
        other.export_public_key("mine")
    assert status_of(exc) == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST


def test_rsa_1024_pss_with_a_salt_shorter_than_the_hash(client: BasicClient) -> None:
    """RSA-1024 has room for a 62-byte PSS salt with SHA-512: TPM and verifier must agree."""
    alg = SignAlg(SignKind.RSA_PSS, Hash.SHA_512)
    client.generate_key("small", rsa_attrs(alg, 1024))
    pub = load_psa_public(client.export_public_key("small"))
    assert isinstance(pub, rsa.RSAPublicKey)
    digest = hashlib.sha512(b"small").digest()
    sig = client.sign_hash("small", alg, digest)
    pub.verify(sig, digest, padding.PSS(padding.MGF1(hashes.SHA512()), 62),
               Prehashed(hashes.SHA512()))
    client.verify_hash("small", alg, digest, sig)


def test_rsa_3072(client: BasicClient) -> None:
    client.generate_key("big", rsa_attrs(SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_384), 3072))
    pub = load_psa_public(client.export_public_key("big"))
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 3072
    digest = hashlib.sha384(b"big").digest()
    sig = client.sign_hash("big", SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_384), digest)
    pub.verify(sig, digest, padding.PKCS1v15(), Prehashed(hashes.SHA384()))


def test_random_comes_from_the_tpm(client: BasicClient) -> None:
    assert client.generate_random(0) == b""
    samples = [client.generate_random(n) for n in (1, 48, 64, 1000, 5000)]
    assert [len(s) for s in samples] == [1, 48, 64, 1000, 5000]
    assert client.generate_random(32) != client.generate_random(32)
    assert len(set(samples[-1])) > 200  # 5000 bytes cover nearly every byte value
