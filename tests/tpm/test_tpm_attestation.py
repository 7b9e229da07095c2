"""Key attestation with TPM2_ActivateCredential: the test plays the third party, making the
credential in software (tpm2-pytss's MakeCredential) from what PrepareKeyAttestation returns."""

from __future__ import annotations

import hashlib
import os

from cryptography.hazmat.primitives import serialization
from pqptest.status import expect_status

from pqparsec.client import BasicClient
from pqparsec.protocol import operations as ops
from pqparsec.protocol.opcodes import Opcode
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

ECC = KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
                    KeyPolicy(UsageFlags(sign_hash=True), SignAlg(SignKind.ECDSA, ANY_HASH)))


def prepare(client: BasicClient, key: str, attesting: str = "") -> ops.ActivateCredentialPrepared:
    res = client.call(Opcode.PREPARE_KEY_ATTESTATION, ops.PrepareKeyAttestationRequest(
        ops.PrepareKeyAttestationParams(ops.ActivateCredentialPrepare(key, attesting))))
    out = res.output.activate_credential
    assert out is not None
    return out


def attest(client: BasicClient, key: str, blob: bytes, secret: bytes) -> bytes:
    res = client.call(Opcode.ATTEST_KEY, ops.AttestKeyRequest(
        key, ops.AttestationMechanismParams(ops.ActivateCredentialParams(blob, secret))))
    assert res.output.activate_credential is not None
    return bytes(res.output.activate_credential.credential)


def make_credential(prepared: ops.ActivateCredentialPrepared, credential: bytes,
                    name: bytes | None = None) -> tuple[bytes, bytes]:
    """The third party's side: check the name against the public area, encrypt to the EK."""
    from tpm2_pytss.types import TPM2B_NAME, TPM2B_PUBLIC, TPMT_PUBLIC
    from tpm2_pytss.utils import make_credential as tss_make_credential
    _, used = TPMT_PUBLIC.unmarshal(prepared.public)  # a whole TPMT_PUBLIC, nothing else
    assert used == len(prepared.public)
    assert prepared.name == b"\x00\x0b" + hashlib.sha256(prepared.public).digest()
    ek = serialization.load_der_public_key(_spki(prepared.attesting_key_pub))
    ek_area = TPM2B_PUBLIC.from_pem(ek.public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo),
                                    symmetric="aes128cfb")
    blob, secret = tss_make_credential(ek_area, credential, TPM2B_NAME(name or prepared.name))
    return bytes(blob), bytes(secret)


def _spki(pkcs1: bytes) -> bytes:
    def der_len(n: int) -> bytes:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return bytes([n]) if n < 0x80 else bytes([0x80 | len(raw)]) + raw
    bitstring = b"\x03" + der_len(len(pkcs1) + 1) + b"\x00" + pkcs1
    body = bytes.fromhex("300d06092a864886f70d0101010500") + bitstring
    return b"\x30" + der_len(len(body)) + body


def test_activate_credential(client: BasicClient) -> None:
    client.generate_key("k", ECC)
    prepared = prepare(client, "k")
    assert len(prepared.attesting_key_pub) > 256  # DER RSAPublicKey of the RSA-2048 EK
    assert prepare(client, "k").attesting_key_pub == prepared.attesting_key_pub  # same EK
    credential = os.urandom(32)
    blob, secret = make_credential(prepared, credential)
    assert attest(client, "k", blob, secret) == credential


def test_credential_for_another_key_is_refused(client: BasicClient) -> None:
    client.generate_key("k", ECC)
    client.generate_key("other", KeyAttributes(
        KeyType.rsa_key_pair(), 2048,
        KeyPolicy(UsageFlags(decrypt=True), EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256))))
    blob, secret = make_credential(prepare(client, "k"), b"secret credential",
                                   name=prepare(client, "other").name)
    with expect_status(ResponseStatus.PSA_ERROR_INVALID_ARGUMENT):
        attest(client, "k", blob, secret)
    blob, secret = make_credential(prepare(client, "other"), b"secret credential")
    assert attest(client, "other", blob, secret) == b"secret credential"  # the TPM still works


def test_attestation_errors(client: BasicClient) -> None:
    client.generate_key("k", ECC)
    with expect_status(ResponseStatus.PSA_ERROR_NOT_SUPPORTED):
        prepare(client, "k", attesting="my-own-ak")
    with expect_status(ResponseStatus.PSA_ERROR_DOES_NOT_EXIST):
        prepare(client, "missing")
    with expect_status(ResponseStatus.PSA_ERROR_INVALID_ARGUMENT):
        attest(client, "k", b"\x00" * 500, b"\x00" * 256)
    with expect_status(ResponseStatus.PSA_ERROR_INVALID_ARGUMENT):
        attest(client, "k", b"\x00\x20" + b"\x01" * 50, b"\x01" * 256)
