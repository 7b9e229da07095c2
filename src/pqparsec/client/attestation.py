"""Key attestation with TPM2_Certify (a pqparsec extension of AttestKey, docs/protocol-extensions.md
"Key attestation: Certify"), and a verifier that needs only `cryptography`.

`certify_key()` (also `BasicClient.certify_key`) asks the TPM provider to certify one of the
application's keys; `verify_certify()` checks what comes back. The TPM structures are parsed
here with `struct` (TPM 2.0 Library, Part 2: big-endian, TPM2B = 2-byte size + bytes), so a
verifier needs neither tpm2-pytss nor a TPM.

What a verified statement proves: a TPM holding the attesting key had an object loaded whose
name is nameAlg || H(TPMT_PUBLIC) of the attested key, when it was asked with this nonce. The
object's attributes (in that TPMT_PUBLIC) then say whether its private key was generated in the
TPM and can never leave it (fixedTPM, sensitiveDataOrigin). How far the signature can be
trusted depends on the attesting key: the service's attestation key is restricted, so the TPM
signs with it only statements it made itself; an application signing key is not restricted and
would sign any digest its owner asks for, including that of a forged statement.
"""

from __future__ import annotations

import hmac
import os
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from pqparsec.protocol import operations as ops
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import EccFamily, Hash, crypto

if TYPE_CHECKING:
    from pqparsec.client.basic import BasicClient

__all__ = [
    "NONCE_LEN", "NONCE_MAX", "AttestationVerificationError", "CertifyAttestation",
    "CertifyStatement", "TpmPublic", "VerifiedCertify", "certify_key", "parse_attest",
    "parse_public", "verify_certify",
]

NONCE_LEN = 32   # the nonce certify_key makes when the caller gives none
NONCE_MAX = 64   # the most the service accepts (TPM2B_DATA)

TPM_GENERATED_VALUE = 0xFF544347
TPM_ST_ATTEST_CERTIFY = 0x8017

# TPM_ALG_ID values (TPM 2.0 Library, Part 2, table 9) used here.
ALG_RSA = 0x0001
ALG_SHA1 = 0x0004
ALG_SHA256 = 0x000B
ALG_SHA384 = 0x000C
ALG_SHA512 = 0x000D
ALG_NULL = 0x0010
ALG_RSASSA = 0x0014
ALG_RSAES = 0x0015
ALG_RSAPSS = 0x0016
ALG_OAEP = 0x0017
ALG_ECDSA = 0x0018
ALG_ECDAA = 0x001A
ALG_ECC = 0x0023

# TPMA_OBJECT bits
FIXED_TPM = 0x00000002
FIXED_PARENT = 0x00000010
SENSITIVE_DATA_ORIGIN = 0x00000020
RESTRICTED = 0x00010000
SIGN_ENCRYPT = 0x00040000

# TPM_ALG_ID of a hash -> the PSA hash; TPM_ECC_CURVE -> (PSA curve family, bits). Both turn
# into `cryptography` objects through pqparsec.protocol.psa.crypto, as everywhere else.
_HASHES: dict[int, Hash] = {
    ALG_SHA1: Hash.SHA_1, ALG_SHA256: Hash.SHA_256, ALG_SHA384: Hash.SHA_384,
    ALG_SHA512: Hash.SHA_512,
}
_CURVES: dict[int, tuple[EccFamily, int]] = {
    0x0003: (EccFamily.SECP_R1, 256), 0x0004: (EccFamily.SECP_R1, 384),
    0x0005: (EccFamily.SECP_R1, 521),
}


class AttestationVerificationError(Exception):
    """The statement does not prove what it should: malformed, badly signed, for another nonce,
    another key, or signed by a key other than the expected one. The message says which."""


# -- what the service returns ---------------------------------------------------------------------

@dataclass(frozen=True)
class CertifyAttestation:
    """The service's answer to a Certify request, with the nonce it was asked with."""
    key_name: str
    attesting_key_name: str       # "" = the service's attestation key
    nonce: bytes
    attest: bytes                 # marshalled TPMS_ATTEST: what was signed
    signature: bytes              # marshalled TPMT_SIGNATURE
    attested_key_public: bytes    # marshalled TPMT_PUBLIC of the attested key
    attesting_key_public: bytes   # marshalled TPMT_PUBLIC of the attesting key


def certify_key(client: BasicClient, key_name: str, nonce: bytes | None = None,
                attesting_key_name: str = "", provider: int | None = None) -> CertifyAttestation:
    """AttestKey with the Certify mechanism: the TPM certifies key `key_name`, signing with the
    application's key `attesting_key_name` (usage sign_hash) or, if "", with the service's
    attestation key. `nonce` (at most 64 bytes) defaults to 32 random bytes.

    Raises NotSupported from a provider other than the TPM's (or a service without the
    extension), KeyNotFound, NotPermitted (attesting key without sign_hash), InvalidArgument."""
    if nonce is None:
        nonce = os.urandom(NONCE_LEN)
    nonce = bytes(nonce)
    if len(nonce) > NONCE_MAX:
        raise ValueError(f"the nonce has {len(nonce)} bytes; at most {NONCE_MAX} are allowed")
    request = ops.AttestKeyRequest(
        key_name, ops.AttestationMechanismParams(certify=ops.CertifyParams(nonce)),
        attesting_key_name)
    result = client.call(Opcode.ATTEST_KEY, request, provider=provider)
    out = result.output.certify
    if out is None:  # a service without the extension would not answer a mechanism it ignored
        raise AttestationVerificationError("the service answered without a Certify output")
    return CertifyAttestation(key_name, attesting_key_name, nonce, bytes(out.attest),
                              bytes(out.signature), bytes(out.attested_key_public),
                              bytes(out.attesting_key_public))


# -- parsing TPM structures -----------------------------------------------------------------------

class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data = bytes(data)
        self.pos = 0
        self.what = what

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise AttestationVerificationError(f"{self.what}: truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return int(self.take(1)[0])

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack(">Q", self.take(8))[0])

    def tpm2b(self) -> bytes:
        return self.take(self.u16())

    def end(self) -> None:
        if self.pos != len(self.data):
            raise AttestationVerificationError(
                f"{self.what}: {len(self.data) - self.pos} trailing bytes")


@dataclass(frozen=True)
class TpmPublic:
    """A TPMT_PUBLIC of an RSA or ECC key."""
    raw: bytes
    type: int
    name_alg: int
    object_attributes: int
    auth_policy: bytes
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey

    @property
    def name(self) -> bytes:
        """The TPM name: nameAlg (2 bytes) || H_nameAlg(TPMT_PUBLIC)."""
        alg = _HASHES.get(self.name_alg)
        if alg is None:
            raise AttestationVerificationError(f"name algorithm 0x{self.name_alg:04x} is not "
                                               "supported")
        return struct.pack(">H", self.name_alg) + crypto.digest(alg, self.raw)

    @property
    def generated_in_tpm(self) -> bool:
        """fixedTPM and sensitiveDataOrigin: the TPM made the private key and it cannot leave
        this TPM (an imported key has neither)."""
        want = FIXED_TPM | SENSITIVE_DATA_ORIGIN
        return self.object_attributes & want == want

    @property
    def restricted(self) -> bool:
        return bool(self.object_attributes & RESTRICTED)


def _skip_sym(r: _Reader) -> None:
    if r.u16() != ALG_NULL:  # TPMT_SYM_DEF_OBJECT: keyBits, mode
        r.u16()
        r.u16()


def parse_public(data: bytes) -> TpmPublic:
    """A marshalled TPMT_PUBLIC (RSA or ECC key); the whole buffer must be one."""
    r = _Reader(data, "TPMT_PUBLIC")
    type_, name_alg, attrs = r.u16(), r.u16(), r.u32()
    policy = r.tpm2b()
    key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
    if type_ == ALG_RSA:
        _skip_sym(r)
        scheme = r.u16()
        if scheme in (ALG_RSASSA, ALG_RSAPSS, ALG_OAEP):
            r.u16()
        elif scheme not in (ALG_NULL, ALG_RSAES):
            raise AttestationVerificationError(f"TPMT_PUBLIC: RSA scheme 0x{scheme:04x} is not "
                                               "supported")
        r.u16()  # keyBits
        exponent = r.u32() or 65537
        modulus = r.tpm2b()
        if not modulus:
            raise AttestationVerificationError("TPMT_PUBLIC: empty RSA modulus")
        key = rsa.RSAPublicNumbers(exponent, int.from_bytes(modulus, "big")).public_key()
    elif type_ == ALG_ECC:
        _skip_sym(r)
        scheme = r.u16()
        if scheme != ALG_NULL:
            r.u16()  # hashAlg
            if scheme == ALG_ECDAA:
                r.u16()  # count
        curve_id = r.u16()
        if r.u16() != ALG_NULL:  # TPMT_KDF_SCHEME
            r.u16()
        x, y = r.tpm2b(), r.tpm2b()
        params = _CURVES.get(curve_id)
        if params is None:
            raise AttestationVerificationError(f"TPMT_PUBLIC: curve 0x{curve_id:04x} is not "
                                               "supported")
        try:
            key = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                                crypto.curve_for(*params)).public_key()
        except ValueError:
            raise AttestationVerificationError("TPMT_PUBLIC: the point is not on the curve"
                                               ) from None
    else:
        raise AttestationVerificationError(f"TPMT_PUBLIC: key type 0x{type_:04x} is neither RSA "
                                           "nor ECC")
    r.end()
    return TpmPublic(bytes(data), type_, name_alg, attrs, policy, key)


@dataclass(frozen=True)
class CertifyStatement:
    """A TPMS_ATTEST of type TPM_ST_ATTEST_CERTIFY."""
    qualified_signer: bytes
    extra_data: bytes
    clock: int
    reset_count: int
    restart_count: int
    safe: bool
    firmware_version: int
    name: bytes             # the certified object's name
    qualified_name: bytes   # and its qualified name (includes its parents')


def parse_attest(data: bytes) -> CertifyStatement:
    """A marshalled TPMS_ATTEST; its magic must be TPM_GENERATED_VALUE, its type
    TPM_ST_ATTEST_CERTIFY."""
    r = _Reader(data, "TPMS_ATTEST")
    magic, type_ = r.u32(), r.u16()
    if magic != TPM_GENERATED_VALUE:
        raise AttestationVerificationError(f"TPMS_ATTEST: magic 0x{magic:08x} is not "
                                           "TPM_GENERATED_VALUE (0xff544347)")
    if type_ != TPM_ST_ATTEST_CERTIFY:
        raise AttestationVerificationError(f"TPMS_ATTEST: type 0x{type_:04x} is not "
                                           "TPM_ST_ATTEST_CERTIFY (0x8017)")
    signer, extra = r.tpm2b(), r.tpm2b()
    clock, resets, restarts, safe = r.u64(), r.u32(), r.u32(), r.u8()
    firmware = r.u64()
    name, qualified = r.tpm2b(), r.tpm2b()
    r.end()
    return CertifyStatement(signer, extra, clock, resets, restarts, bool(safe), firmware, name,
                            qualified)


def _verify_signature(signature: bytes, attest: bytes, signer: TpmPublic) -> None:
    r = _Reader(signature, "TPMT_SIGNATURE")
    sig_alg = r.u16()
    if sig_alg not in (ALG_RSASSA, ALG_RSAPSS, ALG_ECDSA):
        raise AttestationVerificationError(f"TPMT_SIGNATURE: scheme 0x{sig_alg:04x} is not "
                                           "supported (RSASSA, RSAPSS, ECDSA)")
    psa_hash = _HASHES.get(r.u16())
    if psa_hash is None:
        raise AttestationVerificationError("TPMT_SIGNATURE: unsupported hash algorithm")
    h = crypto.hash_algorithm(psa_hash)
    key = signer.public_key
    try:
        if sig_alg == ALG_ECDSA:
            sig_r, sig_s = r.tpm2b(), r.tpm2b()
            r.end()
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise AttestationVerificationError("an ECDSA signature from an RSA attesting key")
            key.verify(crypto.ecdsa_rs_to_der(sig_r, sig_s), attest, ec.ECDSA(h))
        else:
            sig = r.tpm2b()
            r.end()
            if not isinstance(key, rsa.RSAPublicKey):
                raise AttestationVerificationError("an RSA signature from an ECC attesting key")
            pad: padding.AsymmetricPadding = padding.PKCS1v15() if sig_alg == ALG_RSASSA else \
                padding.PSS(padding.MGF1(h), padding.PSS.AUTO)
            key.verify(sig, attest, pad, h)
    except InvalidSignature:
        raise AttestationVerificationError("the signature over the statement does not verify "
                                           "with the attesting key") from None


def _same_key(a: rsa.RSAPublicKey | ec.EllipticCurvePublicKey, b: object) -> bool:
    if not isinstance(b, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        return False
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_bytes(*spki) == b.public_bytes(*spki)


@dataclass(frozen=True)
class VerifiedCertify:
    """What a verified Certify statement says."""
    statement: CertifyStatement
    attested_key: TpmPublic
    attesting_key: TpmPublic


def verify_certify(attestation: CertifyAttestation, nonce: bytes | None = None, *,
                   attested_public_key: object | None = None,
                   attesting_public_key: object | None = None,
                   require_generated_in_tpm: bool = False) -> VerifiedCertify:
    """Check a Certify statement; raise AttestationVerificationError on any mismatch.

    * the signature over `attest` verifies with the attesting key's public area (and that key
      is `attesting_public_key`, a `cryptography` public key, if given: only then is the
      signer one you trust);
    * `attest` is a TPMS_ATTEST made by a TPM (magic TPM_GENERATED_VALUE) of type
      TPM_ST_ATTEST_CERTIFY, whose extraData is `nonce` (default: the nonce the request was
      sent with) and whose certified name is the TPM name of the attested key's TPMT_PUBLIC;
    * that TPMT_PUBLIC holds `attested_public_key` if given (e.g. the key's exported public
      key, so the name is bound to the key you use);
    * with `require_generated_in_tpm`, the attested key has fixedTPM and sensitiveDataOrigin.
    """
    expected_nonce = attestation.nonce if nonce is None else bytes(nonce)
    attested = parse_public(attestation.attested_key_public)
    signer = parse_public(attestation.attesting_key_public)
    if attesting_public_key is not None and not _same_key(signer.public_key,
                                                          attesting_public_key):
        raise AttestationVerificationError("the statement was signed by another key than the "
                                           "expected attesting key")
    if not signer.object_attributes & SIGN_ENCRYPT:
        raise AttestationVerificationError("the attesting key is not a signing key")
    _verify_signature(attestation.signature, attestation.attest, signer)
    statement = parse_attest(attestation.attest)
    if not hmac.compare_digest(statement.extra_data, expected_nonce):
        raise AttestationVerificationError("the statement is for another nonce (extraData "
                                           "differs): it may be a replay")
    if not hmac.compare_digest(statement.name, attested.name):
        raise AttestationVerificationError("the certified name is not the attested key's name: "
                                           "the statement is about another key")
    if attested_public_key is not None and not _same_key(attested.public_key,
                                                         attested_public_key):
        raise AttestationVerificationError("the attested key's public area holds another public "
                                           "key than the expected one")
    if require_generated_in_tpm and not attested.generated_in_tpm:
        raise AttestationVerificationError("the attested key was not generated in this TPM "
                                           "(fixedTPM or sensitiveDataOrigin is clear)")
    return VerifiedCertify(statement, attested, signer)
