"""One test (at least) per BasicClient operation method, against a real service, with results
cross-checked by the `cryptography` package where there is something to check."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pqparsec.client import BasicClient, InvalidSignature, templates
from pqparsec.protocol.ids import PROVIDER_UUIDS, ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    CipherAlg,
    CipherMode,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    MacAlg,
    MacKind,
    RawKeyAgreement,
    SignAlg,
    SignKind,
    UsageFlags,
)

Require = Callable[[Opcode], None]


def test_ping(client: BasicClient) -> None:
    assert client.ping() == (1, 0)


def test_list_providers(client: BasicClient) -> None:
    providers = client.list_providers()
    assert [p.id for p in providers] == [1, 0]  # core last
    for p in providers:
        assert p.uuid == PROVIDER_UUIDS[ProviderId(p.id)]
        assert p.description


def test_list_opcodes(client: BasicClient) -> None:
    assert set(client.list_opcodes(0)) == {1, 8, 9, 14, 26}
    software = client.list_opcodes(1)
    for op in (Opcode.PSA_GENERATE_KEY, Opcode.PSA_SIGN_HASH, Opcode.PSA_EXPORT_PUBLIC_KEY):
        assert int(op) in software
    assert set(software) <= set(client.list_opcodes(1, include_extensions=True))
    assert client.supports(Opcode.PSA_GENERATE_KEY)
    assert not client.supports(Opcode.LIST_KEYS)  # a core operation, not the crypto provider's


def test_list_authenticators(client: BasicClient) -> None:
    auths = client.list_authenticators()
    assert [a.id for a in auths] == [1]
    assert (auths[0].version_maj, auths[0].version_min, auths[0].version_rev) == (0, 1, 0)


def test_list_keys(client: BasicClient) -> None:
    assert client.list_keys() == []
    attrs = templates.ecc_signing()
    client.generate_key("a", attrs)
    client.generate_key("b", templates.rsa_encryption(1024))
    keys = {k.name: k for k in client.list_keys()}
    assert set(keys) == {"a", "b"}
    assert keys["a"].attributes == attrs
    assert keys["a"].provider_id == 1
    assert client.key_attributes("b").key_bits == 1024


def test_list_clients_and_delete_client(client: BasicClient, admin: BasicClient) -> None:
    assert client.app_name is not None
    client.generate_key("k", templates.ecc_signing())
    assert client.app_name in admin.list_clients()
    admin.delete_client(client.app_name)
    assert client.list_keys() == []
    assert client.app_name not in admin.list_clients()


def test_generate_export_destroy(client: BasicClient) -> None:
    client.generate_key("e", templates.ecc_signing(exportable=True))
    pub = client.export_public_key("e")
    assert len(pub) == 65 and pub[0] == 4
    scalar = client.export_key("e")
    assert len(scalar) == 32
    local = ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())
    assert local.public_key().public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint) == pub
    client.destroy_key("e")
    assert client.list_keys() == []


def test_import_key_and_verify_a_local_signature(client: BasicClient) -> None:
    local = rsa.generate_private_key(65537, 2048)
    der = local.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.PKCS1)
    attrs = templates.public_counterpart(templates.rsa_signing())
    client.import_key("pub", attrs, der)
    assert client.export_public_key("pub") == der
    digest = hashlib.sha256(b"imported").digest()
    sig = local.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    client.verify_hash("pub", SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256), digest, sig)


def test_generate_random(client: BasicClient) -> None:
    a, b = client.generate_random(32), client.generate_random(32)
    assert len(a) == len(b) == 32 and a != b
    assert client.generate_random(0) == b""


def test_sign_hash_and_verify_hash_rsa_pss(client: BasicClient) -> None:
    client.generate_key("pss", templates.rsa_signing(pss=True))
    alg = SignAlg(SignKind.RSA_PSS, Hash.SHA_256)
    digest = hashlib.sha256(b"pss message").digest()
    sig = client.sign_hash("pss", alg, digest)
    pub = client.public_key("pss")
    assert isinstance(pub, rsa.RSAPublicKey)
    pub.verify(sig, b"pss message", padding.PSS(padding.MGF1(hashes.SHA256()),
                                                padding.PSS.DIGEST_LENGTH), hashes.SHA256())
    client.verify_hash("pss", alg, digest, sig)


def test_sign_message_and_verify_message(client: BasicClient) -> None:
    client.generate_key("m", templates.ecc_signing())
    alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    sig = client.sign_message("m", alg, b"whole message")
    assert len(sig) == 64
    pub = client.public_key("m")
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    pub.verify(der, b"whole message", ec.ECDSA(hashes.SHA256()))
    client.verify_message("m", alg, b"whole message", sig)
    with pytest.raises(InvalidSignature):
        client.verify_message("m", alg, b"other message", sig)


@pytest.mark.parametrize("oaep", [False, True])
def test_asymmetric_encrypt_decrypt(client: BasicClient, require_opcode: Require,
                                    oaep: bool) -> None:
    require_opcode(Opcode.PSA_ASYMMETRIC_ENCRYPT)
    require_opcode(Opcode.PSA_ASYMMETRIC_DECRYPT)
    client.generate_key("enc", templates.rsa_encryption(2048, oaep=oaep))
    alg = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256) if oaep else \
        EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT)
    pad = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None) if oaep else \
        padding.PKCS1v15()
    pub = client.public_key("enc")
    assert isinstance(pub, rsa.RSAPublicKey)
    assert client.asymmetric_decrypt("enc", alg, pub.encrypt(b"from outside", pad)) == \
        b"from outside"
    ct = client.asymmetric_encrypt("enc", alg, b"inside")
    assert len(ct) == 256
    assert client.asymmetric_decrypt("enc", alg, ct) == b"inside"


def test_aead_encrypt_decrypt(client: BasicClient, require_opcode: Require) -> None:
    require_opcode(Opcode.PSA_AEAD_ENCRYPT)
    require_opcode(Opcode.PSA_AEAD_DECRYPT)
    client.generate_key("gcm", templates.aead(AeadKind.GCM, 256, exportable=True))
    key = client.export_key("gcm")
    alg = AeadAlg(AeadKind.GCM)
    nonce = os.urandom(12)
    ct = client.aead_encrypt("gcm", alg, nonce, b"ad", b"plain")
    assert AESGCM(key).decrypt(nonce, ct, b"ad") == b"plain"
    ct2 = AESGCM(key).encrypt(nonce, b"local", b"hdr")
    assert client.aead_decrypt("gcm", alg, nonce, b"hdr", ct2) == b"local"
    with pytest.raises(InvalidSignature):
        client.aead_decrypt("gcm", alg, nonce, b"other", ct2)


def test_cipher_encrypt_decrypt(client: BasicClient, require_opcode: Require) -> None:
    require_opcode(Opcode.PSA_CIPHER_ENCRYPT)
    require_opcode(Opcode.PSA_CIPHER_DECRYPT)
    attrs = KeyAttributes(KeyType.simple(KeyKind.AES), 128,
                          KeyPolicy(UsageFlags(encrypt=True, decrypt=True, export=True),
                                    CipherAlg(CipherMode.CBC_PKCS7)))
    client.generate_key("cbc", attrs)
    key = client.export_key("cbc")
    ct = client.cipher_encrypt("cbc", CipherMode.CBC_PKCS7, b"sixteen byte msg+")
    iv, body = ct[:16], ct[16:]
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = dec.update(body) + dec.finalize()
    assert padded[:17] == b"sixteen byte msg+" and len(padded) == 32
    assert client.cipher_decrypt("cbc", CipherMode.CBC_PKCS7, ct) == b"sixteen byte msg+"


def test_hash_compute_and_compare(client: BasicClient) -> None:
    assert client.hash_compute(Hash.SHA_256, b"abc") == hashlib.sha256(b"abc").digest()
    assert client.hash_compute(Hash.SHA3_512, b"abc") == hashlib.sha3_512(b"abc").digest()
    client.hash_compare(Hash.SHA_256, b"abc", hashlib.sha256(b"abc").digest())
    with pytest.raises(InvalidSignature):
        client.hash_compare(Hash.SHA_256, b"abd", hashlib.sha256(b"abc").digest())


def test_mac_compute_and_verify(client: BasicClient, require_opcode: Require) -> None:
    require_opcode(Opcode.PSA_MAC_COMPUTE)
    require_opcode(Opcode.PSA_MAC_VERIFY)
    client.generate_key("hmac", templates.hmac(Hash.SHA_256, exportable=True))
    key = client.export_key("hmac")
    alg = MacAlg(MacKind.HMAC, Hash.SHA_256)
    tag = client.mac_compute("hmac", alg, b"data")
    assert tag == hmac.new(key, b"data", "sha256").digest()
    client.mac_verify("hmac", alg, b"data", tag)
    with pytest.raises(InvalidSignature):
        client.mac_verify("hmac", alg, b"datA", tag)


def test_raw_key_agreement(client: BasicClient, require_opcode: Require) -> None:
    require_opcode(Opcode.PSA_RAW_KEY_AGREEMENT)
    client.generate_key("dh", templates.ecdh())
    peer = ec.generate_private_key(ec.SECP256R1())
    peer_point = peer.public_key().public_bytes(serialization.Encoding.X962,
                                                serialization.PublicFormat.UncompressedPoint)
    secret = client.raw_key_agreement(RawKeyAgreement.ECDH, "dh", peer_point)
    ours = client.public_key("dh")
    assert isinstance(ours, ec.EllipticCurvePublicKey)
    assert secret == peer.exchange(ec.ECDH(), ours)


def test_can_do_crypto(client: BasicClient, require_opcode: Require) -> None:
    require_opcode(Opcode.CAN_DO_CRYPTO)
    assert client.can_do_crypto(CheckType.GENERATE, templates.ecc_signing()) is True
    assert client.can_do_crypto(CheckType.GENERATE, templates.rsa_signing(2048)) is True
    assert client.can_do_crypto(CheckType.GENERATE, templates.ecc_signing(bits=200)) is False
