"""The Rust Debug strings parsec-tool prints for key types and algorithms (unit tests)."""

from __future__ import annotations

import pytest

from pqparsec.cli import format as fmt
from pqparsec.protocol.psa import (
    ANY_HASH,
    AeadAlg,
    AeadKind,
    Algorithm,
    CipherAlg,
    CipherMode,
    DhFamily,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    HashAlg,
    KdfAlg,
    KdfKind,
    KemAlg,
    KemKind,
    KeyAgreementAlg,
    KeyKind,
    KeyType,
    MacAlg,
    MacKind,
    NoAlgorithm,
    RawKeyAgreement,
    SignAlg,
    SignKind,
)


@pytest.mark.parametrize(("alg", "text"), [
    (NoAlgorithm(), "None"),
    (HashAlg(Hash.SHA3_256), "Hash(Sha3_256)"),
    (MacAlg(MacKind.HMAC, Hash.SHA_256), "Mac(FullLength(Hmac { hash_alg: Sha256 }))"),
    (MacAlg(MacKind.CMAC, None, 8), "Mac(Truncated { mac_alg: Cmac, mac_length: 8 })"),
    (CipherAlg(CipherMode.CBC_PKCS7), "Cipher(CbcPkcs7)"),
    (AeadAlg(AeadKind.GCM), "Aead(AeadWithDefaultLengthTag(Gcm))"),
    (AeadAlg(AeadKind.CCM, 8), "Aead(AeadWithShortenedTag { aead_alg: Ccm, tag_length: 8 })"),
    (SignAlg(SignKind.RSA_PKCS1V15_SIGN, ANY_HASH),
     "AsymmetricSignature(RsaPkcs1v15Sign { hash_alg: Any })"),
    (SignAlg(SignKind.RSA_PSS, Hash.SHA_384),
     "AsymmetricSignature(RsaPss { hash_alg: Specific(Sha384) })"),
    (SignAlg(SignKind.RSA_PKCS1V15_SIGN_RAW), "AsymmetricSignature(RsaPkcs1v15SignRaw)"),
    (SignAlg(SignKind.DETERMINISTIC_ECDSA, Hash.SHA_256),
     "AsymmetricSignature(DeterministicEcdsa { hash_alg: Specific(Sha256) })"),
    (SignAlg(SignKind.ECDSA_ANY), "AsymmetricSignature(EcdsaAny)"),
    (EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256),
     "AsymmetricEncryption(RsaOaep { hash_alg: Sha256 })"),
    (KeyAgreementAlg(RawKeyAgreement.ECDH), "KeyAgreement(Raw(Ecdh))"),
    (KeyAgreementAlg(RawKeyAgreement.FFDH, KdfAlg(KdfKind.HKDF, Hash.SHA_256)),
     "KeyAgreement(WithKeyDerivation { ka_alg: Ffdh, kdf_alg: Hkdf { hash_alg: Sha256 } })"),
    (KdfAlg(KdfKind.TLS12_PRF, Hash.SHA_384), "KeyDerivation(Tls12Prf { hash_alg: Sha384 })"),
    (SignAlg(SignKind.ML_DSA), "AsymmetricSignature(MlDsa)"),
    (KemAlg(KemKind.ML_KEM), "KeyEncapsulation(MlKem)"),
])
def test_algorithm(alg: Algorithm, text: str) -> None:
    assert fmt.algorithm(alg) == text


@pytest.mark.parametrize(("kt", "text"), [
    (KeyType.rsa_key_pair(), "RsaKeyPair"),
    (KeyType.rsa_public_key(), "RsaPublicKey"),
    (KeyType.ecc_key_pair(EccFamily.SECP_R1), "EccKeyPair { curve_family: SecpR1 }"),
    (KeyType.ecc_public_key(EccFamily.BRAINPOOL_P_R1),
     "EccPublicKey { curve_family: BrainpoolPR1 }"),
    (KeyType(KeyKind.DH_KEY_PAIR, dh_family=DhFamily.RFC7919),
     "DhKeyPair { group_family: Rfc7919 }"),
    (KeyType.simple(KeyKind.AES), "Aes"),
    (KeyType.simple(KeyKind.CHACHA20), "Chacha20"),
    (KeyType(KeyKind.ML_KEM_KEY_PAIR), "MlKemKeyPair"),
])
def test_key_type(kt: KeyType, text: str) -> None:
    assert fmt.key_type(kt) == text


def test_names() -> None:
    assert fmt.provider_name(1) == "Mbed Crypto provider"
    assert fmt.provider_name(2) == "PKCS #11 provider"
    assert fmt.provider_name(3) == "TPM provider"
    assert fmt.provider_name(99) == "Unknown provider 99"
    assert fmt.auth_name(3) == "Unix Peer Credentials authentication"
    assert fmt.opcode_name(0x0D) == "PsaGenerateRandom"
    assert fmt.opcode_name(0x20) == "CanDoCrypto"
    assert fmt.opcode_name(0x7777) == "Opcode(0x7777)"
