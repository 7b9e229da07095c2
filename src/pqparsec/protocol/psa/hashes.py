"""PSA identifiers -> `cryptography` classes (hashes, Weierstrass curves): the tables the client,
the CLI and the providers share (each provider still declares which of them it supports)."""

from __future__ import annotations

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from pqparsec.protocol.psa import EccFamily, Hash

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


class RIPEMD160(hashes.HashAlgorithm):
    """RIPEMD-160. `cryptography` has no class for it but looks a hash up in OpenSSL by `name`, so
    this one works (digests, HMAC, signatures) wherever OpenSSL has RIPEMD-160 (its default
    provider does since 3.0.7). Kept out of CRYPTOGRAPHY_HASHES, whose classes `cryptography`
    always has: a table that adds it filters itself through `computable`."""

    name = "ripemd160"
    digest_size = 20
    block_size = 64


def computable(table: dict[Hash, type[hashes.HashAlgorithm]]) -> dict[Hash, type[hashes.HashAlgorithm]]:
    """The entries of `table` that this OpenSSL computes."""
    out: dict[Hash, type[hashes.HashAlgorithm]] = {}
    for h, cls in table.items():
        try:
            hashes.Hash(cls())
        except UnsupportedAlgorithm:
            continue
        out[h] = cls
    return out


WEIERSTRASS: dict[tuple[EccFamily, int], type[ec.EllipticCurve]] = {
    (EccFamily.SECP_R1, 192): ec.SECP192R1,
    (EccFamily.SECP_R1, 224): ec.SECP224R1,
    (EccFamily.SECP_R1, 256): ec.SECP256R1,
    (EccFamily.SECP_R1, 384): ec.SECP384R1,
    (EccFamily.SECP_R1, 521): ec.SECP521R1,
    (EccFamily.SECP_K1, 256): ec.SECP256K1,
    (EccFamily.BRAINPOOL_P_R1, 256): ec.BrainpoolP256R1,
    (EccFamily.BRAINPOOL_P_R1, 384): ec.BrainpoolP384R1,
    (EccFamily.BRAINPOOL_P_R1, 512): ec.BrainpoolP512R1,
}
