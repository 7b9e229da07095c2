"""The seed corpus: the parsec-mock vectors' requests, and requests the client library builds for
every opcode (recorded while the client talks to an in-process service, so that they are the
bytes a real client sends, and the keys they name exist for the fuzzing application)."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pqptest.service import load_mock_vectors

from fuzz.harness import ADMIN, InProcessService
from pqparsec.client import templates
from pqparsec.client.admin import adopt_key
from pqparsec.client.attestation import certify_key
from pqparsec.client.errors import ServiceError
from pqparsec.protocol import operations as ops
from pqparsec.protocol.header import HEADER_LEN, unpack_response
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    CipherAlg,
    CipherMode,
    EncryptAlg,
    EncryptKind,
    Hash,
    KemKind,
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

FUZZ_APP = "fuzzer"
# The fuzzing application's keys (the seeds use them; the fuzzer may destroy them).
FUZZ_KEYS = ("fz-ecc", "fz-rsa", "fz-aes", "fz-cbc", "fz-hmac", "fz-ecdh", "fz-mlkem", "fz-mldsa",
             "fz-ed", "fz-imp", "fz-tmp")
ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
CBC_KEY = KeyAttributes(KeyType.simple(KeyKind.AES), 128,
                        KeyPolicy(templates.ENCRYPTING, CipherAlg(CipherMode.CBC_PKCS7)))
RAW_AES = KeyAttributes(KeyType.simple(KeyKind.AES), 128,
                        KeyPolicy(UsageFlags(encrypt=True, decrypt=True, export=True),
                                  AeadAlg(AeadKind.CCM)))


def mock_vector_requests() -> list[bytes]:
    return [request for request, _ in load_mock_vectors().values()]


def client_requests(service: InProcessService) -> list[bytes]:
    """Every opcode, as the client library sends it (several for some), in an order that
    creates the keys the later ones use."""
    record: list[bytes] = []
    c = service.client(FUZZ_APP, record)
    admin = service.client(ADMIN, record)
    c.ping()
    c.list_providers()
    c.list_opcodes(1, include_extensions=True)
    c.list_authenticators()
    c.generate_key("fz-ecc", templates.ecc_signing())
    c.generate_key("fz-rsa", templates.rsa_encryption(1024, oaep=True))
    c.generate_key("fz-aes", templates.aead(bits=128, exportable=True))
    c.generate_key("fz-cbc", CBC_KEY)
    c.generate_key("fz-hmac", templates.hmac())
    c.generate_key("fz-ecdh", templates.ecdh())
    c.generate_key("fz-mlkem", templates.ml_kem())
    c.generate_key("fz-mldsa", templates.ml_dsa(128))
    c.generate_key("fz-ed", templates.eddsa())
    c.import_key("fz-imp", RAW_AES, bytes(range(16)))

    digest = hashlib.sha256(b"fuzz").digest()
    c.verify_hash("fz-ecc", ECDSA, digest, c.sign_hash("fz-ecc", ECDSA, digest))
    c.verify_message("fz-ecc", ECDSA, b"message", c.sign_message("fz-ecc", ECDSA, b"message"))
    ml_dsa = SignAlg(SignKind.ML_DSA)
    c.verify_message_with_context("fz-mldsa", ml_dsa, b"m", c.sign_message_with_context(
        "fz-mldsa", ml_dsa, b"m", b"ctx"), b"ctx")
    c.verify_message("fz-ed", SignAlg(SignKind.PURE_EDDSA), b"m",
                     c.sign_message("fz-ed", SignAlg(SignKind.PURE_EDDSA), b"m"))
    c.export_public_key("fz-ecc")
    c.export_key("fz-aes")
    oaep = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256)
    c.asymmetric_decrypt("fz-rsa", oaep, c.asymmetric_encrypt("fz-rsa", oaep, b"plaintext"))
    gcm = AeadAlg(AeadKind.GCM)
    nonce = bytes(12)
    c.aead_decrypt("fz-aes", gcm, nonce, b"ad", c.aead_encrypt("fz-aes", gcm, nonce, b"ad", b"pt"))
    cbc = CipherMode.CBC_PKCS7
    c.cipher_decrypt("fz-cbc", cbc, c.cipher_encrypt("fz-cbc", cbc, b"x" * 20))
    c.hash_compare(Hash.SHA_256, b"data", c.hash_compute(Hash.SHA_256, b"data"))
    hmac = MacAlg(MacKind.HMAC, Hash.SHA_256)
    c.mac_verify("fz-hmac", hmac, b"data", c.mac_compute("fz-hmac", hmac, b"data"))
    peer = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        Encoding.X962, PublicFormat.UncompressedPoint)
    c.raw_key_agreement(RawKeyAgreement.ECDH, "fz-ecdh", peer)
    c.generate_random(32)
    c.can_do_crypto(ops.CheckType.GENERATE, templates.ecc_signing())
    ciphertext, _ = c.encapsulate("fz-mlkem", KemKind.ML_KEM)
    c.decapsulate("fz-mlkem", KemKind.ML_KEM, ciphertext)
    c.generate_key("fz-tmp", templates.hmac())
    c.destroy_key("fz-tmp")
    c.list_keys(include_extensions=True)
    admin.list_clients()
    service.client("fz-victim", record).generate_key("v", templates.hmac())
    admin.delete_client("fz-victim")
    # Operations the software provider does not serve: sent all the same (they get refused).
    for call in (
            lambda: certify_key(c, "fz-ecc", b"n" * 32),
            lambda: c.call(Opcode.PREPARE_KEY_ATTESTATION, ops.PrepareKeyAttestationRequest(
                ops.PrepareKeyAttestationParams(ops.ActivateCredentialPrepare("fz-ecc")))),
            lambda: adopt_key(admin, FUZZ_APP, "fz-adopted", templates.ecc_signing(),
                              label="token key", provider=1)):
        try:
            call()
        except ServiceError:
            pass
    return record


def opcodes_of(requests: list[bytes]) -> set[int]:
    return {unpack_response(r[:HEADER_LEN]).opcode for r in requests}
