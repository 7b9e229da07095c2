"""Which error wins when a request breaks more than one rule (issue 12), on every provider.

Parsec's order (parsec-interface's `validate`, which the software provider follows and which is
the reference here): the usage flag (PsaErrorNotPermitted), then the key's permitted algorithm
(PsaErrorNotPermitted), then whether the key type can do the algorithm at all
(PsaErrorInvalidArgument). So a request naming an algorithm that the policy does not permit is
NotPermitted even when that algorithm could never work with the key (RSA PKCS#1 v1.5 on an ECDSA
key), and InvalidArgument only comes out for a key whose policy itself names an algorithm its
type cannot do. Each family of operations is checked where the provider serves it."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

from capabilities import Pinned
from capabilities.needs import Need, Needs, assert_refused, generates
from pqptest.status import raised_status as status

from pqparsec.client import BasicClient
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    Algorithm,
    CipherAlg,
    CipherMode,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAgreementAlg,
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
from pqparsec.protocol.status import ResponseStatus

NOT_PERMITTED = ResponseStatus.PSA_ERROR_NOT_PERMITTED
INVALID_ARGUMENT = ResponseStatus.PSA_ERROR_INVALID_ARGUMENT

P256 = KeyType.ecc_key_pair(EccFamily.SECP_R1)
RSA = KeyType.rsa_key_pair()
AES = KeyType.simple(KeyKind.AES)
HMAC = KeyType.simple(KeyKind.HMAC)

ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
ECDSA_384 = SignAlg(SignKind.ECDSA, Hash.SHA_384)
RSA_PKCS1_SIGN = SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256)
PKCS1 = EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT)
OAEP = EncryptAlg(EncryptKind.RSA_OAEP, Hash.SHA_256)
GCM = AeadAlg(AeadKind.GCM)
CCM = AeadAlg(AeadKind.CCM)
CHACHA_POLY = AeadAlg(AeadKind.CHACHA20_POLY1305)
HMAC_256 = MacAlg(MacKind.HMAC, Hash.SHA_256)
HMAC_384 = MacAlg(MacKind.HMAC, Hash.SHA_384)
CMAC = MacAlg(MacKind.CMAC)

DIGEST = hashlib.sha256(b"precedence").digest()
MESSAGE = b"precedence"
SIG64 = bytes(64)
NONCE = bytes(12)

SIGN_FLAGS = ("sign_hash", "verify_hash", "sign_message", "verify_message")
_names = itertools.count()

# What the tests need of a provider (capabilities/needs.py): a family is checked where the pinned
# table has its opcodes and its usual key, and test_unsupported_needs_are_refused checks the
# refusals everywhere else.
NEEDS = Needs()


def key(client: BasicClient, kt: KeyType, bits: int, alg: Algorithm, *flags: str) -> str:
    """A generated key with this policy. Every provider must accept it: the software provider
    does, including policies naming an algorithm the key type cannot do."""
    name = f"prec-{next(_names)}"
    client.generate_key(name, KeyAttributes(kt, bits, KeyPolicy(
        UsageFlags(**dict.fromkeys(flags, True)), alg)))
    return name


def sign_ops(client: BasicClient) -> dict[str, Callable[[str, SignAlg], object]]:
    """The four signature operations, by the usage flag each needs."""
    return {
        "sign_hash": lambda k, a: client.sign_hash(k, a, DIGEST),
        "verify_hash": lambda k, a: client.verify_hash(k, a, DIGEST, SIG64),
        "sign_message": lambda k, a: client.sign_message(k, a, MESSAGE),
        "verify_message": lambda k, a: client.verify_message(k, a, MESSAGE, SIG64),
    }


@NEEDS.cases("flag", SIGN_FLAGS, lambda flag: [generates(P256, 256, ECDSA, Opcode[f"PSA_{flag.upper()}"]),
                                                generates(RSA, 1024, RSA_PKCS1_SIGN)])
def test_signatures(client: BasicClient, flag: str) -> None:
    op = sign_ops(client)[flag]
    # (a) The usage flag first: whatever the algorithm. (sign_hash grants sign_message and
    # verify_hash verify_message, so the key has only the flags of the other direction.)
    other = ("verify_hash", "verify_message") if flag.startswith("sign") else \
        ("sign_hash", "sign_message")
    no_usage = key(client, P256, 256, ECDSA, *other)
    assert status(op, no_usage, ECDSA) == NOT_PERMITTED
    assert status(op, no_usage, RSA_PKCS1_SIGN) == NOT_PERMITTED
    # (b) The permitted algorithm next: RSA PKCS#1 v1.5 on an ECDSA key is not the policy's
    # algorithm, before it is one the key type cannot do.
    k = key(client, P256, 256, ECDSA, *SIGN_FLAGS)
    assert status(op, k, RSA_PKCS1_SIGN) == NOT_PERMITTED
    assert status(op, k, SignAlg(SignKind.RSA_PSS, Hash.SHA_256)) == NOT_PERMITTED
    assert status(op, k, ECDSA_384) == NOT_PERMITTED
    # (c) Permitted by the policy, but not for this key type.
    odd = key(client, P256, 256, RSA_PKCS1_SIGN, *SIGN_FLAGS)
    assert status(op, odd, RSA_PKCS1_SIGN) == INVALID_ARGUMENT
    rsa_odd = key(client, RSA, 1024, ECDSA, *SIGN_FLAGS)
    assert status(op, rsa_odd, ECDSA) == INVALID_ARGUMENT
    assert status(op, rsa_odd, RSA_PKCS1_SIGN) == NOT_PERMITTED


@NEEDS.test(generates(RSA, 1024, PKCS1, Opcode.PSA_ASYMMETRIC_ENCRYPT, Opcode.PSA_ASYMMETRIC_DECRYPT))
def test_asymmetric_encryption(client: BasicClient) -> None:
    ct = bytes(128)
    enc_only = key(client, RSA, 1024, PKCS1, "encrypt")
    dec_only = key(client, RSA, 1024, PKCS1, "decrypt")
    # (a)
    assert status(client.asymmetric_decrypt, enc_only, PKCS1, ct) == NOT_PERMITTED
    assert status(client.asymmetric_encrypt, dec_only, PKCS1, b"x") == NOT_PERMITTED
    ecc_no_usage = key(client, P256, 256, ECDSA, "sign_hash")
    assert status(client.asymmetric_encrypt, ecc_no_usage, PKCS1, b"x") == NOT_PERMITTED
    # (b) OAEP on a PKCS#1 v1.5 key; RSA encryption on an ECDSA key.
    both = key(client, RSA, 1024, PKCS1, "encrypt", "decrypt")
    assert status(client.asymmetric_encrypt, both, OAEP, b"x") == NOT_PERMITTED
    assert status(client.asymmetric_decrypt, both, OAEP, ct) == NOT_PERMITTED
    ecc = key(client, P256, 256, ECDSA, "encrypt", "decrypt")
    assert status(client.asymmetric_encrypt, ecc, PKCS1, b"x") == NOT_PERMITTED
    assert status(client.asymmetric_decrypt, ecc, PKCS1, ct) == NOT_PERMITTED
    # (c)
    odd = key(client, P256, 256, PKCS1, "encrypt", "decrypt")
    assert status(client.asymmetric_encrypt, odd, PKCS1, b"x") == INVALID_ARGUMENT
    assert status(client.asymmetric_decrypt, odd, PKCS1, ct) == INVALID_ARGUMENT


@NEEDS.test(generates(AES, 128, GCM, Opcode.PSA_AEAD_ENCRYPT, Opcode.PSA_AEAD_DECRYPT))
def test_aead(client: BasicClient) -> None:
    ct = bytes(32)
    # (a)
    enc_only = key(client, AES, 128, GCM, "encrypt")
    dec_only = key(client, AES, 128, GCM, "decrypt")
    assert status(client.aead_decrypt, enc_only, GCM, NONCE, b"", ct) == NOT_PERMITTED
    assert status(client.aead_encrypt, dec_only, GCM, NONCE, b"", b"x") == NOT_PERMITTED
    assert status(client.aead_encrypt, dec_only, CHACHA_POLY, NONCE, b"", b"x") == NOT_PERMITTED
    # (b) CCM on a GCM key; ChaCha20-Poly1305 (which needs a ChaCha20 key) on an AES key.
    k = key(client, AES, 128, GCM, "encrypt", "decrypt")
    for alg in (CCM, CHACHA_POLY, AeadAlg(AeadKind.GCM, 8)):
        assert status(client.aead_encrypt, k, alg, NONCE, b"", b"x") == NOT_PERMITTED
        assert status(client.aead_decrypt, k, alg, NONCE, b"", ct) == NOT_PERMITTED
    # (c)
    odd = key(client, AES, 128, CHACHA_POLY, "encrypt", "decrypt")
    assert status(client.aead_encrypt, odd, CHACHA_POLY, NONCE, b"", b"x") == INVALID_ARGUMENT
    assert status(client.aead_decrypt, odd, CHACHA_POLY, NONCE, b"", ct) == INVALID_ARGUMENT


@NEEDS.test(generates(HMAC, 256, HMAC_256, Opcode.PSA_MAC_COMPUTE, Opcode.PSA_MAC_VERIFY))
def test_mac(client: BasicClient) -> None:
    mac = bytes(32)
    # (a) computing needs sign_message, verifying verify_message.
    verify_only = key(client, HMAC, 256, HMAC_256, "verify_message")
    compute_only = key(client, HMAC, 256, HMAC_256, "sign_message")
    assert status(client.mac_compute, verify_only, HMAC_256, MESSAGE) == NOT_PERMITTED
    assert status(client.mac_compute, verify_only, CMAC, MESSAGE) == NOT_PERMITTED
    assert status(client.mac_verify, compute_only, HMAC_256, MESSAGE, mac) == NOT_PERMITTED
    # (b) another hash; CMAC (which needs an AES key) on an HMAC key.
    k = key(client, HMAC, 256, HMAC_256, "sign_message", "verify_message")
    for alg in (HMAC_384, CMAC, MacAlg(MacKind.HMAC, Hash.SHA_256, 16)):
        assert status(client.mac_compute, k, alg, MESSAGE) == NOT_PERMITTED
        assert status(client.mac_verify, k, alg, MESSAGE, mac) == NOT_PERMITTED
    # (c)
    odd = key(client, HMAC, 256, CMAC, "sign_message", "verify_message")
    assert status(client.mac_compute, odd, CMAC, MESSAGE) == INVALID_ARGUMENT
    assert status(client.mac_verify, odd, CMAC, MESSAGE, mac) == INVALID_ARGUMENT


@NEEDS.test(generates(AES, 128, CipherAlg(CipherMode.CBC_PKCS7), Opcode.PSA_CIPHER_ENCRYPT,
                      Opcode.PSA_CIPHER_DECRYPT))
def test_cipher(client: BasicClient) -> None:
    cbc = CipherAlg(CipherMode.CBC_PKCS7)
    ct = bytes(32)
    # (a)
    enc_only = key(client, AES, 128, cbc, "encrypt")
    assert status(client.cipher_decrypt, enc_only, CipherMode.CBC_PKCS7, ct) == NOT_PERMITTED
    assert status(client.cipher_decrypt, enc_only, CipherMode.STREAM_CIPHER, ct) == NOT_PERMITTED
    # (b) CTR on a CBC key; the ChaCha20 stream cipher on an AES key.
    k = key(client, AES, 128, cbc, "encrypt", "decrypt")
    for mode in (CipherMode.CTR, CipherMode.STREAM_CIPHER):
        assert status(client.cipher_encrypt, k, mode, b"x" * 16) == NOT_PERMITTED
        assert status(client.cipher_decrypt, k, mode, ct) == NOT_PERMITTED
    # (c)
    odd = key(client, AES, 128, CipherAlg(CipherMode.STREAM_CIPHER), "encrypt", "decrypt")
    assert status(client.cipher_encrypt, odd, CipherMode.STREAM_CIPHER, b"x") == INVALID_ARGUMENT
    assert status(client.cipher_decrypt, odd, CipherMode.STREAM_CIPHER, ct) == INVALID_ARGUMENT


@NEEDS.test(generates(P256, 256, KeyAgreementAlg(RawKeyAgreement.ECDH), Opcode.PSA_RAW_KEY_AGREEMENT))
def test_key_agreement(client: BasicClient) -> None:
    ecdh, ffdh = RawKeyAgreement.ECDH, RawKeyAgreement.FFDH
    peer = bytes(65)
    # (a)
    no_usage = key(client, P256, 256, KeyAgreementAlg(ecdh), "sign_hash")
    assert status(client.raw_key_agreement, ecdh, no_usage, peer) == NOT_PERMITTED
    assert status(client.raw_key_agreement, ffdh, no_usage, peer) == NOT_PERMITTED
    # (b) FFDH (which needs a DH key) on an ECDH key; ECDH on an ECDSA key.
    k = key(client, P256, 256, KeyAgreementAlg(ecdh), "derive")
    assert status(client.raw_key_agreement, ffdh, k, peer) == NOT_PERMITTED
    signer = key(client, P256, 256, ECDSA, "derive")
    assert status(client.raw_key_agreement, ecdh, signer, peer) == NOT_PERMITTED
    # (c)
    odd = key(client, P256, 256, KeyAgreementAlg(ffdh), "derive")
    assert status(client.raw_key_agreement, ffdh, odd, peer) == INVALID_ARGUMENT


# ------------------------------------------------------------------------------------------------
# What a provider's table lacks is refused


@NEEDS.refusals()
def test_unsupported_needs_are_refused(client: BasicClient, table: Pinned, need: Need) -> None:
    assert_refused(client, table, need)
