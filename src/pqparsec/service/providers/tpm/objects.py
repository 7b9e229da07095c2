"""PSA <-> TPM 2.0 structures: key templates, public areas, signature schemes.

tpm2-pytss has no type information; everything from it is `Any` here and turned into plain
Python values at this module's edge.
"""

from __future__ import annotations

import os
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from tpm2_pytss.constants import TPM2_ALG, TPM2_ECC, TPMA_OBJECT
from tpm2_pytss.types import (
    TPM2B_AUTH,
    TPM2B_DIGEST,
    TPM2B_ECC_PARAMETER,
    TPM2B_PRIVATE,
    TPM2B_PRIVATE_KEY_RSA,
    TPM2B_PUBLIC,
    TPM2B_PUBLIC_KEY_RSA,
    TPM2B_SENSITIVE,
    TPM2B_SENSITIVE_CREATE,
    TPMS_SCHEME_HASH,
    TPMS_SENSITIVE_CREATE,
    TPMT_PUBLIC,
    TPMT_SENSITIVE,
    TPMT_SIG_SCHEME,
    TPMU_SIG_SCHEME,
)

from pqparsec.protocol.psa import EccFamily, Hash, KeyAttributes, SignAlg, SignKind, crypto
from pqparsec.protocol.psa.policy import invalid_argument, not_supported

AUTH_LEN = 32  # the size of the name algorithm's digest (SHA-256)

TPM_HASH: dict[Hash, Any] = {
    Hash.SHA_1: TPM2_ALG.SHA1,
    Hash.SHA_256: TPM2_ALG.SHA256,
    Hash.SHA_384: TPM2_ALG.SHA384,
    Hash.SHA_512: TPM2_ALG.SHA512,
}
TPM_CURVE: dict[tuple[EccFamily, int], Any] = {
    (EccFamily.SECP_R1, 256): TPM2_ECC.NIST_P256,
    (EccFamily.SECP_R1, 384): TPM2_ECC.NIST_P384,
}
CURVE_OF: dict[int, ec.EllipticCurve] = {
    int(TPM2_ECC.NIST_P256): ec.SECP256R1(),
    int(TPM2_ECC.NIST_P384): ec.SECP384R1(),
}


def tpm_hash(h: Hash) -> Any:
    alg = TPM_HASH.get(h)
    if alg is None:
        raise not_supported(f"the TPM provider does not support {h.name}")
    return alg


# -- the storage key --------------------------------------------------------------------------

def storage_key_template() -> Any:
    """The TCG "ECC NIST P256" storage root key template (TPM 2.0 Provisioning Guidance):
    re-created from the owner seed it is the same key every time, so nothing needs persisting.
    noDA: a storage key with an empty authorisation value has nothing to guard."""
    p = _restricted_p256_primary(TPMA_OBJECT.DECRYPT)
    d = p.parameters.eccDetail
    d.symmetric.algorithm = TPM2_ALG.AES
    d.symmetric.keyBits.aes = 128
    d.symmetric.mode.aes = TPM2_ALG.CFB
    d.scheme.scheme = TPM2_ALG.NULL
    return TPM2B_PUBLIC(publicArea=p)


def _restricted_p256_primary(usage: Any) -> Any:
    """The TPMT_PUBLIC shared by our primary keys: ECC NIST P-256, SHA-256 names, fixed to the
    TPM, restricted, noDA, an empty unique field (so the same seed gives the same key);
    `usage` is DECRYPT (storage) or SIGN_ENCRYPT (attestation). The caller sets the scheme."""
    p = TPMT_PUBLIC()
    p.type = TPM2_ALG.ECC
    p.nameAlg = TPM2_ALG.SHA256
    p.objectAttributes = (TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT
                          | TPMA_OBJECT.SENSITIVEDATAORIGIN | TPMA_OBJECT.USERWITHAUTH
                          | TPMA_OBJECT.NODA | TPMA_OBJECT.RESTRICTED | usage)
    d = p.parameters.eccDetail
    d.curveID = TPM2_ECC.NIST_P256
    d.kdf.scheme = TPM2_ALG.NULL
    p.unique.ecc.x = TPM2B_ECC_PARAMETER(b"\0" * 32)
    p.unique.ecc.y = TPM2B_ECC_PARAMETER(b"\0" * 32)
    return p


# The TCG EK Credential Profile's PolicySecret(TPM_RH_ENDORSEMENT) digest (SHA-256).
_EK_POLICY = bytes.fromhex("837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa")


def endorsement_key_template() -> Any:
    """The TCG EK Credential Profile's default RSA 2048 endorsement key template (template L-1),
    the attesting key of ActivateCredential, as in Parsec. Its use needs PolicySecret with the
    endorsement hierarchy."""
    p = TPMT_PUBLIC()
    p.type = TPM2_ALG.RSA
    p.nameAlg = TPM2_ALG.SHA256
    p.objectAttributes = (TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT
                          | TPMA_OBJECT.SENSITIVEDATAORIGIN | TPMA_OBJECT.ADMINWITHPOLICY
                          | TPMA_OBJECT.RESTRICTED | TPMA_OBJECT.DECRYPT)
    p.authPolicy = TPM2B_DIGEST(_EK_POLICY)
    d = p.parameters.rsaDetail
    d.symmetric.algorithm = TPM2_ALG.AES
    d.symmetric.keyBits.aes = 128
    d.symmetric.mode.aes = TPM2_ALG.CFB
    d.scheme.scheme = TPM2_ALG.NULL
    d.keyBits = 2048
    d.exponent = 0
    p.unique.rsa = TPM2B_PUBLIC_KEY_RSA(b"\0" * 256)
    return TPM2B_PUBLIC(publicArea=p)


def object_name(public: Any) -> bytes:
    """The TPM name of an object: its name algorithm and the hash of its public area."""
    return bytes(public.get_name())


def public_area(public: Any) -> bytes:
    """The marshalled TPMT_PUBLIC (what the name is the hash of)."""
    return bytes(public.publicArea.marshal())


def attestation_key_template() -> Any:
    """The service's attestation key for Certify (docs/providers-tpm.md): a primary key in the
    endorsement hierarchy, ECC NIST P-256, restricted signing with ECDSA/SHA-256. Re-created
    from the endorsement seed it is the same key at every start; restricted, it signs only
    structures the TPM made itself (never outside data that starts with TPM_GENERATED_VALUE).
    noDA: its authorisation value is empty, there is nothing to guess."""
    p = _restricted_p256_primary(TPMA_OBJECT.SIGN_ENCRYPT)
    d = p.parameters.eccDetail
    d.symmetric.algorithm = TPM2_ALG.NULL
    d.scheme.scheme = TPM2_ALG.ECDSA
    d.scheme.details.ecdsa.hashAlg = TPM2_ALG.SHA256
    return TPM2B_PUBLIC(publicArea=p)


# -- application keys -------------------------------------------------------------------------

def _attributes(attrs: KeyAttributes, generated: bool) -> Any:
    """USERWITHAUTH: used with its own random authorisation value. NODA: that value is random
    and 32 bytes long, so dictionary-attack counting would only let one bad blob lock every
    key of the TPM out. Imported keys cannot be fixedTPM/fixedParent (TPM2_Import)."""
    a = TPMA_OBJECT.USERWITHAUTH | TPMA_OBJECT.NODA
    if generated:
        a |= TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT | TPMA_OBJECT.SENSITIVEDATAORIGIN
    u = attrs.usage
    if attrs.key_type.is_rsa and u.decrypt:
        a |= TPMA_OBJECT.DECRYPT
    if u.sign_hash or u.sign_message or not (attrs.key_type.is_rsa and u.decrypt):
        a |= TPMA_OBJECT.SIGN_ENCRYPT
    return a


def _base_public(attrs: KeyAttributes, generated: bool, auth_policy: bytes = b"") -> Any:
    """`auth_policy`: a PCR-bound key's policy (pcr.py). Its user role then needs a policy
    session (userWithAuth clear); the admin role keeps the authorisation value."""
    p = TPMT_PUBLIC()
    p.nameAlg = TPM2_ALG.SHA256
    p.objectAttributes = _attributes(attrs, generated)
    if auth_policy:
        p.objectAttributes &= ~TPMA_OBJECT.USERWITHAUTH
        p.authPolicy = TPM2B_DIGEST(auth_policy)
    kt = attrs.key_type
    if kt.is_rsa:
        p.type = TPM2_ALG.RSA
        d = p.parameters.rsaDetail
        d.symmetric.algorithm = TPM2_ALG.NULL
        d.scheme.scheme = TPM2_ALG.NULL  # chosen per operation, as the key's policy allows
        d.keyBits = attrs.key_bits
        d.exponent = 0  # 65537
    else:
        assert kt.ecc_family is not None
        curve = TPM_CURVE.get((kt.ecc_family, attrs.key_bits))
        if curve is None:
            raise not_supported(f"{kt.describe()} with {attrs.key_bits} bits is not supported")
        p.type = TPM2_ALG.ECC
        d = p.parameters.eccDetail
        d.symmetric.algorithm = TPM2_ALG.NULL
        d.scheme.scheme = TPM2_ALG.NULL
        d.curveID = curve
        d.kdf.scheme = TPM2_ALG.NULL
    return p


def key_template(attrs: KeyAttributes, auth_policy: bytes = b"") -> Any:
    return TPM2B_PUBLIC(publicArea=_base_public(attrs, generated=True, auth_policy=auth_policy))


def sensitive_create(auth: bytes) -> Any:
    return TPM2B_SENSITIVE_CREATE(TPMS_SENSITIVE_CREATE(userAuth=TPM2B_AUTH(auth)))


def import_structures(attrs: KeyAttributes, key: crypto.PrivateKey, auth: bytes,
                      auth_policy: bytes = b"") -> tuple[Any, Any]:
    """TPM2B_PUBLIC and TPM2B_SENSITIVE of a software private key, for TPM2_Import."""
    p = _base_public(attrs, generated=False, auth_policy=auth_policy)
    s = TPMT_SENSITIVE()
    s.authValue = TPM2B_AUTH(auth)
    s.seedValue = TPM2B_DIGEST(os.urandom(AUTH_LEN))
    if isinstance(key, rsa.RSAPrivateKey):
        nums = key.private_numbers()
        pub = nums.public_numbers
        size = (pub.n.bit_length() + 7) // 8
        p.parameters.rsaDetail.exponent = 0 if pub.e == 65537 else pub.e
        p.unique.rsa = TPM2B_PUBLIC_KEY_RSA(pub.n.to_bytes(size, "big"))
        s.sensitiveType = TPM2_ALG.RSA
        s.sensitive.rsa = TPM2B_PRIVATE_KEY_RSA(nums.p.to_bytes(size // 2, "big"))
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        n = crypto.scalar_len(key.curve.key_size)
        priv = key.private_numbers()
        p.unique.ecc.x = TPM2B_ECC_PARAMETER(priv.public_numbers.x.to_bytes(n, "big"))
        p.unique.ecc.y = TPM2B_ECC_PARAMETER(priv.public_numbers.y.to_bytes(n, "big"))
        s.sensitiveType = TPM2_ALG.ECC
        s.sensitive.ecc = TPM2B_ECC_PARAMETER(priv.private_value.to_bytes(n, "big"))
    else:
        raise not_supported("only RSA and NIST curve keys can be imported into the TPM")
    return TPM2B_PUBLIC(publicArea=p), TPM2B_SENSITIVE(sensitiveArea=s)


def unmarshal_public(data: bytes) -> Any:
    obj, _ = TPM2B_PUBLIC.unmarshal(data)
    return obj


def unmarshal_private(data: bytes) -> Any:
    obj, _ = TPM2B_PRIVATE.unmarshal(data)
    return obj


def public_key(public: Any) -> crypto.PublicKey:
    """The `cryptography` public key of a TPM2B_PUBLIC."""
    area = public.publicArea
    if area.type == TPM2_ALG.RSA:
        n = int.from_bytes(bytes(area.unique.rsa), "big")
        e = int(area.parameters.rsaDetail.exponent) or 65537
        return rsa.RSAPublicNumbers(e, n).public_key()
    if area.type == TPM2_ALG.ECC:
        curve = CURVE_OF.get(int(area.parameters.eccDetail.curveID))
        if curve is None:
            raise not_supported("the stored TPM key is on a curve this provider does not handle")
        x = int.from_bytes(bytes(area.unique.ecc.x), "big")
        y = int.from_bytes(bytes(area.unique.ecc.y), "big")
        return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    raise invalid_argument("the stored TPM key is neither RSA nor ECC")


# -- signatures -------------------------------------------------------------------------------

_SIG_SCHEME = {
    SignKind.RSA_PKCS1V15_SIGN: TPM2_ALG.RSASSA,
    SignKind.RSA_PSS: TPM2_ALG.RSAPSS,
    SignKind.ECDSA: TPM2_ALG.ECDSA,
}


def sig_scheme(alg: SignAlg) -> Any:
    scheme = _SIG_SCHEME.get(alg.kind)
    if scheme is None or not isinstance(alg.hash, Hash):
        raise not_supported(f"{alg.kind.name} is not supported by the TPM provider")
    return TPMT_SIG_SCHEME(scheme=scheme,
                           details=TPMU_SIG_SCHEME(any=TPMS_SCHEME_HASH(hashAlg=tpm_hash(alg.hash))))


def signature_bytes(sig: Any, alg: SignAlg, public: Any) -> bytes:
    """PSA format: the RSA signature as is; ECDSA as r || s, each the size of the curve."""
    if alg.kind == SignKind.RSA_PKCS1V15_SIGN:
        return bytes(sig.signature.rsassa.sig)
    if alg.kind == SignKind.RSA_PSS:
        return bytes(sig.signature.rsapss.sig)
    curve = CURVE_OF[int(public.publicArea.parameters.eccDetail.curveID)]
    n = crypto.scalar_len(curve.key_size)
    r = bytes(sig.signature.ecdsa.signatureR)
    s = bytes(sig.signature.ecdsa.signatureS)
    return r.rjust(n, b"\0") + s.rjust(n, b"\0")
