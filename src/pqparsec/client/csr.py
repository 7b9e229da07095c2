"""Certificate signing requests (PKCS#10) signed by a key that stays in the service.

`build_csr` fills a `cryptography` CSR builder and signs it through an adapter (`adapter.py`):
RSA and ECDSA keys sign the hash (PsaSignHash), as parsec-tool's create-csr does; Ed25519,
Ed448 and ML-DSA keys (pqparsec protocol extension) sign the CertificationRequestInfo itself
(PsaSignMessage). The signature AlgorithmIdentifier is the scheme's: Ed25519 1.3.101.112,
Ed448 1.3.101.113, ML-DSA-44/65/87 2.16.840.1.101.3.4.3.17/18/19 (pure ML-DSA with an empty
context, as the LAMPS ML-DSA certificate profile, RFC 9881, prescribes; HashML-DSA keys are
refused).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from pqparsec.client.adapter import service_private_key
from pqparsec.client.errors import KeyTypeError
from pqparsec.protocol.operations import KeyInfo
from pqparsec.protocol.psa import AnyHash, EccFamily, Hash, KeyKind, SignAlg, SignKind

if TYPE_CHECKING:
    from pqparsec.client.basic import BasicClient

CsrHash = hashes.SHA256 | hashes.SHA384 | hashes.SHA512
_CSR_HASHES: dict[Hash, type[CsrHash]] = {Hash.SHA_256: hashes.SHA256, Hash.SHA_384: hashes.SHA384,
                                          Hash.SHA_512: hashes.SHA512}


def csr_signature(info: KeyInfo) -> tuple[CsrHash | None, padding.PSS | padding.PKCS1v15 | None]:
    """The hash (and RSA padding) a CSR is signed with, from the key's policy: RSA PKCS#1 v1.5 or
    PSS with SHA-256/384/512, ECDSA on P-256/384/521 with the curve's hash (as parsec-tool
    chooses them); no hash for PureEdDSA and pure ML-DSA, which sign the request itself."""
    attrs = info.attributes
    alg = attrs.algorithm
    if not isinstance(alg, SignAlg):
        raise KeyTypeError(f"key {info.name!r} is not a signing key, which a CSR needs")
    kt = attrs.key_type
    if alg.kind in (SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PSS):
        h = Hash.SHA_256 if isinstance(alg.hash, AnyHash) or alg.hash is None else alg.hash
        if h not in _CSR_HASHES:
            raise KeyTypeError(f"key {info.name!r} requires {h.name}, which CSRs do not use")
        algo = _CSR_HASHES[h]()
        if alg.kind == SignKind.RSA_PSS:
            return algo, padding.PSS(padding.MGF1(algo), padding.PSS.DIGEST_LENGTH)
        return algo, padding.PKCS1v15()
    if alg.kind in (SignKind.ECDSA, SignKind.DETERMINISTIC_ECDSA):
        if kt.kind != KeyKind.ECC_KEY_PAIR or kt.ecc_family != EccFamily.SECP_R1:
            raise KeyTypeError("CSRs need an ECDSA key on a SECP-R1 (NIST P) curve")
        expected = {256: Hash.SHA_256, 384: Hash.SHA_384, 521: Hash.SHA_512}.get(attrs.key_bits)
        if expected is None:
            raise KeyTypeError(f"CSRs need a P-256, P-384 or P-521 key, not {attrs.key_bits} bits")
        h = expected if isinstance(alg.hash, AnyHash) or alg.hash is None else alg.hash
        if h != expected:
            raise KeyTypeError(f"a {attrs.key_bits}-bit key signs CSRs with {expected.name}, but "
                               f"the key's policy requires {h.name}")
        return _CSR_HASHES[h](), None
    if alg.kind == SignKind.PURE_EDDSA:
        if kt.kind != KeyKind.ECC_KEY_PAIR or attrs.key_bits not in (255, 448):
            raise KeyTypeError("CSRs with PureEdDSA need an Ed25519 or Ed448 key pair")
        return None, None
    if alg.kind in (SignKind.ML_DSA, SignKind.DETERMINISTIC_ML_DSA):
        return None, None
    if alg.kind in (SignKind.HASH_ML_DSA, SignKind.DETERMINISTIC_HASH_ML_DSA):
        raise KeyTypeError(f"key {info.name!r} permits HashML-DSA only; X.509 uses pure ML-DSA "
                           "(create the key without --hash)")
    raise KeyTypeError(f"{alg.kind.name} signatures cannot sign a CSR")


def build_csr(client: BasicClient, key_name: str, subject: x509.Name, *,
              sans: Iterable[x509.GeneralName] = (),
              extensions: Iterable[tuple[x509.ExtensionType, bool]] = ()
              ) -> x509.CertificateSigningRequest:
    """A CSR for `subject` with the public key of the service's key `key_name`, signed by it.

    `sans` become a (non-critical) SubjectAlternativeName extension; `extensions` are further
    (extension, critical) pairs. Raises KeyTypeError when the key cannot sign a CSR."""
    info = client.key_info(key_name)
    algo, pad = csr_signature(info)
    key = service_private_key(client, key_name, info)
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    names = list(sans)
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    if pad is not None:
        return builder.sign(key, algo, rsa_padding=pad)
    return builder.sign(key, algo)


__all__ = ["build_csr", "csr_signature"]
