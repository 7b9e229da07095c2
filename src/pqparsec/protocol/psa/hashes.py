"""PSA hash identifiers -> `cryptography` hash classes: the one table the client, the CLI and
the providers share (each provider still declares which of them it supports)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes

from pqparsec.protocol.psa import Hash

CRYPTOGRAPHY_HASHES: dict[Hash, type[hashes.HashAlgorithm]] = {
    Hash.MD5: hashes.MD5,
    Hash.SHA_1: hashes.SHA1,
    Hash.SHA_224: hashes.SHA224,
    Hash.SHA_256: hashes.SHA256,
    Hash.SHA_384: hashes.SHA384,
    Hash.SHA_512: hashes.SHA512,
    Hash.SHA_512_224: hashes.SHA512_224,
    Hash.SHA_512_256: hashes.SHA512_256,
    Hash.SHA3_224: hashes.SHA3_224,
    Hash.SHA3_256: hashes.SHA3_256,
    Hash.SHA3_384: hashes.SHA3_384,
    Hash.SHA3_512: hashes.SHA3_512,
}
