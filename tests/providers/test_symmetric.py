"""Symmetric operations end to end over the socket: AEAD, unauthenticated ciphers and MACs.

Results are checked against pycryptodome and the standard library (implementations independent
of the service's OpenSSL path), then the PSA/Parsec failure statuses one by one. Published test
vectors are in test_symmetric_kat.py.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from capabilities import Pinned, only
from capabilities.needs import Need, Needs, assert_refused, imports
from Crypto.Cipher import AES as RefAES
from Crypto.Cipher import ChaCha20 as RefChaCha20
from Crypto.Cipher import ChaCha20_Poly1305 as RefChaChaPoly
from Crypto.Hash import CMAC as RefCMAC
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pqptest.service import ServiceProcess

from pqparsec.client import BasicClient, ServiceError
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    Algorithm,
    CipherAlg,
    CipherMode,
    Hash,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    MacAlg,
    MacKind,
    NoAlgorithm,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

S = ResponseStatus
CRYPT = UsageFlags(encrypt=True, decrypt=True)
MACS = UsageFlags(sign_message=True, verify_message=True)
GCM = AeadAlg(AeadKind.GCM)
CCM = AeadAlg(AeadKind.CCM)
CHACHAPOLY = AeadAlg(AeadKind.CHACHA20_POLY1305)
AD = b"header that is authenticated"
MSG = b"The quick brown fox jumps over the lazy dog"

SYMMETRIC_OPCODES = (Opcode.PSA_AEAD_ENCRYPT, Opcode.PSA_AEAD_DECRYPT, Opcode.PSA_CIPHER_ENCRYPT,
                     Opcode.PSA_CIPHER_DECRYPT, Opcode.PSA_MAC_COMPUTE, Opcode.PSA_MAC_VERIFY)

# What the tests need of a provider (capabilities/needs.py): a test runs where the pinned table
# has all of it, and test_unsupported_needs_are_refused checks the refusals everywhere else. Keys
# are imported: a need is the import of a key of that size whose policy names the algorithm.
NEEDS = Needs()
AEAD_OPS = (Opcode.PSA_AEAD_ENCRYPT, Opcode.PSA_AEAD_DECRYPT, Opcode.PSA_IMPORT_KEY)
CIPHER_OPS = (Opcode.PSA_CIPHER_ENCRYPT, Opcode.PSA_CIPHER_DECRYPT, Opcode.PSA_IMPORT_KEY)
MAC_OPS = (Opcode.PSA_MAC_COMPUTE, Opcode.PSA_MAC_VERIFY, Opcode.PSA_IMPORT_KEY)
AES, CHACHA20, HMAC_KEY = KeyType.simple(KeyKind.AES), KeyType.simple(KeyKind.CHACHA20), \
    KeyType.simple(KeyKind.HMAC)


def aead(alg: AeadAlg, key_bytes: int = 16) -> Need:
    kt = CHACHA20 if alg.kind == AeadKind.CHACHA20_POLY1305 else AES
    return imports(kt, key_bytes * 8, alg, *AEAD_OPS)


def cipher(mode: CipherMode, key_bytes: int = 16) -> Need:
    kt = CHACHA20 if mode == CipherMode.STREAM_CIPHER else AES
    return imports(kt, key_bytes * 8, CipherAlg(mode), *CIPHER_OPS)


def mac(alg: MacAlg, key_bytes: int = 0) -> Need:
    """HMAC keys of any length (0: the key size does not decide), AES keys for CMAC."""
    return imports(HMAC_KEY if alg.kind == MacKind.HMAC else AES, key_bytes * 8, alg, *MAC_OPS)


def attrs(kind: KeyKind, usage: UsageFlags, alg: Algorithm) -> KeyAttributes:
    return KeyAttributes(KeyType.simple(kind), 0, KeyPolicy(usage, alg))


def new_key(client: BasicClient, kind: KeyKind, usage: UsageFlags, alg: Algorithm,
            size: int = 16, name: str = "k") -> bytes:
    data = os.urandom(size)
    client.import_key(name, attrs(kind, usage, alg), data)
    return data


def status_of(call: Callable[..., Any], *args: Any) -> ResponseStatus:
    with pytest.raises(ServiceError) as info:
        call(*args)
    return info.value.status


@only("software")  # only the software provider is required to have them all
def test_software_provider_advertises_symmetric_opcodes(client: BasicClient) -> None:
    ops = set(client.list_opcodes(int(client.provider), include_extensions=True))
    assert {int(op) for op in SYMMETRIC_OPCODES} <= ops
    # PsaMacCompute/Verify are not in Parsec's Rust opcode list: hidden from a plain ListOpcodes.
    plain = set(client.list_opcodes(int(client.provider)))
    assert int(Opcode.PSA_AEAD_ENCRYPT) in plain and int(Opcode.PSA_MAC_COMPUTE) not in plain


# -- AEAD ------------------------------------------------------------------------------------------


def ref_aead_encrypt(kind: AeadKind, key: bytes, nonce: bytes, tag_len: int, plaintext: bytes) -> bytes:
    c: Any
    if kind == AeadKind.CHACHA20_POLY1305:
        c = RefChaChaPoly.new(key=key, nonce=nonce)
    else:
        mode = RefAES.MODE_GCM if kind == AeadKind.GCM else RefAES.MODE_CCM
        c = RefAES.new(key, mode, nonce=nonce, mac_len=tag_len)
    c.update(AD)
    body, tag = c.encrypt_and_digest(plaintext)
    return bytes(body + tag)


AEAD_CASES = (
    # (kind, shortened tag or None, nonce length, key bytes)
    [(AeadKind.GCM, None, n, 16) for n in (1, 7, 8, 12, 16, 128)]
    + [(AeadKind.GCM, t, 12, k) for t in (4, 8, 12, 13, 14, 15, 16) for k in (16, 24, 32)]
    + [(AeadKind.GCM, 4, 1, 32)]
    + [(AeadKind.CCM, None, n, 16) for n in range(7, 14)]
    + [(AeadKind.CCM, t, n, k) for t in (4, 6, 8, 10, 12, 14, 16) for n, k in ((7, 24), (13, 32))]
    + [(AeadKind.CHACHA20_POLY1305, None, 12, 32), (AeadKind.CHACHA20_POLY1305, 16, 12, 32)]
)


@NEEDS.cases("kind, tag, nonce_len, key_len", AEAD_CASES, lambda c: [aead(AeadAlg(c[0], c[1]), c[3])],
             ids=[f"{k.name}-tag{t}-nonce{n}-key{b * 8}" for k, t, n, b in AEAD_CASES])
def test_aead_round_trip(client: BasicClient, kind: AeadKind, tag: int | None,
                         nonce_len: int, key_len: int) -> None:
    alg = AeadAlg(kind, tag)
    key_kind = KeyKind.CHACHA20 if kind == AeadKind.CHACHA20_POLY1305 else KeyKind.AES
    key = new_key(client, key_kind, CRYPT, alg, key_len)
    nonce = os.urandom(nonce_len)
    ct = client.aead_encrypt("k", alg, nonce, AD, MSG)
    tag_len = alg.effective_tag_length
    assert len(ct) == len(MSG) + tag_len
    assert ct == ref_aead_encrypt(kind, key, nonce, tag_len, MSG)
    assert client.aead_decrypt("k", alg, nonce, AD, ct) == MSG
    # Any change to the ciphertext, the tag, the additional data or the nonce is detected.
    for bad_ct, ad, n in ((bytes([ct[0] ^ 1]) + ct[1:], AD, nonce),
                          (ct[:-1] + bytes([ct[-1] ^ 0x80]), AD, nonce),
                          (ct, AD + b"!", nonce),
                          (ct, AD, bytes([nonce[0] ^ 1]) + nonce[1:])):
        assert status_of(client.aead_decrypt, "k", alg, n, ad, bad_ct) == S.PSA_ERROR_INVALID_SIGNATURE


@NEEDS.test(aead(GCM))
def test_gcm_every_nonce_length_up_to_128_bytes(client: BasicClient) -> None:
    """GCM nonces of 1 to 128 bytes (OpenSSL 3's limit, which every provider here accepts) give
    the ciphertext of `cryptography`'s AES-GCM for the same key, or of pycryptodome's for the
    lengths OpenSSL refuses (under 8 bytes), and decrypt."""
    key = new_key(client, KeyKind.AES, CRYPT, GCM)
    for n in range(1, GCM_NONCE_LIMIT + 1):
        nonce = os.urandom(n)
        ct = client.aead_encrypt("k", GCM, nonce, AD, MSG)
        want = AESGCM(key).encrypt(nonce, MSG, AD) if n >= 8 else \
            ref_aead_encrypt(AeadKind.GCM, key, nonce, 16, MSG)
        assert ct == want, f"nonce of {n} bytes"
        assert client.aead_decrypt("k", GCM, nonce, AD, ct) == MSG


# GCM takes nonces of any length. Providers that cannot compute some of them refuse those with
# PsaErrorNotSupported, as the software provider refuses an optional nonce length (the 8-byte
# ChaCha20-Poly1305 nonce): the PKCS#11 provider takes at most 128 bytes, because SoftHSM2 (on
# OpenSSL 3, which refuses longer IVs) returns a wrong ciphertext with CKR_OK for longer ones.
GCM_NONCE_LIMIT = 128
LONGEST_GCM_NONCE = {"pkcs11": GCM_NONCE_LIMIT}  # provider -> longest nonce; others: no limit


@NEEDS.cases("nonce_len", (GCM_NONCE_LIMIT + 1, 300, 1024), lambda n: [aead(GCM)],
             ids=lambda n: f"nonce{n}")
def test_gcm_nonce_over_128_bytes(client: BasicClient, table: Pinned, nonce_len: int) -> None:
    """Over 128 bytes: the right ciphertext (pycryptodome's), or a refusal, never a wrong one."""
    key = new_key(client, KeyKind.AES, CRYPT, GCM)
    nonce = os.urandom(nonce_len)
    if nonce_len > LONGEST_GCM_NONCE.get(table.name, nonce_len):
        assert status_of(client.aead_encrypt, "k", GCM, nonce, AD, MSG) == S.PSA_ERROR_NOT_SUPPORTED
        ct = ref_aead_encrypt(AeadKind.GCM, key, nonce, 16, MSG)
        assert status_of(client.aead_decrypt, "k", GCM, nonce, AD, ct) == S.PSA_ERROR_NOT_SUPPORTED
        return
    ct = client.aead_encrypt("k", GCM, nonce, AD, MSG)
    assert ct == ref_aead_encrypt(AeadKind.GCM, key, nonce, 16, MSG)
    assert client.aead_decrypt("k", GCM, nonce, AD, ct) == MSG


@NEEDS.test(aead(GCM))
def test_aead_empty_additional_data_and_long_message(client: BasicClient) -> None:
    key = new_key(client, KeyKind.AES, CRYPT, GCM)
    nonce, msg = os.urandom(12), os.urandom(100_000)
    ct = client.aead_encrypt("k", GCM, nonce, b"", msg)
    c = RefAES.new(key, RefAES.MODE_GCM, nonce=nonce)
    assert ct == b"".join(c.encrypt_and_digest(msg))
    assert client.aead_decrypt("k", GCM, nonce, b"", ct) == msg


@NEEDS.test(aead(GCM))
def test_aead_default_tag_policy_accepts_explicit_16_byte_tag(client: BasicClient) -> None:
    new_key(client, KeyKind.AES, CRYPT, GCM)
    nonce = os.urandom(12)
    ct = client.aead_encrypt("k", AeadAlg(AeadKind.GCM, 16), nonce, AD, MSG)
    assert client.aead_decrypt("k", GCM, nonce, AD, ct) == MSG


@NEEDS.cases("alg, nonce_len, status", [
    (GCM, 0, S.PSA_ERROR_INVALID_ARGUMENT),
    (CCM, 6, S.PSA_ERROR_INVALID_ARGUMENT),
    (CCM, 14, S.PSA_ERROR_INVALID_ARGUMENT),
    (CCM, 0, S.PSA_ERROR_INVALID_ARGUMENT),
    (CHACHAPOLY, 11, S.PSA_ERROR_INVALID_ARGUMENT),
    (CHACHAPOLY, 13, S.PSA_ERROR_INVALID_ARGUMENT),
    (CHACHAPOLY, 24, S.PSA_ERROR_INVALID_ARGUMENT),
    (CHACHAPOLY, 8, S.PSA_ERROR_NOT_SUPPORTED),  # the original 64-bit nonce: optional in PSA
], lambda c: [aead(c[0], 32)], ids=lambda c: f"{c[0].kind.name}-{c[1]}")
def test_aead_bad_nonce_length(client: BasicClient, alg: AeadAlg, nonce_len: int,
                               status: ResponseStatus) -> None:
    kind = KeyKind.CHACHA20 if alg.kind == AeadKind.CHACHA20_POLY1305 else KeyKind.AES
    new_key(client, kind, CRYPT, alg, 32)
    nonce = os.urandom(nonce_len)
    assert status_of(client.aead_encrypt, "k", alg, nonce, AD, MSG) == status
    assert status_of(client.aead_decrypt, "k", alg, nonce, AD, MSG + bytes(16)) == status


@NEEDS.cases("kind, tag, status", [
    (AeadKind.GCM, 0, S.PSA_ERROR_INVALID_ARGUMENT),
    (AeadKind.GCM, 3, S.PSA_ERROR_INVALID_ARGUMENT),
    (AeadKind.GCM, 5, S.PSA_ERROR_INVALID_ARGUMENT),
    (AeadKind.GCM, 11, S.PSA_ERROR_INVALID_ARGUMENT),
    (AeadKind.GCM, 17, S.PSA_ERROR_INVALID_ARGUMENT),
    (AeadKind.CCM, 2, S.PSA_ERROR_INVALID_ARGUMENT),
    (AeadKind.CCM, 5, S.PSA_ERROR_INVALID_ARGUMENT),
    (AeadKind.CCM, 15, S.PSA_ERROR_INVALID_ARGUMENT),
    (AeadKind.CCM, 18, S.PSA_ERROR_INVALID_ARGUMENT),
    (AeadKind.CHACHA20_POLY1305, 8, S.PSA_ERROR_NOT_SUPPORTED),
    (AeadKind.CHACHA20_POLY1305, 17, S.PSA_ERROR_INVALID_ARGUMENT),
], lambda c: [aead(AeadAlg(c[0]), 32)], ids=lambda c: f"{c[0].name}-{c[1]}")
def test_aead_bad_tag_length(client: BasicClient, kind: AeadKind, tag: int,
                             status: ResponseStatus) -> None:
    # The key's policy names the very algorithm, so the policy check passes and the tag
    # length itself is judged.
    alg = AeadAlg(kind, tag)
    key_kind = KeyKind.CHACHA20 if kind == AeadKind.CHACHA20_POLY1305 else KeyKind.AES
    new_key(client, key_kind, CRYPT, alg, 32)
    nonce = os.urandom(12)
    assert status_of(client.aead_encrypt, "k", alg, nonce, AD, MSG) == status
    assert status_of(client.aead_decrypt, "k", alg, nonce, AD, MSG + bytes(16)) == status


@NEEDS.test(aead(GCM), aead(AeadAlg(AeadKind.GCM, 8)))
def test_aead_shortened_tag_needs_a_policy_naming_it(client: BasicClient) -> None:
    new_key(client, KeyKind.AES, CRYPT, GCM)
    nonce = os.urandom(12)
    for alg in (AeadAlg(AeadKind.GCM, 8), AeadAlg(AeadKind.GCM, 3), CCM):
        assert status_of(client.aead_encrypt, "k", alg, nonce, AD, MSG) == S.PSA_ERROR_NOT_PERMITTED
    client.import_key("short", attrs(KeyKind.AES, CRYPT, AeadAlg(AeadKind.GCM, 8)), os.urandom(16))
    assert status_of(client.aead_encrypt, "short", GCM, nonce, AD, MSG) == S.PSA_ERROR_NOT_PERMITTED
    assert len(client.aead_encrypt("short", AeadAlg(AeadKind.GCM, 8), nonce, AD, MSG)) == len(MSG) + 8


@NEEDS.test(aead(AeadAlg(AeadKind.CCM, 8)))
def test_aead_bad_tag_and_truncated_ciphertext(client: BasicClient) -> None:
    alg = AeadAlg(AeadKind.CCM, 8)
    new_key(client, KeyKind.AES, CRYPT, alg)
    nonce = os.urandom(13)
    ct = client.aead_encrypt("k", alg, nonce, AD, MSG)
    assert status_of(client.aead_decrypt, "k", alg, nonce, AD, ct[:-8] + bytes(8)) == \
        S.PSA_ERROR_INVALID_SIGNATURE
    # Cutting the ciphertext moves the tag: it no longer verifies.
    assert status_of(client.aead_decrypt, "k", alg, nonce, AD, ct[:-1]) == S.PSA_ERROR_INVALID_SIGNATURE
    # Shorter than the tag: not a ciphertext of this algorithm at all.
    assert status_of(client.aead_decrypt, "k", alg, nonce, AD, ct[:7]) == S.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(aead(GCM))
def test_aead_usage_flags(client: BasicClient) -> None:
    client.import_key("enc", attrs(KeyKind.AES, UsageFlags(encrypt=True), GCM), os.urandom(16))
    client.import_key("dec", attrs(KeyKind.AES, UsageFlags(decrypt=True), GCM), os.urandom(16))
    client.import_key("none", attrs(KeyKind.AES, UsageFlags(sign_message=True, export=True), GCM),
                      os.urandom(16))
    nonce = os.urandom(12)
    ct = client.aead_encrypt("enc", GCM, nonce, AD, MSG)
    assert status_of(client.aead_decrypt, "enc", GCM, nonce, AD, ct) == S.PSA_ERROR_NOT_PERMITTED
    assert status_of(client.aead_encrypt, "dec", GCM, nonce, AD, MSG) == S.PSA_ERROR_NOT_PERMITTED
    for op, data in ((client.aead_encrypt, MSG), (client.aead_decrypt, ct)):
        assert status_of(op, "none", GCM, nonce, AD, data) == S.PSA_ERROR_NOT_PERMITTED


@NEEDS.cases("key_kind, alg, size", [
    (KeyKind.CHACHA20, GCM, 32),
    (KeyKind.CHACHA20, CCM, 32),
    (KeyKind.AES, CHACHAPOLY, 32),
    (KeyKind.HMAC, GCM, 16),
    (KeyKind.RAW_DATA, CCM, 16),
], lambda c: [imports(KeyType.simple(c[0]), 0, NoAlgorithm(), *AEAD_OPS)],
    ids=lambda c: f"{c[0].name}-{c[1].kind.name}")
def test_aead_wrong_key_type(client: BasicClient, key_kind: KeyKind, alg: AeadAlg,
                             size: int) -> None:
    new_key(client, key_kind, CRYPT, alg, size)
    nonce = os.urandom(12)
    assert status_of(client.aead_encrypt, "k", alg, nonce, AD, MSG) == S.PSA_ERROR_INVALID_ARGUMENT
    assert status_of(client.aead_decrypt, "k", alg, nonce, AD, MSG) == S.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(aead(GCM))
def test_aead_empty_input_is_refused_like_parsec(client: BasicClient) -> None:
    new_key(client, KeyKind.AES, CRYPT, GCM)
    nonce = os.urandom(12)
    assert status_of(client.aead_encrypt, "k", GCM, nonce, AD, b"") == S.PSA_ERROR_INVALID_ARGUMENT
    assert status_of(client.aead_decrypt, "k", GCM, nonce, AD, b"") == S.PSA_ERROR_INVALID_ARGUMENT


# -- unauthenticated ciphers --------------------------------------------------------------------------


def ref_cipher_decrypt(mode: CipherMode, key: bytes, data: bytes) -> bytes:
    """Decrypt IV||ciphertext with pycryptodome (XTS, which it lacks, with `cryptography`)."""
    if mode == CipherMode.STREAM_CIPHER:
        return RefChaCha20.new(key=key, nonce=data[:12]).decrypt(data[12:])
    if mode == CipherMode.ECB_NO_PADDING:
        return RefAES.new(key, RefAES.MODE_ECB).decrypt(data)
    iv, body = data[:16], data[16:]
    if mode == CipherMode.XTS:
        dec = Cipher(algorithms.AES(key), modes.XTS(iv)).decryptor()
        return dec.update(body) + dec.finalize()
    if mode == CipherMode.CTR:
        return RefAES.new(key, RefAES.MODE_CTR, nonce=b"", initial_value=iv).decrypt(body)
    if mode == CipherMode.CFB:
        return RefAES.new(key, RefAES.MODE_CFB, iv=iv, segment_size=128).decrypt(body)
    if mode == CipherMode.OFB:
        return RefAES.new(key, RefAES.MODE_OFB, iv=iv).decrypt(body)
    out = RefAES.new(key, RefAES.MODE_CBC, iv=iv).decrypt(body)
    if mode == CipherMode.CBC_PKCS7:
        out = out[:-out[-1]]
    return out


CIPHER_CASES = (
    [(m, n, k) for m in (CipherMode.CTR, CipherMode.CFB, CipherMode.OFB, CipherMode.CBC_PKCS7)
     for n, k in ((1, 16), (15, 24), (16, 32), (33, 16))]
    + [(m, n, k) for m in (CipherMode.ECB_NO_PADDING, CipherMode.CBC_NO_PADDING)
       for n, k in ((16, 16), (48, 24), (64, 32))]
    + [(CipherMode.XTS, n, 32) for n in (16, 17, 25, 32, 100)]
    + [(CipherMode.STREAM_CIPHER, n, 32) for n in (1, 64, 65, 200)]
)


@NEEDS.cases("mode, length, key_len", CIPHER_CASES, lambda c: [cipher(c[0], c[2])],
             ids=[f"{m.name}-{n}B-key{k * 8}" for m, n, k in CIPHER_CASES])
def test_cipher_round_trip(client: BasicClient, mode: CipherMode, length: int,
                           key_len: int) -> None:
    key_kind = KeyKind.CHACHA20 if mode == CipherMode.STREAM_CIPHER else KeyKind.AES
    key = new_key(client, key_kind, CRYPT, CipherAlg(mode), key_len)
    msg = os.urandom(length)
    ct = client.cipher_encrypt("k", mode, msg)
    iv_len = {CipherMode.ECB_NO_PADDING: 0, CipherMode.STREAM_CIPHER: 12}.get(mode, 16)
    body_len = (length // 16 + 1) * 16 if mode == CipherMode.CBC_PKCS7 else length
    assert len(ct) == iv_len + body_len
    assert ref_cipher_decrypt(mode, key, ct) == msg
    assert client.cipher_decrypt("k", mode, ct) == msg
    if iv_len:  # a fresh random IV each time
        assert client.cipher_encrypt("k", mode, msg)[:iv_len] != ct[:iv_len]
    else:
        assert client.cipher_encrypt("k", mode, msg) == ct


@NEEDS.cases("mode, length", [
    (CipherMode.ECB_NO_PADDING, 15), (CipherMode.ECB_NO_PADDING, 17),
    (CipherMode.CBC_NO_PADDING, 1), (CipherMode.CBC_NO_PADDING, 31), (CipherMode.XTS, 15),
], lambda c: [cipher(c[0], 32)], ids=lambda c: f"{c[0].name}-{c[1]}")
def test_cipher_encrypt_bad_length(client: BasicClient, mode: CipherMode,
                                   length: int) -> None:
    new_key(client, KeyKind.AES, CRYPT, CipherAlg(mode), 32)
    assert status_of(client.cipher_encrypt, "k", mode, bytes(length)) == S.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.cases("mode, length", [
    (CipherMode.CTR, 15),  # shorter than the IV
    (CipherMode.CBC_PKCS7, 16),  # an IV and no block
    (CipherMode.CBC_PKCS7, 16 + 15),
    (CipherMode.CBC_PKCS7, 16 + 17),
    (CipherMode.CBC_NO_PADDING, 16 + 8),
    (CipherMode.ECB_NO_PADDING, 20),
    (CipherMode.XTS, 16 + 15),
    (CipherMode.STREAM_CIPHER, 11),
], lambda c: [cipher(c[0], 32)], ids=lambda c: f"{c[0].name}-{c[1]}")
def test_cipher_decrypt_bad_length(client: BasicClient, mode: CipherMode,
                                   length: int) -> None:
    kind = KeyKind.CHACHA20 if mode == CipherMode.STREAM_CIPHER else KeyKind.AES
    new_key(client, kind, CRYPT, CipherAlg(mode), 32)
    assert status_of(client.cipher_decrypt, "k", mode, bytes(length)) == S.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(cipher(CipherMode.CBC_PKCS7))
def test_cipher_bad_padding(client: BasicClient) -> None:
    mode = CipherMode.CBC_PKCS7
    key = new_key(client, KeyKind.AES, CRYPT, CipherAlg(mode))
    ct = client.cipher_encrypt("k", mode, bytes(16))  # IV || C1 || C2, C2 = the padding block
    # Flipping the low bit of C1's last byte turns the final plaintext byte from 0x10 into 0x11.
    bad = ct[:31] + bytes([ct[31] ^ 0x01]) + ct[32:]
    assert status_of(client.cipher_decrypt, "k", mode, bad) == S.PSA_ERROR_INVALID_PADDING
    # Whole blocks that were never padded: the last byte is zero, never valid PKCS#7.
    iv = os.urandom(16)
    raw = RefAES.new(key, RefAES.MODE_CBC, iv=iv).encrypt(b"A" * 31 + b"\x00")
    assert status_of(client.cipher_decrypt, "k", mode, iv + raw) == S.PSA_ERROR_INVALID_PADDING
    # ...and a correct padding of a full block of 0x10 unpads to nothing.
    raw = RefAES.new(key, RefAES.MODE_CBC, iv=iv).encrypt(bytes([16]) * 16)
    assert client.cipher_decrypt("k", mode, iv + raw) == b""


@NEEDS.test(cipher(CipherMode.CTR), aead(GCM), imports(AES, 128))
def test_cipher_usage_and_policy(client: BasicClient) -> None:
    client.import_key("enc", attrs(KeyKind.AES, UsageFlags(encrypt=True), CipherAlg(CipherMode.CTR)),
                      os.urandom(16))
    client.import_key("dec", attrs(KeyKind.AES, UsageFlags(decrypt=True), CipherAlg(CipherMode.CTR)),
                      os.urandom(16))
    ct = client.cipher_encrypt("enc", CipherMode.CTR, MSG)
    assert status_of(client.cipher_decrypt, "enc", CipherMode.CTR, ct) == S.PSA_ERROR_NOT_PERMITTED
    assert status_of(client.cipher_encrypt, "dec", CipherMode.CTR, MSG) == S.PSA_ERROR_NOT_PERMITTED
    # Another mode than the policy's.
    for mode in (CipherMode.CFB, CipherMode.CBC_PKCS7, CipherMode.ECB_NO_PADDING):
        assert status_of(client.cipher_encrypt, "enc", mode, bytes(16)) == S.PSA_ERROR_NOT_PERMITTED
    # An AEAD policy does not permit the bare cipher, nor the reverse.
    new_key(client, KeyKind.AES, CRYPT, GCM)
    assert status_of(client.cipher_encrypt, "k", CipherMode.CTR, MSG) == S.PSA_ERROR_NOT_PERMITTED
    assert status_of(client.aead_encrypt, "enc", GCM, bytes(12), AD, MSG) == S.PSA_ERROR_NOT_PERMITTED
    client.import_key("nopolicy", attrs(KeyKind.AES, CRYPT, NoAlgorithm()), os.urandom(16))
    assert status_of(client.cipher_encrypt, "nopolicy", CipherMode.CTR, MSG) == S.PSA_ERROR_NOT_PERMITTED


@NEEDS.cases("key_kind, mode, size", [
    (KeyKind.CHACHA20, CipherMode.CTR, 32),
    (KeyKind.CHACHA20, CipherMode.CBC_PKCS7, 32),
    (KeyKind.AES, CipherMode.STREAM_CIPHER, 32),
    (KeyKind.HMAC, CipherMode.ECB_NO_PADDING, 16),
    (KeyKind.AES, CipherMode.XTS, 16),  # XTS needs two AES keys in one
    (KeyKind.AES, CipherMode.XTS, 24),
], lambda c: [imports(KeyType.simple(c[0]), 0, NoAlgorithm(), *CIPHER_OPS)],
    ids=lambda c: f"{c[0].name}-{c[1].name}-{c[2]}")
def test_cipher_wrong_key_type(client: BasicClient, key_kind: KeyKind, mode: CipherMode,
                               size: int) -> None:
    new_key(client, key_kind, CRYPT, CipherAlg(mode), size)
    assert status_of(client.cipher_encrypt, "k", mode, bytes(32)) == S.PSA_ERROR_INVALID_ARGUMENT
    assert status_of(client.cipher_decrypt, "k", mode, bytes(48)) == S.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(cipher(CipherMode.XTS, 32))
def test_xts_key_halves_must_differ(client: BasicClient) -> None:
    half = os.urandom(16)
    client.import_key("k", attrs(KeyKind.AES, CRYPT, CipherAlg(CipherMode.XTS)), half + half)
    assert status_of(client.cipher_encrypt, "k", CipherMode.XTS, bytes(32)) == \
        S.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(cipher(CipherMode.CTR))
def test_cipher_empty_input_is_refused_like_parsec(client: BasicClient) -> None:
    new_key(client, KeyKind.AES, CRYPT, CipherAlg(CipherMode.CTR))
    assert status_of(client.cipher_encrypt, "k", CipherMode.CTR, b"") == S.PSA_ERROR_INVALID_ARGUMENT
    assert status_of(client.cipher_decrypt, "k", CipherMode.CTR, b"") == S.PSA_ERROR_INVALID_ARGUMENT


# -- MAC -----------------------------------------------------------------------------------------

HMAC_HASHES = [Hash.SHA_224, Hash.SHA_256, Hash.SHA_384, Hash.SHA_512, Hash.SHA_512_224,
               Hash.SHA_512_256, Hash.SHA3_224, Hash.SHA3_256, Hash.SHA3_384, Hash.SHA3_512]
HASHLIB_NAMES = {Hash.SHA_1: "sha1", Hash.SHA_224: "sha224", Hash.SHA_256: "sha256",
                 Hash.SHA_384: "sha384", Hash.SHA_512: "sha512", Hash.SHA_512_224: "sha512_224",
                 Hash.SHA_512_256: "sha512_256", Hash.SHA3_224: "sha3_224",
                 Hash.SHA3_256: "sha3_256", Hash.SHA3_384: "sha3_384", Hash.SHA3_512: "sha3_512"}


def ref_hmac(h: Hash, key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, HASHLIB_NAMES[h]).digest()


# 200-byte keys: longer than any hash block, hashed first
@NEEDS.cases("h, key_len", [(h, n) for h in HMAC_HASHES for n in (16, 200)],
             lambda c: [mac(MacAlg(MacKind.HMAC, c[0]))], ids=lambda c: f"{c[0].name}-{c[1]}")
def test_hmac_full_length(client: BasicClient, h: Hash, key_len: int) -> None:
    alg = MacAlg(MacKind.HMAC, h)
    key = new_key(client, KeyKind.HMAC, MACS, alg, key_len)
    mac = client.mac_compute("k", alg, MSG)
    assert mac == ref_hmac(h, key, MSG)
    assert len(mac) == h.digest_size
    client.mac_verify("k", alg, MSG, mac)
    assert status_of(client.mac_verify, "k", alg, MSG + b".", mac) == S.PSA_ERROR_INVALID_SIGNATURE
    assert status_of(client.mac_verify, "k", alg, MSG, mac[:-1] + bytes([mac[-1] ^ 1])) == \
        S.PSA_ERROR_INVALID_SIGNATURE
    # A prefix of the right MAC is not the MAC.
    assert status_of(client.mac_verify, "k", alg, MSG, mac[:-1]) == S.PSA_ERROR_INVALID_SIGNATURE
    assert status_of(client.mac_verify, "k", alg, MSG, b"") == S.PSA_ERROR_INVALID_SIGNATURE


@NEEDS.cases("h", [Hash.SHA_256, Hash.SHA3_512, Hash.SHA_512_224],
             lambda h: [mac(MacAlg(MacKind.HMAC, h))], ids=lambda h: h.name)
def test_hmac_truncated(client: BasicClient, h: Hash) -> None:
    for length in (4, 10, h.digest_size - 1, h.digest_size):
        alg = MacAlg(MacKind.HMAC, h, length)
        name = f"k{length}"
        key = new_key(client, KeyKind.HMAC, MACS, alg, 32, name=name)
        mac = client.mac_compute(name, alg, MSG)
        assert mac == ref_hmac(h, key, MSG)[:length]
        client.mac_verify(name, alg, MSG, mac)
        # The full-length MAC does not verify as the truncated one, nor is the full algorithm
        # permitted by a truncated policy (unless the truncation is to the full length).
        full = ref_hmac(h, key, MSG)
        if length < h.digest_size:
            assert status_of(client.mac_verify, name, alg, MSG, full) == S.PSA_ERROR_INVALID_SIGNATURE
            assert status_of(client.mac_compute, name, MacAlg(MacKind.HMAC, h), MSG) == \
                S.PSA_ERROR_NOT_PERMITTED
        else:
            assert client.mac_compute(name, MacAlg(MacKind.HMAC, h), MSG) == full


@NEEDS.test(mac(MacAlg(MacKind.HMAC, Hash.SHA_256)))
def test_full_length_policy_permits_truncation_to_full_length_only(client: BasicClient) -> None:
    alg = MacAlg(MacKind.HMAC, Hash.SHA_256)
    key = new_key(client, KeyKind.HMAC, MACS, alg)
    assert client.mac_compute("k", MacAlg(MacKind.HMAC, Hash.SHA_256, 32), MSG) == \
        ref_hmac(Hash.SHA_256, key, MSG)
    assert status_of(client.mac_compute, "k", MacAlg(MacKind.HMAC, Hash.SHA_256, 16), MSG) == \
        S.PSA_ERROR_NOT_PERMITTED


@NEEDS.cases("length", [0, 1, 3, 33, 64], lambda _: [mac(MacAlg(MacKind.HMAC, Hash.SHA_256))])
def test_hmac_bad_truncation(client: BasicClient, length: int) -> None:
    alg = MacAlg(MacKind.HMAC, Hash.SHA_256, length)
    new_key(client, KeyKind.HMAC, MACS, alg)
    assert status_of(client.mac_compute, "k", alg, MSG) == S.PSA_ERROR_INVALID_ARGUMENT
    assert status_of(client.mac_verify, "k", alg, MSG, bytes(max(length, 1))) == \
        S.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.cases("key_len, length", [(k, n) for n in (None, 4, 8, 15) for k in (16, 24, 32)],
             lambda c: [mac(MacAlg(MacKind.CMAC, None, c[1]), c[0])],
             ids=lambda c: f"key{c[0] * 8}-len{c[1]}")
def test_cmac(client: BasicClient, key_len: int, length: int | None) -> None:
    alg = MacAlg(MacKind.CMAC, None, length)
    key = new_key(client, KeyKind.AES, MACS, alg, key_len)
    for msg in (b"", b"x", bytes(16), MSG):
        mac = client.mac_compute("k", alg, msg)
        expected = RefCMAC.new(key, msg=msg, ciphermod=RefAES).digest()[:length or 16]
        assert mac == expected
        client.mac_verify("k", alg, msg, mac)
        assert status_of(client.mac_verify, "k", alg, msg + b"!", mac) == S.PSA_ERROR_INVALID_SIGNATURE


@NEEDS.test(mac(MacAlg(MacKind.CMAC), 16))
def test_cmac_bad_truncation(client: BasicClient) -> None:
    for length in (3, 17):
        alg = MacAlg(MacKind.CMAC, None, length)
        new_key(client, KeyKind.AES, MACS, alg, name=f"k{length}")
        assert status_of(client.mac_compute, f"k{length}", alg, MSG) == S.PSA_ERROR_INVALID_ARGUMENT


@NEEDS.test(mac(MacAlg(MacKind.HMAC, Hash.SHA_256), 32))
def test_mac_usage_flags(client: BasicClient) -> None:
    alg = MacAlg(MacKind.HMAC, Hash.SHA_256)
    client.import_key("sign", attrs(KeyKind.HMAC, UsageFlags(sign_message=True), alg), os.urandom(32))
    client.import_key("verify", attrs(KeyKind.HMAC, UsageFlags(verify_message=True), alg),
                      os.urandom(32))
    # The hash-signing flags are not the message ones PSA asks for.
    client.import_key("hashflags", attrs(KeyKind.HMAC, UsageFlags(sign_hash=True, verify_hash=True),
                                         alg), os.urandom(32))
    mac = client.mac_compute("sign", alg, MSG)
    assert status_of(client.mac_verify, "sign", alg, MSG, mac) == S.PSA_ERROR_NOT_PERMITTED
    assert status_of(client.mac_compute, "verify", alg, MSG) == S.PSA_ERROR_NOT_PERMITTED
    assert status_of(client.mac_compute, "hashflags", alg, MSG) == S.PSA_ERROR_NOT_PERMITTED
    assert status_of(client.mac_verify, "hashflags", alg, MSG, mac) == S.PSA_ERROR_NOT_PERMITTED


@NEEDS.test(mac(MacAlg(MacKind.HMAC, Hash.SHA_256), 32))
def test_mac_policy(client: BasicClient) -> None:
    new_key(client, KeyKind.HMAC, MACS, MacAlg(MacKind.HMAC, Hash.SHA_256), 32)
    for alg in (MacAlg(MacKind.HMAC, Hash.SHA_384), MacAlg(MacKind.HMAC, Hash.SHA3_256),
                MacAlg(MacKind.CMAC)):
        assert status_of(client.mac_compute, "k", alg, MSG) == S.PSA_ERROR_NOT_PERMITTED
        assert status_of(client.mac_verify, "k", alg, MSG, bytes(32)) == S.PSA_ERROR_NOT_PERMITTED


@NEEDS.cases("key_kind, alg", [
    (KeyKind.AES, MacAlg(MacKind.HMAC, Hash.SHA_256)),
    (KeyKind.RAW_DATA, MacAlg(MacKind.HMAC, Hash.SHA_256)),
    (KeyKind.HMAC, MacAlg(MacKind.CMAC)),
    (KeyKind.CHACHA20, MacAlg(MacKind.CMAC)),
], lambda c: [imports(KeyType.simple(c[0]), 0, NoAlgorithm(), *MAC_OPS)],
    ids=lambda c: f"{c[0].name}-{c[1].kind.name}")
def test_mac_wrong_key_type(client: BasicClient, key_kind: KeyKind, alg: MacAlg) -> None:
    new_key(client, key_kind, MACS, alg, 32)
    assert status_of(client.mac_compute, "k", alg, MSG) == S.PSA_ERROR_INVALID_ARGUMENT
    assert status_of(client.mac_verify, "k", alg, MSG, bytes(32)) == S.PSA_ERROR_INVALID_ARGUMENT


# Refused MACs, and by whom: (key kind, algorithm, {provider: status}). The software provider
# stores any policy and refuses at use; HMAC takes every hash it computes
# (tests/providers/test_hashes_issue12.py), MD5 and SHA-1 being deprecated primitives. The PKCS#11
# provider refuses at key creation a policy naming an algorithm the token cannot do
# (docs/providers-pkcs11.md: CBC-MAC, HMAC-MD5 on SoftHSM2); HMAC-SHA-1 it refuses at use.
AT_CREATION = {"pkcs11"}
MAC_REFUSALS = [
    (KeyKind.AES, MacAlg(MacKind.CBC_MAC), {"software": S.PSA_ERROR_NOT_SUPPORTED,
                                            "pkcs11": S.PSA_ERROR_NOT_SUPPORTED}),
    (KeyKind.HMAC, MacAlg(MacKind.HMAC, Hash.MD5), {"software": S.DEPRECATED_PRIMITIVE,
                                                    "pkcs11": S.PSA_ERROR_NOT_SUPPORTED}),
    (KeyKind.HMAC, MacAlg(MacKind.HMAC, Hash.SHA_1), {"software": S.DEPRECATED_PRIMITIVE,
                                                      "pkcs11": S.DEPRECATED_PRIMITIVE}),
]


@NEEDS.cases("key_kind, alg, statuses", MAC_REFUSALS,
             lambda c: [imports(KeyType.simple(c[0]), 0, NoAlgorithm(), *MAC_OPS)],
             ids=lambda c: f"{c[0].name}-{c[1].kind.name}-{c[1].hash.name if c[1].hash else ''}")
def test_mac_unsupported(client: BasicClient, provider: str, key_kind: KeyKind, alg: MacAlg,
                         statuses: dict[str, ResponseStatus]) -> None:
    status = statuses[provider]
    if provider in AT_CREATION and status == S.PSA_ERROR_NOT_SUPPORTED:
        assert status_of(client.import_key, "k", attrs(key_kind, MACS, alg), os.urandom(16)) == status
        assert client.list_keys() == []
        return
    new_key(client, key_kind, MACS, alg)
    assert status_of(client.mac_compute, "k", alg, MSG) == status
    assert status_of(client.mac_verify, "k", alg, MSG, bytes(20)) == status


@pytest.fixture(scope="module")
def deprecated_ok_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(str(tmp_path_factory.mktemp("svc-deprecated")), auth_type="Direct",
                         core={"allow_deprecated": True})
    svc.start()
    yield svc
    svc.stop()


def test_hmac_sha1_when_deprecated_primitives_are_allowed(deprecated_ok_service: ServiceProcess) -> None:
    client = deprecated_ok_service.client("sha1-user")
    alg = MacAlg(MacKind.HMAC, Hash.SHA_1)
    key = new_key(client, KeyKind.HMAC, MACS, alg, 20)
    mac = client.mac_compute("k", alg, MSG)
    assert len(mac) == 20
    assert mac == ref_hmac(Hash.SHA_1, key, MSG)
    client.mac_verify("k", alg, MSG, mac)
    alg10 = MacAlg(MacKind.HMAC, Hash.SHA_1, 10)
    client.import_key("k10", attrs(KeyKind.HMAC, MACS, alg10), key)
    assert client.mac_compute("k10", alg10, MSG) == mac[:10]


# -- keys of other applications, missing keys --------------------------------------------------------


@NEEDS.test(aead(GCM), cipher(CipherMode.CTR), mac(MacAlg(MacKind.HMAC, Hash.SHA_256), 32))
def test_other_applications_key_does_not_exist(client: BasicClient,
                                               provider_service: ServiceProcess) -> None:
    new_key(client, KeyKind.AES, CRYPT, GCM, name="gcm")
    client.import_key("ctr", attrs(KeyKind.AES, CRYPT, CipherAlg(CipherMode.CTR)), os.urandom(16))
    hmac_alg = MacAlg(MacKind.HMAC, Hash.SHA_256)
    client.import_key("mac", attrs(KeyKind.HMAC, MACS, hmac_alg), os.urandom(32))
    nonce = os.urandom(12)
    ct = client.aead_encrypt("gcm", GCM, nonce, AD, MSG)
    cct = client.cipher_encrypt("ctr", CipherMode.CTR, MSG)
    mac = client.mac_compute("mac", hmac_alg, MSG)

    other = provider_service.client(f"{client.app_name}-other")
    calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
        (other.aead_encrypt, ("gcm", GCM, nonce, AD, MSG)),
        (other.aead_decrypt, ("gcm", GCM, nonce, AD, ct)),
        (other.cipher_encrypt, ("ctr", CipherMode.CTR, MSG)),
        (other.cipher_decrypt, ("ctr", CipherMode.CTR, cct)),
        (other.mac_compute, ("mac", hmac_alg, MSG)),
        (other.mac_verify, ("mac", hmac_alg, MSG, mac)),
        (client.aead_encrypt, ("missing", GCM, nonce, AD, MSG)),
        (client.cipher_decrypt, ("missing", CipherMode.CTR, cct)),
        (client.mac_verify, ("missing", hmac_alg, MSG, mac)),
    ]
    for call, args in calls:
        assert status_of(call, *args) == S.PSA_ERROR_DOES_NOT_EXIST, call.__name__
    # ...while the owner still can.
    assert client.aead_decrypt("gcm", GCM, nonce, AD, ct) == MSG
    client.mac_verify("mac", hmac_alg, MSG, mac)


# -- what a provider's table lacks is refused ----------------------------------------------------


@NEEDS.refusals()
def test_unsupported_needs_are_refused(client: BasicClient, table: Pinned, need: Need) -> None:
    assert_refused(client, table, need)
