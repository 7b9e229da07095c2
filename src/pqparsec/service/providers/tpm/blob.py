"""The key id a TPM key keeps in the key store: our own versioned serialisation.

    "PQTPM" | version (1 byte) | kind (1 byte) | fields, each a 4-byte big-endian length + bytes

kind 1, a key pair held by the TPM: the name of the storage key it was created under (so a key
from another TPM, or from before a TPM clear, is recognised without asking the TPM to load it),
its authorisation value, and its TPM2B_PUBLIC and TPM2B_PRIVATE (the private part is wrapped by
the storage key: only that TPM can load it). A key bound to PCRs (pcr.py) has a fifth field: the
PCR values it was bound to, concatenated, so a refusal can name the PCR that changed (absent
when the caller gave the digest; the digest itself is in the key's attributes).
kind 2, a public key: its PSA export format. Public keys never need the TPM.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pqparsec.protocol.status import ParsecError, ResponseStatus

MAGIC = b"PQTPM"
VERSION = 1
KIND_TPM = 1
KIND_PUBLIC = 2


@dataclass(frozen=True)
class TpmKeyBlob:
    parent_name: bytes
    auth: bytes = field(repr=False)
    public: bytes  # marshalled TPM2B_PUBLIC
    private: bytes = field(repr=False)  # marshalled TPM2B_PRIVATE
    pcr_values: bytes = b""  # PCR-bound keys: the values bound to, when known


@dataclass(frozen=True)
class PublicKeyBlob:
    data: bytes  # PSA public key format


KeyBlob = TpmKeyBlob | PublicKeyBlob


def _fields(*parts: bytes) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def encode(blob: KeyBlob) -> bytes:
    if isinstance(blob, TpmKeyBlob):
        extra = (blob.pcr_values,) if blob.pcr_values else ()
        return MAGIC + bytes([VERSION, KIND_TPM]) + _fields(blob.parent_name, blob.auth,
                                                            blob.public, blob.private, *extra)
    return MAGIC + bytes([VERSION, KIND_PUBLIC]) + _fields(blob.data)


def _invalid(msg: str) -> ParsecError:
    return ParsecError(ResponseStatus.PSA_ERROR_DATA_INVALID, f"stored TPM key: {msg}")


def decode(data: bytes) -> KeyBlob:
    head = len(MAGIC) + 2
    if len(data) < head or not data.startswith(MAGIC):
        raise _invalid("not in a known format")
    version, kind = data[len(MAGIC)], data[len(MAGIC) + 1]
    if version != VERSION:
        raise _invalid(f"format version {version} is not understood by this pqparsec")
    parts: list[bytes] = []
    pos = head
    while pos < len(data):
        if pos + 4 > len(data):
            raise _invalid("truncated")
        n = int.from_bytes(data[pos:pos + 4], "big")
        pos += 4
        if pos + n > len(data):
            raise _invalid("truncated")
        parts.append(data[pos:pos + n])
        pos += n
    if kind == KIND_TPM and len(parts) in (4, 5):
        return TpmKeyBlob(*parts)
    if kind == KIND_PUBLIC and len(parts) == 1:
        return PublicKeyBlob(parts[0])
    raise _invalid(f"kind {kind} with {len(parts)} fields")
