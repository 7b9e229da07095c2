"""What the PKCS#11 world and the PSA world call the same thing: statuses, hashes, curves, key
types, and the PSA algorithm each PKCS#11 mechanism becomes for a given key policy.

No I/O here: `pqparsec.p11module.token` uses these tables to talk to the service."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pqparsec.client.errors import (
    ClientConfigError,
    KeyTypeError,
    ServiceError,
    TransportError,
)
from pqparsec.p11module import constants as c
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyKind,
    KeyType,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.status import ResponseStatus as S


class P11Error(Exception):
    """A PKCS#11 call fails with this CKR_ value."""

    def __init__(self, rv: int, why: str = "") -> None:
        super().__init__(f"CKR 0x{rv:x}" + (f": {why}" if why else ""))
        self.rv = rv


# -- statuses -------------------------------------------------------------------------------------

# Every status the service can answer, as the CKR_ value a PKCS#11 application understands.
STATUS_TO_CKR: dict[S, int] = {
    S.SUCCESS: c.CKR_OK,
    # Parsec's own statuses: the request or the service set-up is wrong, not the caller's data.
    S.WRONG_PROVIDER_ID: c.CKR_SLOT_ID_INVALID,
    S.CONTENT_TYPE_NOT_SUPPORTED: c.CKR_DEVICE_ERROR,
    S.ACCEPT_TYPE_NOT_SUPPORTED: c.CKR_DEVICE_ERROR,
    S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED: c.CKR_DEVICE_ERROR,
    S.PROVIDER_NOT_REGISTERED: c.CKR_SLOT_ID_INVALID,
    S.PROVIDER_DOES_NOT_EXIST: c.CKR_SLOT_ID_INVALID,
    S.DESERIALIZING_BODY_FAILED: c.CKR_DEVICE_ERROR,
    S.SERIALIZING_BODY_FAILED: c.CKR_DEVICE_ERROR,
    S.OPCODE_DOES_NOT_EXIST: c.CKR_FUNCTION_NOT_SUPPORTED,
    S.RESPONSE_TOO_LARGE: c.CKR_DEVICE_MEMORY,
    S.AUTHENTICATION_ERROR: c.CKR_USER_NOT_LOGGED_IN,
    S.AUTHENTICATOR_DOES_NOT_EXIST: c.CKR_DEVICE_ERROR,
    S.AUTHENTICATOR_NOT_REGISTERED: c.CKR_DEVICE_ERROR,
    S.KEY_INFO_MANAGER_ERROR: c.CKR_DEVICE_ERROR,
    S.CONNECTION_ERROR: c.CKR_DEVICE_ERROR,
    S.INVALID_ENCODING: c.CKR_DATA_INVALID,
    S.INVALID_HEADER: c.CKR_DEVICE_ERROR,
    S.WRONG_PROVIDER_UUID: c.CKR_SLOT_ID_INVALID,
    S.NOT_AUTHENTICATED: c.CKR_USER_NOT_LOGGED_IN,
    S.BODY_SIZE_EXCEEDS_LIMIT: c.CKR_DATA_LEN_RANGE,
    S.ADMIN_OPERATION: c.CKR_USER_TYPE_INVALID,
    S.DEPRECATED_PRIMITIVE: c.CKR_MECHANISM_INVALID,
    # PSA statuses.
    S.PSA_ERROR_GENERIC_ERROR: c.CKR_GENERAL_ERROR,
    S.PSA_ERROR_NOT_PERMITTED: c.CKR_KEY_FUNCTION_NOT_PERMITTED,
    S.PSA_ERROR_NOT_SUPPORTED: c.CKR_MECHANISM_INVALID,
    S.PSA_ERROR_INVALID_ARGUMENT: c.CKR_ARGUMENTS_BAD,
    S.PSA_ERROR_INVALID_HANDLE: c.CKR_KEY_HANDLE_INVALID,
    S.PSA_ERROR_BAD_STATE: c.CKR_FUNCTION_FAILED,
    S.PSA_ERROR_BUFFER_TOO_SMALL: c.CKR_BUFFER_TOO_SMALL,
    S.PSA_ERROR_ALREADY_EXISTS: c.CKR_ATTRIBUTE_VALUE_INVALID,
    S.PSA_ERROR_DOES_NOT_EXIST: c.CKR_KEY_HANDLE_INVALID,
    S.PSA_ERROR_INSUFFICIENT_MEMORY: c.CKR_DEVICE_MEMORY,
    S.PSA_ERROR_INSUFFICIENT_STORAGE: c.CKR_DEVICE_MEMORY,
    S.PSA_ERROR_INSUFFICIENT_DATA: c.CKR_DATA_LEN_RANGE,
    S.PSA_ERROR_COMMUNICATION_FAILURE: c.CKR_DEVICE_ERROR,
    S.PSA_ERROR_STORAGE_FAILURE: c.CKR_DEVICE_ERROR,
    S.PSA_ERROR_HARDWARE_FAILURE: c.CKR_DEVICE_ERROR,
    S.PSA_ERROR_INSUFFICIENT_ENTROPY: c.CKR_DEVICE_ERROR,
    S.PSA_ERROR_INVALID_SIGNATURE: c.CKR_SIGNATURE_INVALID,
    S.PSA_ERROR_INVALID_PADDING: c.CKR_ENCRYPTED_DATA_INVALID,
    S.PSA_ERROR_CORRUPTION_DETECTED: c.CKR_DEVICE_ERROR,
    S.PSA_ERROR_DATA_CORRUPT: c.CKR_DEVICE_ERROR,
    S.PSA_ERROR_DATA_INVALID: c.CKR_DATA_INVALID,
}

# Where the caller's data is what the service found wrong, InvalidArgument means the data.
DATA_CALLS_INVALID_ARGUMENT = c.CKR_DATA_INVALID

# The transport reasons that mean "no service there" (the token is gone) rather than a fault.
_GONE = ("no service socket at", "nothing listens on")


def ckr_for(exc: BaseException, *, data_call: bool = False) -> int:
    """The CKR_ value for an exception of the client library (or a P11Error)."""
    if isinstance(exc, P11Error):
        return exc.rv
    if isinstance(exc, TransportError):
        return c.CKR_DEVICE_REMOVED if exc.reason.startswith(_GONE) else c.CKR_DEVICE_ERROR
    if isinstance(exc, ServiceError):
        if data_call and exc.status == S.PSA_ERROR_INVALID_ARGUMENT:
            return DATA_CALLS_INVALID_ARGUMENT
        return STATUS_TO_CKR.get(exc.status, c.CKR_GENERAL_ERROR)
    if isinstance(exc, ClientConfigError):
        return c.CKR_DEVICE_ERROR  # e.g. Direct authenticator and no application name
    if isinstance(exc, KeyTypeError):
        return c.CKR_KEY_TYPE_INCONSISTENT
    return c.CKR_GENERAL_ERROR


def key_id(name: str) -> bytes:
    """CKA_ID of a key's objects: the first 16 bytes of SHA-256 of its name."""
    return hashlib.sha256(name.encode()).digest()[:16]


# -- hashes ---------------------------------------------------------------------------------------

CKM_TO_HASH = {c.CKM_SHA_1: Hash.SHA_1, c.CKM_SHA224: Hash.SHA_224, c.CKM_SHA256: Hash.SHA_256,
               c.CKM_SHA384: Hash.SHA_384, c.CKM_SHA512: Hash.SHA_512}
MGF_TO_HASH = {c.CKG_MGF1_SHA1: Hash.SHA_1, c.CKG_MGF1_SHA224: Hash.SHA_224,
               c.CKG_MGF1_SHA256: Hash.SHA_256, c.CKG_MGF1_SHA384: Hash.SHA_384,
               c.CKG_MGF1_SHA512: Hash.SHA_512}
HASHLIB_NAMES = {Hash.SHA_1: "sha1", Hash.SHA_224: "sha224", Hash.SHA_256: "sha256",
                 Hash.SHA_384: "sha384", Hash.SHA_512: "sha512"}
HASH_BY_LENGTH = {20: Hash.SHA_1, 28: Hash.SHA_224, 32: Hash.SHA_256, 48: Hash.SHA_384,
                  64: Hash.SHA_512}

# The DER DigestInfo prefix that PKCS#1 v1.5 signatures put before each hash.
DIGEST_INFO = {
    Hash.SHA_1: bytes.fromhex("3021300906052b0e03021a05000414"),
    Hash.SHA_224: bytes.fromhex("302d300d06096086480165030402040500041c"),
    Hash.SHA_256: bytes.fromhex("3031300d060960864801650304020105000420"),
    Hash.SHA_384: bytes.fromhex("3041300d060960864801650304020205000430"),
    Hash.SHA_512: bytes.fromhex("3051300d060960864801650304020305000440"),
}


def new_hash(h: Hash) -> hashlib._Hash:
    return hashlib.new(HASHLIB_NAMES[h])


def split_digest_info(data: bytes) -> tuple[Hash, bytes] | None:
    """(hash, digest) if `data` is a DER DigestInfo of a hash we know, else None."""
    for h, prefix in DIGEST_INFO.items():
        if data.startswith(prefix) and len(data) == len(prefix) + h.digest_size:
            return h, data[len(prefix):]
    return None


# -- curves and key types -------------------------------------------------------------------------

# DER OBJECT IDENTIFIERs (CKA_EC_PARAMS) of the curves the service knows -> (family, bits).
CURVE_OIDS: dict[bytes, tuple[EccFamily, int]] = {
    bytes.fromhex("06082a8648ce3d030107"): (EccFamily.SECP_R1, 256),
    bytes.fromhex("06052b81040022"): (EccFamily.SECP_R1, 384),
    bytes.fromhex("06052b81040023"): (EccFamily.SECP_R1, 521),
    bytes.fromhex("06052b81040021"): (EccFamily.SECP_R1, 224),
    bytes.fromhex("06052b8104000a"): (EccFamily.SECP_K1, 256),
    bytes.fromhex("06032b6570"): (EccFamily.TWISTED_EDWARDS, 255),
    bytes.fromhex("06032b6571"): (EccFamily.TWISTED_EDWARDS, 448),
}
OID_OF_CURVE = {v: k for k, v in CURVE_OIDS.items()}
# PKCS#11 3.0 also lets CKA_EC_PARAMS name an Edwards curve as a PrintableString.
EDWARDS_NAMES = {b"\x13\x0cedwards25519": (EccFamily.TWISTED_EDWARDS, 255),
                 b"\x13\x0aedwards448": (EccFamily.TWISTED_EDWARDS, 448)}


def der_octet_string(data: bytes) -> bytes:
    n = len(data)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return b"\x04" + length + data


def ckk_of(kt: KeyType) -> int | None:
    """The CKK_ of a service key type, or None for one PKCS#11 cannot describe."""
    if kt.is_rsa:
        return c.CKK_RSA
    if kt.is_edwards:
        return c.CKK_EC_EDWARDS
    if kt.is_ecc and kt.ecc_family != EccFamily.MONTGOMERY:
        return c.CKK_EC
    return {KeyKind.AES: c.CKK_AES, KeyKind.HMAC: c.CKK_GENERIC_SECRET,
            KeyKind.RAW_DATA: c.CKK_GENERIC_SECRET, KeyKind.DERIVE: c.CKK_GENERIC_SECRET,
            KeyKind.DES: c.CKK_DES3, KeyKind.CHACHA20: c.CKK_CHACHA20}.get(kt.kind)


def signature_length(kt: KeyType, bits: int) -> int:
    if kt.is_rsa:
        return (bits + 7) // 8
    if kt.is_edwards:
        return 64 if bits == 255 else 114
    return 2 * ((bits + 7) // 8)


# -- mechanisms -----------------------------------------------------------------------------------

ECDSA, PKCS1, PSS, EDDSA = "ecdsa", "pkcs1", "pss", "eddsa"


@dataclass(frozen=True)
class SignMech:
    family: str  # ECDSA, PKCS1, PSS or EDDSA
    hash: Hash | None  # hashed in the module first; None: the caller passes the hash (or message)


SIGN_MECHANISMS: dict[int, SignMech] = {
    c.CKM_ECDSA: SignMech(ECDSA, None),
    c.CKM_ECDSA_SHA1: SignMech(ECDSA, Hash.SHA_1),
    c.CKM_ECDSA_SHA224: SignMech(ECDSA, Hash.SHA_224),
    c.CKM_ECDSA_SHA256: SignMech(ECDSA, Hash.SHA_256),
    c.CKM_ECDSA_SHA384: SignMech(ECDSA, Hash.SHA_384),
    c.CKM_ECDSA_SHA512: SignMech(ECDSA, Hash.SHA_512),
    c.CKM_RSA_PKCS: SignMech(PKCS1, None),
    c.CKM_SHA1_RSA_PKCS: SignMech(PKCS1, Hash.SHA_1),
    c.CKM_SHA224_RSA_PKCS: SignMech(PKCS1, Hash.SHA_224),
    c.CKM_SHA256_RSA_PKCS: SignMech(PKCS1, Hash.SHA_256),
    c.CKM_SHA384_RSA_PKCS: SignMech(PKCS1, Hash.SHA_384),
    c.CKM_SHA512_RSA_PKCS: SignMech(PKCS1, Hash.SHA_512),
    c.CKM_RSA_PKCS_PSS: SignMech(PSS, None),
    c.CKM_SHA1_RSA_PKCS_PSS: SignMech(PSS, Hash.SHA_1),
    c.CKM_SHA224_RSA_PKCS_PSS: SignMech(PSS, Hash.SHA_224),
    c.CKM_SHA256_RSA_PKCS_PSS: SignMech(PSS, Hash.SHA_256),
    c.CKM_SHA384_RSA_PKCS_PSS: SignMech(PSS, Hash.SHA_384),
    c.CKM_SHA512_RSA_PKCS_PSS: SignMech(PSS, Hash.SHA_512),
    c.CKM_EDDSA: SignMech(EDDSA, None),
}

# The policy kinds each mechanism family can be served by.
FAMILY_POLICIES = {
    ECDSA: (SignKind.ECDSA, SignKind.DETERMINISTIC_ECDSA, SignKind.ECDSA_ANY),
    PKCS1: (SignKind.RSA_PKCS1V15_SIGN, SignKind.RSA_PKCS1V15_SIGN_RAW),
    PSS: (SignKind.RSA_PSS,),
    EDDSA: (SignKind.PURE_EDDSA,),
}


def family_fits_key(family: str, kt: KeyType) -> bool:
    if family == EDDSA:
        return kt.is_edwards
    if family == ECDSA:
        return kt.is_ecc and not kt.is_edwards and kt.ecc_family != EccFamily.MONTGOMERY
    return kt.is_rsa


@dataclass(frozen=True)
class SignPlan:
    """What to send for one signature: PsaSignHash with `alg` over `payload`, or with `message`
    PsaSignMessage over the whole data."""

    alg: SignAlg
    payload: bytes
    message: bool = False


def plan_signature(mech: SignMech, policy: SignAlg, data: bytes,
                   pss_hash: Hash | None = None) -> SignPlan:
    """The PSA request that makes the PKCS#11 signature of `data` (the whole input of C_Sign).

    Raises P11Error for input the mechanism cannot take."""
    if mech.family == EDDSA:
        return SignPlan(policy, data, message=True)
    h = mech.hash
    if h is not None:
        digest = new_hash(h)
        digest.update(data)
        data = digest.digest()
    if mech.family == ECDSA:
        if policy.kind == SignKind.ECDSA_ANY:
            return SignPlan(policy, data)
        if h is None:  # CKM_ECDSA: the caller's hash; its length says which hash it is
            h = HASH_BY_LENGTH.get(len(data))
            if h is None:
                raise P11Error(c.CKR_DATA_LEN_RANGE, "CKM_ECDSA takes a SHA-1/SHA-2 hash")
        return SignPlan(SignAlg(policy.kind, h), data)
    if mech.family == PKCS1:
        if policy.kind == SignKind.RSA_PKCS1V15_SIGN_RAW:
            return SignPlan(policy, DIGEST_INFO[h] + data if h is not None else data)
        if h is None:  # CKM_RSA_PKCS: the caller's DigestInfo
            split = split_digest_info(data)
            if split is None:
                raise P11Error(c.CKR_DATA_INVALID, "CKM_RSA_PKCS with this key takes a "
                               "DigestInfo of a SHA-1/SHA-2 hash")
            h, data = split
        return SignPlan(SignAlg(SignKind.RSA_PKCS1V15_SIGN, h), data)
    # PSS
    h = h or pss_hash
    assert h is not None
    if len(data) != h.digest_size:
        raise P11Error(c.CKR_DATA_LEN_RANGE, "CKM_RSA_PKCS_PSS takes the hash the parameters name")
    return SignPlan(SignAlg(SignKind.RSA_PSS, h), data)


def policy_permits_mech(policy: SignAlg, mech: SignMech) -> bool:
    """Can a key whose policy is `policy` serve `mech` at all (its hash included)?"""
    if policy.kind not in FAMILY_POLICIES[mech.family]:
        return False
    if mech.hash is None or policy.kind in (SignKind.ECDSA_ANY, SignKind.RSA_PKCS1V15_SIGN_RAW):
        return True
    return policy.hash == mech.hash or policy.hash is ANY_HASH


def encrypt_alg_for(mech: int, policy: EncryptAlg, oaep_hash: Hash | None) -> EncryptAlg:
    if mech == c.CKM_RSA_PKCS and policy.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
        return policy
    if mech == c.CKM_RSA_PKCS_OAEP and policy.kind == EncryptKind.RSA_OAEP:
        return EncryptAlg(EncryptKind.RSA_OAEP, oaep_hash)
    raise P11Error(c.CKR_KEY_FUNCTION_NOT_PERMITTED, "the key's policy is another algorithm")


def mechanisms_of_policy(kt: KeyType, policy: object) -> list[int]:
    """The mechanisms a key with this policy serves (CKA_ALLOWED_MECHANISMS)."""
    if isinstance(policy, SignAlg):
        return [m for m, sm in SIGN_MECHANISMS.items()
                if family_fits_key(sm.family, kt) and policy_permits_mech(policy, sm)]
    if isinstance(policy, EncryptAlg):
        return [c.CKM_RSA_PKCS_OAEP if policy.kind == EncryptKind.RSA_OAEP else c.CKM_RSA_PKCS]
    return []
