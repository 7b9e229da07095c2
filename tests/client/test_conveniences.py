"""The policy-driven helpers: sign/verify, public_key, the cryptography private-key adapter (CSR
and certificate signing), import/export of key objects, encrypt, seal, mac, agree."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.x509.oid import NameOID

from pqparsec.client import (
    BasicClient,
    InvalidSignature,
    KeyNotFound,
    KeyTypeError,
    NotPermitted,
    NotSupported,
    ServiceECPrivateKey,
    ServiceRSAPrivateKey,
    templates,
)
from pqparsec.client import keys as ckeys
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    ANY_HASH,
    AeadKind,
    EccFamily,
    Hash,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)

Require = Callable[[Opcode], None]


# -- sign / verify --------------------------------------------------------------------------------

def test_sign_ecdsa_der_and_raw(client: BasicClient) -> None:
    client.generate_key("ec", templates.ecc_signing())
    pub = client.public_key("ec")
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    der = client.sign("ec", b"payload")
    decode_dss_signature(der)  # it is DER
    pub.verify(der, b"payload", ec.ECDSA(hashes.SHA256()))
    raw = client.sign("ec", b"payload", format="raw")
    assert len(raw) == 64
    client.verify("ec", b"payload", der)
    client.verify("ec", b"payload", raw, format="raw")
    with pytest.raises(InvalidSignature):
        client.verify("ec", b"payloaD", der)
    with pytest.raises(InvalidSignature):
        client.verify("ec", b"payload", b"\x30\x00garbage")


def test_sign_p384_uses_the_policy_hash(client: BasicClient) -> None:
    client.generate_key("p384", templates.ecc_signing(384))
    assert client.key_attributes("p384").algorithm == SignAlg(SignKind.ECDSA, Hash.SHA_384)
    sig = client.sign("p384", b"x")
    pub = client.public_key("p384")
    assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp384r1"
    pub.verify(sig, b"x", ec.ECDSA(hashes.SHA384()))
    with pytest.raises(KeyTypeError, match="SHA_384"):
        client.sign("p384", b"x", hash=Hash.SHA_256)


@pytest.mark.parametrize("pss", [False, True])
def test_sign_rsa(client: BasicClient, pss: bool) -> None:
    client.generate_key("rsa", templates.rsa_signing(pss=pss))
    sig = client.sign("rsa", b"document")
    assert sig == client.sign("rsa", b"document", format="raw") or pss  # PSS is randomised
    pub = client.public_key("rsa")
    assert isinstance(pub, rsa.RSAPublicKey)
    pad = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO) if pss else \
        padding.PKCS1v15()
    pub.verify(sig, b"document", pad, hashes.SHA256())
    client.verify("rsa", b"document", sig)


def test_sign_with_wildcard_hash_policy(client: BasicClient) -> None:
    attrs = KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
                          KeyPolicy(templates.SIGNING, SignAlg(SignKind.ECDSA, ANY_HASH)))
    client.generate_key("any", attrs)
    pub = client.public_key("any")
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    pub.verify(client.sign("any", b"m"), b"m", ec.ECDSA(hashes.SHA256()))  # default SHA-256
    pub.verify(client.sign("any", b"m", hash=Hash.SHA_512), b"m", ec.ECDSA(hashes.SHA512()))


def test_sign_needs_a_signing_key(client: BasicClient) -> None:
    client.generate_key("enc", templates.rsa_encryption(1024))
    with pytest.raises(KeyTypeError, match="not a signing key"):
        client.sign("enc", b"x")
    with pytest.raises(KeyNotFound):
        client.sign("missing", b"x")
    with pytest.raises(ValueError):
        client.sign("enc", b"x", format="pem")  # type: ignore[arg-type]


# -- public keys ---------------------------------------------------------------------------------

def test_public_key_rsa_matches_export(client: BasicClient) -> None:
    client.generate_key("r", templates.rsa_encryption(1024))
    pub = client.public_key("r")
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 1024
    assert pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1) == \
        client.export_public_key("r")
    pem = client.public_key_pem("r")
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert serialization.load_pem_public_key(pem.encode()).public_numbers() == pub.public_numbers()
    assert client.public_key_pem("r", pkcs1=True).startswith("-----BEGIN RSA PUBLIC KEY-----")


def test_public_key_ecc_and_x25519(client: BasicClient) -> None:
    client.generate_key("ec", templates.ecc_signing())
    pub = client.public_key("ec")
    assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp256r1"
    with pytest.raises(KeyTypeError):
        client.public_key_pem("ec", pkcs1=True)
    client.generate_key("x", templates.ecdh(255, EccFamily.MONTGOMERY))
    xpub = client.public_key("x")
    assert isinstance(xpub, x25519.X25519PublicKey)
    assert xpub.public_bytes_raw() == client.export_public_key("x")


# -- the private key adapter ---------------------------------------------------------------------

def _csr_builder() -> x509.CertificateSigningRequestBuilder:
    return x509.CertificateSigningRequestBuilder().subject_name(x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, "adapter.example"),
    ])).add_extension(x509.SubjectAlternativeName([x509.DNSName("adapter.example")]),
                      critical=False)


@pytest.mark.parametrize(("bits", "algo"), [(256, hashes.SHA256()), (384, hashes.SHA384())])
def test_csr_signed_by_service_ec_key(client: BasicClient, bits: int,
                                      algo: hashes.SHA256 | hashes.SHA384) -> None:
    client.generate_key("csr-ec", templates.ecc_signing(bits))
    key = client.private_key("csr-ec")
    assert isinstance(key, ServiceECPrivateKey) and isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.key_size == bits
    csr = _csr_builder().sign(key, algo)
    assert csr.is_signature_valid
    assert csr.public_key() == client.public_key("csr-ec")
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "adapter.example"


@pytest.mark.parametrize("pss", [False, True])
def test_csr_signed_by_service_rsa_key(client: BasicClient, pss: bool) -> None:
    client.generate_key("csr-rsa", templates.rsa_signing(pss=pss))
    key = client.private_key("csr-rsa")
    assert isinstance(key, ServiceRSAPrivateKey) and isinstance(key, rsa.RSAPrivateKey)
    if pss:
        csr = _csr_builder().sign(key, hashes.SHA256(), rsa_padding=padding.PSS(
            padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH))
    else:
        csr = _csr_builder().sign(key, hashes.SHA256())
    assert csr.is_signature_valid
    assert csr.public_key() == client.public_key("csr-rsa")


def test_self_signed_certificate_with_adapter(client: BasicClient) -> None:
    client.generate_key("ca", templates.ecc_signing())
    key = client.private_key("ca")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pqparsec test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    cert.verify_directly_issued_by(cert)


def test_adapter_policy_is_enforced_by_the_service(client: BasicClient) -> None:
    client.generate_key("p256", templates.ecc_signing())
    key = client.private_key("p256")
    with pytest.raises(NotPermitted):
        key.sign(b"x", ec.ECDSA(hashes.SHA384()))  # the policy says SHA-256
    digest = hashlib.sha256(b"pre").digest()
    sig = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    key.public_key().verify(sig, b"pre", ec.ECDSA(hashes.SHA256()))


def test_adapter_never_reveals_the_private_key(client: BasicClient) -> None:
    client.generate_key("secret", templates.rsa_signing(1024))
    key = client.private_key("secret")
    with pytest.raises(KeyTypeError, match="stays in the Parsec service"):
        key.private_numbers()
    with pytest.raises(KeyTypeError):
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption())
    client.generate_key("aes", templates.aead())
    with pytest.raises(KeyTypeError):
        client.private_key("aes")


def test_adapter_decrypt_and_exchange(client: BasicClient, require_opcode: Require) -> None:
    require_opcode(Opcode.PSA_ASYMMETRIC_DECRYPT)
    require_opcode(Opcode.PSA_RAW_KEY_AGREEMENT)
    client.generate_key("oaep", templates.rsa_encryption(2048, oaep=True))
    rkey = client.private_key("oaep")
    assert isinstance(rkey, rsa.RSAPrivateKey)
    oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
    assert rkey.decrypt(rkey.public_key().encrypt(b"via adapter", oaep), oaep) == b"via adapter"
    client.generate_key("ecdh", templates.ecdh())
    ekey = client.private_key("ecdh")
    assert isinstance(ekey, ec.EllipticCurvePrivateKey)
    peer = ec.generate_private_key(ec.SECP256R1())
    assert ekey.exchange(ec.ECDH(), peer.public_key()) == peer.exchange(ec.ECDH(),
                                                                        ekey.public_key())


# -- key objects in and out ----------------------------------------------------------------------

def test_import_and_export_key_objects(client: BasicClient) -> None:
    local = ec.generate_private_key(ec.SECP384R1())
    attrs = client.import_key_object("imp", local, templates.ecc_signing(384,
                                                                         exportable=True).policy)
    assert attrs.key_type == KeyType.ecc_key_pair(EccFamily.SECP_R1) and attrs.key_bits == 384
    back = client.export_key_object("imp")
    assert isinstance(back, ec.EllipticCurvePrivateKey)
    assert back.private_numbers() == local.private_numbers()
    local.public_key().verify(client.sign("imp", b"z"), b"z", ec.ECDSA(hashes.SHA384()))

    pub = rsa.generate_private_key(65537, 2048).public_key()
    pol = KeyPolicy(UsageFlags(verify_hash=True, export=True),
                    SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256))
    client.import_key_object("pub", pub, pol)
    assert client.export_key_object("pub") == pub


def test_load_key_formats() -> None:
    priv = rsa.generate_private_key(65537, 2048)
    pub = priv.public_key()
    forms = {
        "pkcs8 pem": priv.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()),
        "pkcs1 der": priv.private_bytes(serialization.Encoding.DER,
                                        serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.NoEncryption()),
        "spki der": pub.public_bytes(serialization.Encoding.DER,
                                     serialization.PublicFormat.SubjectPublicKeyInfo),
        "pkcs1 pub pem": pub.public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.PKCS1),
    }
    for name, data in forms.items():
        key = ckeys.load_key(data)
        got = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
        assert got == pub, name
    with pytest.raises(KeyTypeError):
        ckeys.load_key(b"not a key")


# -- encryption, AEAD, MAC, key agreement by policy -------------------------------------------

def test_encrypt_decrypt_by_policy(client: BasicClient, require_opcode: Require) -> None:
    require_opcode(Opcode.PSA_ASYMMETRIC_ENCRYPT)
    client.generate_key("e", templates.rsa_encryption(2048, oaep=True))
    assert client.decrypt("e", client.encrypt("e", b"by policy")) == b"by policy"
    client.generate_key("s", templates.ecc_signing())
    with pytest.raises(KeyTypeError, match="asymmetric encryption"):
        client.encrypt("s", b"x")


@pytest.mark.parametrize("kind", [AeadKind.GCM, AeadKind.CCM, AeadKind.CHACHA20_POLY1305])
def test_seal_unseal(client: BasicClient, require_opcode: Require, kind: AeadKind) -> None:
    require_opcode(Opcode.PSA_AEAD_ENCRYPT)
    client.generate_key("aead", templates.aead(kind))
    sealed = client.seal("aead", b"sealed text", b"header")
    assert len(sealed) == 12 + len(b"sealed text") + 16
    assert sealed != client.seal("aead", b"sealed text", b"header")  # fresh nonces
    assert client.unseal("aead", sealed, b"header") == b"sealed text"
    with pytest.raises(InvalidSignature):
        client.unseal("aead", sealed, b"other header")


def test_mac_by_policy(client: BasicClient, require_opcode: Require) -> None:
    require_opcode(Opcode.PSA_MAC_COMPUTE)
    client.generate_key("h", templates.hmac(Hash.SHA_384, 384))
    tag = client.mac("h", b"data")
    assert len(tag) == 48
    client.mac_check("h", b"data", tag)
    with pytest.raises(InvalidSignature):
        client.mac_check("h", b"data", bytes(48))


def test_agree_by_policy(client: BasicClient, require_opcode: Require) -> None:
    require_opcode(Opcode.PSA_RAW_KEY_AGREEMENT)
    client.generate_key("x", templates.ecdh(255, EccFamily.MONTGOMERY))
    peer = x25519.X25519PrivateKey.generate()
    ours = client.public_key("x")
    assert isinstance(ours, x25519.X25519PublicKey)
    assert client.agree("x", peer.public_key()) == peer.exchange(ours)
    assert client.agree("x", peer.public_key().public_bytes_raw()) == peer.exchange(ours)


# -- schemes that sign whole messages (protocol extension) --------------------------------------

@pytest.mark.parametrize("which", ["ed25519", "ml-dsa-65"])
def test_message_signing_schemes(client: BasicClient, which: str) -> None:
    if which == "ed25519":
        attrs = KeyAttributes(KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS), 255,
                              KeyPolicy(templates.SIGNING, SignAlg(SignKind.PURE_EDDSA)))
    else:
        attrs = KeyAttributes(KeyType(KeyKind.ML_DSA_KEY_PAIR), 192,
                              KeyPolicy(templates.SIGNING, SignAlg(SignKind.ML_DSA)))
    try:
        client.generate_key("m", attrs)
    except NotSupported:
        pytest.skip(f"the provider cannot generate {which} keys")
    assert client.list_keys() == []  # extension keys stay hidden from plain Parsec clients
    assert [k.name for k in client.list_keys(include_extensions=True)] == ["m"]
    alg, h = client.signing_algorithm(client.key_info("m"))
    assert alg == attrs.algorithm
    assert h is None  # the whole message is signed, with PsaSignMessage
    sig = client.sign("m", b"whole message")
    pub = client.public_key("m")
    pub.verify(sig, b"whole message")  # type: ignore[call-arg]
    client.verify("m", b"whole message", sig)
    with pytest.raises(InvalidSignature):
        client.verify("m", b"other message", sig)
    assert client.public_key_pem("m").startswith("-----BEGIN PUBLIC KEY-----")
