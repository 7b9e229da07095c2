"""EME-OAEP decoding (RFC 8017, 7.1.2 step 3) of a raw RSA decryption done by the TPM.

Needed for one case only: TPM2_RSA_Decrypt insists that a non-empty OAEP label end with a NUL
byte (the TPM treats labels as C strings), while PSA takes the label (the "salt") as arbitrary
bytes. For other labels the TPM does the raw RSA operation and the padding is removed here.
Every failure is the same single error, and the checks do not stop at the first bad byte.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives import hashes

from pqparsec.protocol.status import ParsecError, ResponseStatus


def _hash(alg: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(alg)
    h.update(data)
    return h.finalize()


def mgf1(alg: hashes.HashAlgorithm, seed: bytes, length: int) -> bytes:
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += _hash(alg, seed + counter.to_bytes(4, "big"))
        counter += 1
    return bytes(out[:length])


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def decode(em: bytes, alg: hashes.HashAlgorithm, label: bytes, k: int) -> bytes:
    """The message in encoded message `em` (the k-byte raw RSA result)."""
    h_len = alg.digest_size
    bad = ParsecError(ResponseStatus.PSA_ERROR_INVALID_PADDING, "decryption failed")
    if k < 2 * h_len + 2:
        raise bad
    em = em.rjust(k, b"\0")[-k:]
    masked_seed, masked_db = em[1:1 + h_len], em[1 + h_len:]
    seed = _xor(masked_seed, mgf1(alg, masked_db, h_len))
    db = _xor(masked_db, mgf1(alg, seed, k - h_len - 1))
    ok = hmac.compare_digest(db[:h_len], _hash(alg, label)) & (em[0] == 0)
    # Find the 0x01 that ends the zero padding, looking at every byte whatever we find.
    index = 0
    in_padding = True
    for i in range(h_len, len(db)):
        byte = db[i]
        found = in_padding and byte == 1
        index = i if found else index
        ok &= not (in_padding and byte not in (0, 1))
        in_padding = in_padding and not found
    ok &= not in_padding
    if not ok:
        raise bad
    return db[index + 1:]
