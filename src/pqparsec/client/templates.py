"""Key attribute recipes for the common kinds of keys (the ones parsec-tool creates, and more).

Each returns `KeyAttributes` ready for `BasicClient.generate_key` / `import_key`. Usage flags
follow parsec-tool: signing keys may sign and verify both hashes and messages; encryption keys
may encrypt and decrypt. `exportable=True` adds the export flag (needed by PsaExportKey).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from pqparsec.client.keys import CURVE_HASH
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    Algorithm,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KemAlg,
    KemKind,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    MacAlg,
    MacKind,
    PcrBinding,
    RawKeyAgreement,
    SignAlg,
    SignKind,
    UsageFlags,
)

SIGNING = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True)
VERIFYING = UsageFlags(verify_hash=True, verify_message=True)
ENCRYPTING = UsageFlags(encrypt=True, decrypt=True)
ENCRYPT_ONLY = UsageFlags(encrypt=True)
DERIVING = UsageFlags(derive=True)
MAC = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True)


def _attrs(kt: KeyType, bits: int, usage: UsageFlags, alg: Algorithm,
           exportable: bool) -> KeyAttributes:
    if exportable:
        usage = dataclasses.replace(usage, export=True)
    return KeyAttributes(kt, bits, KeyPolicy(usage, alg))


def rsa_signing(bits: int = 2048, pss: bool = False, hash: Hash = Hash.SHA_256,
                exportable: bool = False) -> KeyAttributes:
    kind = SignKind.RSA_PSS if pss else SignKind.RSA_PKCS1V15_SIGN
    return _attrs(KeyType.rsa_key_pair(), bits, SIGNING, SignAlg(kind, hash), exportable)


def rsa_encryption(bits: int = 2048, oaep: bool = False, hash: Hash = Hash.SHA_256,
                   exportable: bool = False) -> KeyAttributes:
    alg = EncryptAlg(EncryptKind.RSA_OAEP, hash) if oaep else \
        EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT)
    return _attrs(KeyType.rsa_key_pair(), bits, ENCRYPTING, alg, exportable)


def ecc_signing(bits: int = 256, family: EccFamily = EccFamily.SECP_R1, hash: Hash | None = None,
                deterministic: bool = False, exportable: bool = False) -> KeyAttributes:
    """ECDSA; the hash defaults to the one matching the curve (SHA-256 for P-256...)."""
    kind = SignKind.DETERMINISTIC_ECDSA if deterministic else SignKind.ECDSA
    alg = SignAlg(kind, hash or CURVE_HASH.get(bits, Hash.SHA_256))
    return _attrs(KeyType.ecc_key_pair(family), bits, SIGNING, alg, exportable)


def eddsa(bits: int = 255, exportable: bool = False) -> KeyAttributes:
    """Ed25519 (255 bits) or Ed448 (448) for PureEdDSA: a protocol extension of pqparsec."""
    return _attrs(KeyType.ecc_key_pair(EccFamily.TWISTED_EDWARDS), bits, SIGNING,
                  SignAlg(SignKind.PURE_EDDSA), exportable)


def ml_dsa(bits: int = 192, deterministic: bool = False,
           exportable: bool = False) -> KeyAttributes:
    """Pure ML-DSA (key_bits 128 / 192 / 256 = ML-DSA-44 / 65 / 87), hedged unless
    `deterministic`: a protocol extension of pqparsec."""
    kind = SignKind.DETERMINISTIC_ML_DSA if deterministic else SignKind.ML_DSA
    return _attrs(KeyType(KeyKind.ML_DSA_KEY_PAIR), bits, SIGNING, SignAlg(kind), exportable)


def ml_kem(bits: int = 768, exportable: bool = False) -> KeyAttributes:
    """ML-KEM-512 / 768 / 1024 for PsaEncapsulate / PsaDecapsulate (a protocol extension)."""
    return _attrs(KeyType(KeyKind.ML_KEM_KEY_PAIR), bits, ENCRYPTING, KemAlg(KemKind.ML_KEM),
                  exportable)


def ecdh(bits: int = 256, family: EccFamily = EccFamily.SECP_R1,
         exportable: bool = False) -> KeyAttributes:
    """A key pair for raw ECDH (PsaRawKeyAgreement); X25519 is family MONTGOMERY, 255 bits."""
    return _attrs(KeyType.ecc_key_pair(family), bits, DERIVING,
                  KeyAgreementAlg(RawKeyAgreement.ECDH), exportable)


def aead(kind: AeadKind = AeadKind.GCM, bits: int | None = None, tag_length: int | None = None,
         exportable: bool = False) -> KeyAttributes:
    """An AES key for GCM/CCM (default 256 bits) or a ChaCha20 key for ChaCha20-Poly1305."""
    key_kind = KeyKind.CHACHA20 if kind == AeadKind.CHACHA20_POLY1305 else KeyKind.AES
    return _attrs(KeyType.simple(key_kind), bits or 256, ENCRYPTING, AeadAlg(kind, tag_length),
                  exportable)


def hmac(hash: Hash = Hash.SHA_256, bits: int = 256, exportable: bool = False) -> KeyAttributes:
    return _attrs(KeyType.simple(KeyKind.HMAC), bits, MAC, MacAlg(MacKind.HMAC, hash), exportable)


def public_counterpart(attrs: KeyAttributes) -> KeyAttributes:
    """The attributes for importing the public half of a key pair made with `attrs`."""
    u = attrs.usage
    usage = UsageFlags(export=u.export, encrypt=u.encrypt, verify_hash=u.verify_hash,
                       verify_message=u.verify_message, derive=u.derive)
    return KeyAttributes(attrs.key_type.public_type(), attrs.key_bits,
                         KeyPolicy(usage, attrs.algorithm))


def bound_to_pcrs(attrs: KeyAttributes, pcrs: Iterable[int], digest: bytes = b"",
                  bank: Hash = Hash.SHA_256) -> KeyAttributes:
    """`attrs` for a key usable only while PCRs `pcrs` hold given values (a pqparsec protocol
    extension, served by the TPM provider): `digest` is the `bank` hash of those values
    concatenated in ascending PCR order; empty binds the key to the values they hold when it
    is created. Once they change, signing and decryption answer `NotPermitted`."""
    binding = PcrBinding(tuple(pcrs), bank, bytes(digest))
    return dataclasses.replace(attrs, policy=dataclasses.replace(attrs.policy,
                                                                 pcr_binding=binding))
