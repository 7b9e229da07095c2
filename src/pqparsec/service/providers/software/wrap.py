"""Key material at rest: AES-256-GCM under a key-encryption key (KEK) kept in a 0600 file.

The associated data binds a wrapped key to its owner, provider, name and attributes (type, size,
policy), so a row copied to another owner, renamed, or given a wider policy (say, the export
flag) in the key store fails to unwrap (PsaErrorDataCorrupt) instead of handing over a key.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pqparsec.protocol.psa import KeyAttributes
from pqparsec.protocol.psa.convert import attributes_to_bytes
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.files import make_dirs
from pqparsec.service.identity import Identity

FORMAT = b"PQW2"
KEK_LEN = 32


def load_or_create_kek(path: str) -> bytes:
    """Read the KEK, creating it (0600, atomically) on first start."""
    try:
        with open(path, "rb") as f:
            kek = f.read()
    except FileNotFoundError:
        make_dirs(os.path.dirname(os.path.abspath(path)), 0o700)
        kek = os.urandom(KEK_LEN)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, kek)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # fails if another process created it meanwhile
        except FileExistsError:
            os.unlink(tmp)
            return load_or_create_kek(path)
        os.unlink(tmp)
        return kek
    mode = os.stat(path).st_mode & 0o777
    if mode & 0o077:
        raise ParsecError(ResponseStatus.PSA_ERROR_STORAGE_FAILURE,
                          f"key-encryption key {path} is readable by others (mode {mode:o}); "
                          "chmod 600 it")
    if len(kek) != KEK_LEN:
        raise ParsecError(ResponseStatus.PSA_ERROR_DATA_CORRUPT,
                          f"key-encryption key {path} has {len(kek)} bytes, expected {KEK_LEN}")
    return kek


class KeyWrapper:
    def __init__(self, kek: bytes, provider_name: str) -> None:
        self._aead = AESGCM(kek)
        self.provider_name = provider_name

    def _ad(self, owner: Identity, key_name: str, attributes: KeyAttributes) -> bytes:
        parts = [FORMAT, str(int(owner.auth_type)).encode(), owner.name.encode(),
                 self.provider_name.encode(), key_name.encode(), attributes_to_bytes(attributes)]
        return b"".join(len(p).to_bytes(4, "big") + p for p in parts)

    def wrap(self, owner: Identity, key_name: str, attributes: KeyAttributes,
             material: bytes | bytearray) -> bytes:
        nonce = os.urandom(12)
        return FORMAT + nonce + self._aead.encrypt(nonce, bytes(material),
                                                   self._ad(owner, key_name, attributes))

    def unwrap(self, owner: Identity, key_name: str, attributes: KeyAttributes,
               blob: bytes) -> bytearray:
        if not blob.startswith(FORMAT) or len(blob) < len(FORMAT) + 12 + 16:
            raise ParsecError(ResponseStatus.PSA_ERROR_DATA_INVALID,
                              f"key {key_name!r}: stored key is not in a known format")
        nonce = blob[len(FORMAT):len(FORMAT) + 12]
        try:
            return bytearray(self._aead.decrypt(nonce, blob[len(FORMAT) + 12:],
                                                self._ad(owner, key_name, attributes)))
        except InvalidTag:
            raise ParsecError(ResponseStatus.PSA_ERROR_DATA_CORRUPT,
                              f"key {key_name!r}: stored key fails its integrity check") from None


def wipe(buf: bytearray) -> None:
    """Overwrite a buffer we own. Copies made by libraries are beyond our reach."""
    for i in range(len(buf)):
        buf[i] = 0
