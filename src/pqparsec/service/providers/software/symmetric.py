"""Symmetric operations: PsaAeadEncrypt/Decrypt, PsaCipherEncrypt/Decrypt, PsaMacCompute/Verify.

Every operation checks, in Parsec's order: the usage flag, that the key's policy permits the
requested algorithm (NotPermitted), that the key type fits the algorithm (InvalidArgument), that
the input is not empty where Parsec's interface forbids it (InvalidArgument); then the
algorithm's own parameters (tag, nonce, MAC length) the way the PSA Crypto API specifies them.

Status decisions where PSA leaves a choice (Mbed TLS, the engine of Parsec's software provider,
makes the same ones):
- AEAD tag length not defined for the algorithm (GCM: 4, 8, 12-16; CCM: even 4-16): the algorithm
  identifier itself is invalid -> InvalidArgument.
- ChaCha20-Poly1305 is defined with a 16-byte tag only. A shortened tag of 1-15 bytes is an
  algorithm PSA's encoding can express but that implementations need not provide ->
  NotSupported; a tag of 0 or more than 16 bytes is not an AEAD algorithm at all -> InvalidArgument.
- Nonce length outside the algorithm's range (GCM: >= 1 byte; CCM: 7-13; ChaCha20-Poly1305: 12)
  -> InvalidArgument, except the 8-byte ChaCha20-Poly1305 nonce, which PSA lets implementations
  support optionally -> NotSupported.
- Ciphertext shorter than the tag -> InvalidArgument; a tag that does not verify -> InvalidSignature.
- Truncated MAC of 0, fewer than 4, or more than the full length bytes -> InvalidArgument (4 bytes
  is the shortest MAC we compute: anything shorter can be forged by trial).
- HMAC with SHA-1 or MD5 only with `core_settings.allow_deprecated` (else DeprecatedPrimitive);
  HMAC with a hash the provider does not compute (MD2, MD4) and CBC-MAC -> NotSupported.
- XTS needs an AES key made of two different AES-128 keys (256 bits; 512-bit AES keys cannot be
  imported): other sizes or equal halves -> InvalidArgument; fewer than 16 bytes -> InvalidArgument.
"""

from __future__ import annotations

import os

# hmac.compare_digest, without the hmac module (see base.py)
from _operator import _compare_digest as compare_digest
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import cmac, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, ChaCha20Poly1305

try:  # CFB and OFB live among cryptography's "decrepit" algorithms; the old names are deprecated
    from cryptography.hazmat.decrepit.ciphers.modes import CFB, OFB
except ImportError:  # pragma: no cover - an older cryptography
    from cryptography.hazmat.primitives.ciphers.modes import CFB, OFB  # type: ignore[assignment, unused-ignore]

from pqparsec.protocol.operations import (
    CiphertextResult,
    EmptyResult,
    PlaintextResult,
    PsaAeadDecryptRequest,
    PsaAeadEncryptRequest,
    PsaCipherDecryptRequest,
    PsaCipherEncryptRequest,
    PsaMacComputeRequest,
    PsaMacComputeResult,
    PsaMacVerifyRequest,
)
from pqparsec.protocol.psa import AeadAlg, AeadKind, CipherMode, MacAlg, MacKind
from pqparsec.protocol.psa.crypto import HASHES, hash_algorithm
from pqparsec.protocol.psa.policy import (
    DEPRECATED_HASHES,
    check_aead_request,
    check_cipher_request,
    check_mac_request,
    invalid_argument,
    invalid_signature,
    not_supported,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers.software.base import SoftwareBase

BLOCK = 16  # the AES block size

# -- AEAD ------------------------------------------------------------------------------------------

GCM_TAG_LENGTHS = frozenset({4, 8, 12, 13, 14, 15, 16})
CCM_TAG_LENGTHS = frozenset({4, 6, 8, 10, 12, 14, 16})
CCM_NONCE_LENGTHS = range(7, 14)
CHACHA20_POLY1305_NONCE = 12
# The GCM nonce lengths OpenSSL (through `cryptography`) accepts; others go to pycryptodome.
_OPENSSL_GCM_NONCES = range(8, 129)


def check_aead_tag(alg: AeadAlg) -> int:
    """The tag length of `alg`, if the algorithm defines one of that length."""
    tag = alg.effective_tag_length
    if alg.kind == AeadKind.CHACHA20_POLY1305:
        if 1 <= tag < 16:
            raise not_supported("ChaCha20-Poly1305 with a shortened tag is not supported")
        if tag != 16:
            raise invalid_argument(f"ChaCha20-Poly1305 has a 16-byte tag, not {tag} bytes")
        return tag
    allowed = GCM_TAG_LENGTHS if alg.kind == AeadKind.GCM else CCM_TAG_LENGTHS
    if tag not in allowed:
        raise invalid_argument(f"{alg.kind.name} tags are {sorted(allowed)} bytes long, not {tag}")
    return tag


def check_aead_nonce(alg: AeadAlg, nonce: bytes) -> None:
    n = len(nonce)
    if alg.kind == AeadKind.GCM:
        ok = n >= 1
    elif alg.kind == AeadKind.CCM:
        ok = n in CCM_NONCE_LENGTHS
    else:
        if n == 8:
            raise not_supported("ChaCha20-Poly1305 with an 8-byte nonce is not supported")
        ok = n == CHACHA20_POLY1305_NONCE
    if not ok:
        raise invalid_argument(f"a nonce of {n} bytes is not valid for {alg.kind.name}")


def _pycryptodome_gcm(key: bytearray, nonce: bytes, aad: bytes, tag_len: int) -> Any:
    """AES-GCM for the nonce lengths OpenSSL refuses; pycryptodome is imported on first use."""
    from Crypto.Cipher import AES as PyAES

    gcm = PyAES.new(key, PyAES.MODE_GCM, nonce=nonce, mac_len=tag_len)
    gcm.update(aad)
    return gcm


def _gcm_encrypt(key: bytearray, nonce: bytes, aad: bytes, plaintext: bytes, tag_len: int) -> bytes:
    if len(nonce) in _OPENSSL_GCM_NONCES:
        enc = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
        enc.authenticate_additional_data(aad)
        body = enc.update(plaintext) + enc.finalize()
        return body + enc.tag[:tag_len]  # a shortened GCM tag is a prefix of the full one
    gcm = _pycryptodome_gcm(key, nonce, aad, tag_len)
    body, tag = gcm.encrypt_and_digest(plaintext)
    return bytes(body + tag)


def _gcm_decrypt(key: bytearray, nonce: bytes, aad: bytes, body: bytes, tag: bytes) -> bytes:
    if len(nonce) in _OPENSSL_GCM_NONCES:
        dec = Cipher(algorithms.AES(key), modes.GCM(nonce, tag, min_tag_length=4)).decryptor()
        dec.authenticate_additional_data(aad)
        try:
            return dec.update(body) + dec.finalize()
        except InvalidTag:
            raise invalid_signature("the AEAD tag does not verify") from None
    gcm = _pycryptodome_gcm(key, nonce, aad, len(tag))
    try:
        return bytes(gcm.decrypt_and_verify(body, tag))
    except ValueError:  # pycryptodome's "MAC check failed"
        raise invalid_signature("the AEAD tag does not verify") from None


def aead_encrypt(key: bytearray, alg: AeadAlg, tag_len: int, nonce: bytes, aad: bytes,
                 plaintext: bytes) -> bytes:
    try:
        if alg.kind == AeadKind.GCM:
            return _gcm_encrypt(key, nonce, aad, plaintext, tag_len)
        if alg.kind == AeadKind.CCM:
            return AESCCM(key, tag_len).encrypt(nonce, plaintext, aad)
        return ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)
    except (ValueError, OverflowError) as exc:  # e.g. too much data for a CCM nonce length
        raise invalid_argument(f"{alg.kind.name}: {exc}") from None


def aead_decrypt(key: bytearray, alg: AeadAlg, tag_len: int, nonce: bytes, aad: bytes,
                 ciphertext: bytes) -> bytes:
    if len(ciphertext) < tag_len:
        raise invalid_argument(f"ciphertext of {len(ciphertext)} bytes is shorter than the "
                               f"{tag_len}-byte tag")
    try:
        if alg.kind == AeadKind.GCM:
            return _gcm_decrypt(key, nonce, aad, ciphertext[:-tag_len], ciphertext[-tag_len:])
        if alg.kind == AeadKind.CCM:
            return AESCCM(key, tag_len).decrypt(nonce, ciphertext, aad)
        return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise invalid_signature("the AEAD tag does not verify") from None
    except (ValueError, OverflowError) as exc:
        raise invalid_argument(f"{alg.kind.name}: {exc}") from None


# -- unauthenticated ciphers ------------------------------------------------------------------------

_WHOLE_BLOCKS = frozenset({CipherMode.ECB_NO_PADDING, CipherMode.CBC_NO_PADDING})
CHACHA20_NONCE = 12


def iv_length(mode: CipherMode) -> int:
    """PSA_CIPHER_IV_LENGTH for the key type the mode goes with (AES, or ChaCha20 for streams)."""
    if mode == CipherMode.ECB_NO_PADDING:
        return 0
    return CHACHA20_NONCE if mode == CipherMode.STREAM_CIPHER else BLOCK


def _engine(key: bytearray, mode: CipherMode, iv: bytes) -> Cipher[Any]:
    if mode == CipherMode.STREAM_CIPHER:
        # PSA's ChaCha20 stream cipher: a 12-byte nonce and a block counter starting at 0;
        # `cryptography` takes the 32-bit little-endian counter and the nonce together.
        return Cipher(algorithms.ChaCha20(key, bytes(4) + iv), None)
    chosen: modes.Mode
    if mode == CipherMode.CTR:
        chosen = modes.CTR(iv)  # PSA's CTR: the whole 16-byte IV is the big-endian counter
    elif mode == CipherMode.CFB:
        chosen = CFB(iv)  # CFB with a full-block (128-bit) segment
    elif mode == CipherMode.OFB:
        chosen = OFB(iv)
    elif mode == CipherMode.XTS:
        chosen = modes.XTS(iv)  # the IV is the 16-byte tweak
    elif mode == CipherMode.ECB_NO_PADDING:
        chosen = modes.ECB()
    else:
        chosen = modes.CBC(iv)
    return Cipher(algorithms.AES(key), chosen)


def _check_cipher_input(mode: CipherMode, data: bytes) -> None:
    if mode in _WHOLE_BLOCKS and len(data) % BLOCK:
        raise invalid_argument(f"{mode.name} needs whole {BLOCK}-byte blocks, not {len(data)} bytes")
    if mode == CipherMode.XTS and len(data) < BLOCK:
        raise invalid_argument(f"XTS needs at least {BLOCK} bytes, not {len(data)}")


def cipher_encrypt(key: bytearray, mode: CipherMode, plaintext: bytes) -> bytes:
    _check_cipher_input(mode, plaintext)
    if mode == CipherMode.CBC_PKCS7:
        padder = padding.PKCS7(BLOCK * 8).padder()
        plaintext = padder.update(plaintext) + padder.finalize()
    iv = os.urandom(iv_length(mode))
    try:
        enc = _engine(key, mode, iv).encryptor()
    except ValueError as exc:  # XTS with two equal key halves
        raise invalid_argument(f"{mode.name}: {exc}") from None
    return iv + enc.update(plaintext) + enc.finalize()


def cipher_decrypt(key: bytearray, mode: CipherMode, ciphertext: bytes) -> bytes:
    n_iv = iv_length(mode)
    if len(ciphertext) < n_iv:
        raise invalid_argument(f"{mode.name} input must start with a {n_iv}-byte IV; got "
                               f"{len(ciphertext)} bytes")
    iv, body = ciphertext[:n_iv], ciphertext[n_iv:]
    _check_cipher_input(mode, body)
    if mode == CipherMode.CBC_PKCS7 and (not body or len(body) % BLOCK):
        raise invalid_argument(f"CBC_PKCS7 ciphertext must be a non-zero number of {BLOCK}-byte "
                               f"blocks, not {len(body)} bytes")
    try:
        dec = _engine(key, mode, iv).decryptor()
    except ValueError as exc:
        raise invalid_argument(f"{mode.name}: {exc}") from None
    out = dec.update(body) + dec.finalize()
    if mode == CipherMode.CBC_PKCS7:
        unpadder = padding.PKCS7(BLOCK * 8).unpadder()
        try:
            out = unpadder.update(out) + unpadder.finalize()
        except ValueError:
            raise ParsecError(ResponseStatus.PSA_ERROR_INVALID_PADDING,
                              "the decrypted padding is not valid") from None
    return out


# -- MAC -----------------------------------------------------------------------------------------

# HMAC works with every hash the provider computes (MD5 and SHA-1 are deprecated primitives).
HMAC_HASHES = frozenset(HASHES)
MIN_MAC_LENGTH = 4


def check_mac_alg(alg: MacAlg, allow_deprecated: bool) -> int:
    """Is `alg` one we compute? Return its output length in bytes."""
    if alg.kind == MacKind.CBC_MAC:
        raise not_supported("CBC-MAC is not supported (use CMAC)")
    if alg.kind == MacKind.HMAC:
        if alg.hash is None or alg.hash not in HMAC_HASHES:
            raise not_supported(f"HMAC with {alg.hash.name if alg.hash else 'no hash'} is not "
                                f"supported")
        if alg.hash in DEPRECATED_HASHES and not allow_deprecated:
            raise ParsecError(ResponseStatus.DEPRECATED_PRIMITIVE,
                              f"HMAC with {alg.hash.name} is deprecated (set "
                              f"core_settings.allow_deprecated = true to allow it)")
        full = alg.hash.digest_size
    else:
        full = BLOCK
    if alg.length is None:
        return full
    if not MIN_MAC_LENGTH <= alg.length <= full:
        raise invalid_argument(f"a {alg.kind.name} MAC can be truncated to {MIN_MAC_LENGTH}-{full} "
                               f"bytes, not {alg.length}")
    return alg.length


def compute_mac(key: bytearray, alg: MacAlg, data: bytes, length: int) -> bytes:
    if alg.kind == MacKind.HMAC:
        assert alg.hash is not None
        h = hmac.HMAC(key, hash_algorithm(alg.hash))
        h.update(data)
        return h.finalize()[:length]
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()[:length]


# -- the operations ------------------------------------------------------------------------------


class SymmetricOps(SoftwareBase):
    def _aead_request(self, app: Identity, key_name: str, alg: AeadAlg, flag: str, op: str,
                      data: bytes, nonce: bytes) -> tuple[KeyRecord, int]:
        rec = self.load(app, key_name)
        check_aead_request(rec.attributes, alg, flag, op, data, nonce)
        tag_len = check_aead_tag(alg)
        check_aead_nonce(alg, nonce)
        return rec, tag_len

    def psa_aead_encrypt(self, app: Identity, req: PsaAeadEncryptRequest) -> CiphertextResult:
        rec, tag_len = self._aead_request(app, req.key_name, req.alg, "encrypt", "AEAD encryption",
                                          req.plaintext, req.nonce)
        with self.material(rec) as key:
            return CiphertextResult(aead_encrypt(key, req.alg, tag_len, req.nonce,
                                                 req.additional_data, req.plaintext))

    def psa_aead_decrypt(self, app: Identity, req: PsaAeadDecryptRequest) -> PlaintextResult:
        rec, tag_len = self._aead_request(app, req.key_name, req.alg, "decrypt", "AEAD decryption",
                                          req.ciphertext, req.nonce)
        with self.material(rec) as key:
            return PlaintextResult(aead_decrypt(key, req.alg, tag_len, req.nonce,
                                                req.additional_data, req.ciphertext))

    def _cipher_request(self, app: Identity, key_name: str, mode: CipherMode, flag: str, op: str,
                        data: bytes) -> KeyRecord:
        rec = self.load(app, key_name)
        check_cipher_request(rec.attributes, mode, flag, op, data)
        return rec

    def psa_cipher_encrypt(self, app: Identity, req: PsaCipherEncryptRequest) -> CiphertextResult:
        rec = self._cipher_request(app, req.key_name, req.alg, "encrypt", "encryption",
                                   req.plaintext)
        with self.material(rec) as key:
            return CiphertextResult(cipher_encrypt(key, req.alg, req.plaintext))

    def psa_cipher_decrypt(self, app: Identity, req: PsaCipherDecryptRequest) -> PlaintextResult:
        rec = self._cipher_request(app, req.key_name, req.alg, "decrypt", "decryption",
                                   req.ciphertext)
        with self.material(rec) as key:
            return PlaintextResult(cipher_decrypt(key, req.alg, req.ciphertext))

    def _mac_request(self, app: Identity, key_name: str, alg: MacAlg, flag: str,
                     op: str) -> tuple[KeyRecord, int]:
        rec = self.load(app, key_name)
        check_mac_request(rec.attributes, alg, flag, op)
        return rec, check_mac_alg(alg, self.limits.allow_deprecated)

    def psa_mac_compute(self, app: Identity, req: PsaMacComputeRequest) -> PsaMacComputeResult:
        rec, length = self._mac_request(app, req.key_name, req.alg, "sign_message",
                                        "computing MACs")
        with self.material(rec) as key:
            return PsaMacComputeResult(compute_mac(key, req.alg, req.input, length))

    def psa_mac_verify(self, app: Identity, req: PsaMacVerifyRequest) -> EmptyResult:
        rec, length = self._mac_request(app, req.key_name, req.alg, "verify_message",
                                        "verifying MACs")
        with self.material(rec) as key:
            expected = compute_mac(key, req.alg, req.input, length)
        # A MAC of the wrong length is a MAC that does not match (PSA), and the comparison takes
        # the same time wherever the first difference is.
        if not compare_digest(expected, req.mac):
            raise invalid_signature("the MAC does not match")
        return EmptyResult()
