"""Protobuf <-> PSA model. Decoding rejects what Parsec's codec rejects: a oneof with no member
and enum value 0 ("NONE, should not be used") are InvalidEncoding."""

from __future__ import annotations

from enum import IntEnum
from typing import Any, TypeVar

from google.protobuf.message import DecodeError

from pqparsec.protocol.proto import psa_key_attributes_pb2 as attr_pb
from pqparsec.protocol.psa import (
    ANY_HASH,
    AeadAlg,
    AeadKind,
    Algorithm,
    AnyHash,
    CipherAlg,
    CipherMode,
    DhFamily,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    HashAlg,
    KdfAlg,
    KdfKind,
    KemAlg,
    KemKind,
    KeyAgreementAlg,
    KeyAttributes,
    KeyKind,
    KeyPolicy,
    KeyType,
    MacAlg,
    MacKind,
    NoAlgorithm,
    PcrBinding,
    RawKeyAgreement,
    SignAlg,
    SignKind,
    SlhDsaFamily,
    UsageFlags,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus

E = TypeVar("E", bound=IntEnum)

# Generated protobuf classes are untyped to mypy.
Msg = Any


def invalid(what: str) -> ParsecError:
    return ParsecError(ResponseStatus.INVALID_ENCODING, what)


def enum_value(cls: type[E], value: int, what: str, zero_ok: bool = False) -> E:
    if value == 0 and not zero_ok:
        raise invalid(f"{what}: value 0 (NONE) is not allowed")
    try:
        return cls(value)
    except ValueError:
        raise invalid(f"{what}: unknown value {value}") from None


def _member(msg: Any, oneof: str, what: str) -> str:
    name = msg.WhichOneof(oneof)
    if name is None:
        raise invalid(f"{what}: no variant set")
    return str(name)


# --- hashes ---------------------------------------------------------------------------------------

def hash_from_pb(value: int, what: str = "hash algorithm") -> Hash:
    return enum_value(Hash, value, what)


def sign_hash_from_pb(msg: Msg) -> Hash | AnyHash:
    member = _member(msg, "variant", "SignHash")
    if member == "any":
        return ANY_HASH
    return hash_from_pb(msg.specific)


def sign_hash_to_pb(value: Hash | AnyHash | None, msg: Msg) -> None:
    if isinstance(value, AnyHash):
        msg.any.SetInParent()
    elif value is not None:
        msg.specific = int(value)


# --- signature ------------------------------------------------------------------------------------

_SIGN_MEMBERS = {
    "rsa_pkcs1v15_sign": SignKind.RSA_PKCS1V15_SIGN,
    "rsa_pkcs1v15_sign_raw": SignKind.RSA_PKCS1V15_SIGN_RAW,
    "rsa_pss": SignKind.RSA_PSS,
    "ecdsa": SignKind.ECDSA,
    "ecdsa_any": SignKind.ECDSA_ANY,
    "deterministic_ecdsa": SignKind.DETERMINISTIC_ECDSA,
    # extension members (field numbers >= 100)
    "pure_eddsa": SignKind.PURE_EDDSA,
    "ml_dsa": SignKind.ML_DSA,
    "deterministic_ml_dsa": SignKind.DETERMINISTIC_ML_DSA,
    "hash_ml_dsa": SignKind.HASH_ML_DSA,
    "deterministic_hash_ml_dsa": SignKind.DETERMINISTIC_HASH_ML_DSA,
    "slh_dsa": SignKind.SLH_DSA,
    "deterministic_slh_dsa": SignKind.DETERMINISTIC_SLH_DSA,
    "hash_slh_dsa": SignKind.HASH_SLH_DSA,
    "deterministic_hash_slh_dsa": SignKind.DETERMINISTIC_HASH_SLH_DSA,
}
_SIGN_NAMES = {v: k for k, v in _SIGN_MEMBERS.items()}
# Members whose message has no hash_alg field.
_SIGN_KINDS_WITHOUT_HASH = frozenset({
    SignKind.RSA_PKCS1V15_SIGN_RAW, SignKind.ECDSA_ANY, SignKind.PURE_EDDSA, SignKind.ML_DSA,
    SignKind.DETERMINISTIC_ML_DSA, SignKind.SLH_DSA, SignKind.DETERMINISTIC_SLH_DSA,
})


def sign_alg_from_pb(msg: Msg) -> SignAlg:
    member = _member(msg, "variant", "AsymmetricSignature")
    kind = _SIGN_MEMBERS[member]
    sub = getattr(msg, member)
    if kind in _SIGN_KINDS_WITHOUT_HASH:
        return SignAlg(kind)
    if not sub.HasField("hash_alg"):
        raise invalid(f"{member}: hash_alg missing")
    return SignAlg(kind, sign_hash_from_pb(sub.hash_alg))


def sign_alg_to_pb(alg: SignAlg, msg: Msg) -> None:
    sub = getattr(msg, _SIGN_NAMES[alg.kind])
    sub.SetInParent()
    if alg.hash is not None:
        sign_hash_to_pb(alg.hash, sub.hash_alg)


# --- encryption -----------------------------------------------------------------------------------

def encrypt_alg_from_pb(msg: Msg) -> EncryptAlg:
    member = _member(msg, "variant", "AsymmetricEncryption")
    if member == "rsa_pkcs1v15_crypt":
        return EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT)
    return EncryptAlg(EncryptKind.RSA_OAEP, hash_from_pb(msg.rsa_oaep.hash_alg, "OAEP hash"))


def encrypt_alg_to_pb(alg: EncryptAlg, msg: Msg) -> None:
    if alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
        msg.rsa_pkcs1v15_crypt.SetInParent()
    else:
        msg.rsa_oaep.hash_alg = int(alg.hash or 0)


# --- AEAD -----------------------------------------------------------------------------------------

def aead_alg_from_pb(msg: Msg) -> AeadAlg:
    member = _member(msg, "variant", "Aead")
    if member == "aead_with_default_length_tag":
        return AeadAlg(enum_value(AeadKind, msg.aead_with_default_length_tag, "AEAD algorithm"))
    short = msg.aead_with_shortened_tag
    return AeadAlg(enum_value(AeadKind, short.aead_alg, "AEAD algorithm"), int(short.tag_length))


def aead_alg_to_pb(alg: AeadAlg, msg: Msg) -> None:
    if alg.tag_length is None:
        msg.aead_with_default_length_tag = int(alg.kind)
    else:
        msg.aead_with_shortened_tag.aead_alg = int(alg.kind)
        msg.aead_with_shortened_tag.tag_length = alg.tag_length


# --- MAC ------------------------------------------------------------------------------------------

def _full_mac_from_pb(msg: Msg) -> MacAlg:
    member = _member(msg, "variant", "Mac.FullLength")
    if member == "hmac":
        return MacAlg(MacKind.HMAC, hash_from_pb(msg.hmac.hash_alg, "HMAC hash"))
    return MacAlg(MacKind.CBC_MAC if member == "cbc_mac" else MacKind.CMAC)


def _full_mac_to_pb(alg: MacAlg, msg: Msg) -> None:
    if alg.kind == MacKind.HMAC:
        msg.hmac.hash_alg = int(alg.hash or 0)
    elif alg.kind == MacKind.CBC_MAC:
        msg.cbc_mac.SetInParent()
    else:
        msg.cmac.SetInParent()


def mac_alg_from_pb(msg: Msg) -> MacAlg:
    member = _member(msg, "variant", "Mac")
    if member == "full_length":
        return _full_mac_from_pb(msg.full_length)
    if not msg.truncated.HasField("mac_alg"):
        raise invalid("Mac.Truncated: mac_alg missing")
    full = _full_mac_from_pb(msg.truncated.mac_alg)
    return MacAlg(full.kind, full.hash, int(msg.truncated.mac_length))


def mac_alg_to_pb(alg: MacAlg, msg: Msg) -> None:
    if alg.length is None:
        _full_mac_to_pb(alg, msg.full_length)
    else:
        _full_mac_to_pb(alg, msg.truncated.mac_alg)
        msg.truncated.mac_length = alg.length


# --- key agreement and derivation -----------------------------------------------------------------

_KDF_MEMBERS = {"hkdf": KdfKind.HKDF, "tls12_prf": KdfKind.TLS12_PRF,
                "tls12_psk_to_ms": KdfKind.TLS12_PSK_TO_MS}
_KDF_NAMES = {v: k for k, v in _KDF_MEMBERS.items()}


def kdf_alg_from_pb(msg: Msg) -> KdfAlg:
    member = _member(msg, "variant", "KeyDerivation")
    return KdfAlg(_KDF_MEMBERS[member], hash_from_pb(getattr(msg, member).hash_alg, "KDF hash"))


def kdf_alg_to_pb(alg: KdfAlg, msg: Msg) -> None:
    getattr(msg, _KDF_NAMES[alg.kind]).hash_alg = int(alg.hash)


def raw_ka_from_pb(value: int) -> RawKeyAgreement:
    return enum_value(RawKeyAgreement, value, "raw key agreement")


def key_agreement_from_pb(msg: Msg) -> KeyAgreementAlg:
    member = _member(msg, "variant", "KeyAgreement")
    if member == "raw":
        return KeyAgreementAlg(raw_ka_from_pb(msg.raw))
    wkd = msg.with_key_derivation
    if not wkd.HasField("kdf_alg"):
        raise invalid("KeyAgreement.WithKeyDerivation: kdf_alg missing")
    return KeyAgreementAlg(raw_ka_from_pb(wkd.ka_alg), kdf_alg_from_pb(wkd.kdf_alg))


def key_agreement_to_pb(alg: KeyAgreementAlg, msg: Msg) -> None:
    if alg.kdf is None:
        msg.raw = int(alg.raw)
    else:
        msg.with_key_derivation.ka_alg = int(alg.raw)
        kdf_alg_to_pb(alg.kdf, msg.with_key_derivation.kdf_alg)


# --- key encapsulation (extension) ---------------------------------------------------------------

def kem_alg_from_pb(value: int) -> KemAlg:
    return KemAlg(enum_value(KemKind, value, "key-encapsulation algorithm"))


def kem_alg_to_pb(alg: KemAlg) -> int:
    return int(alg.kind)


# --- Algorithm (the policy oneof) -----------------------------------------------------------------

def algorithm_from_pb(msg: Msg) -> Algorithm:
    member = _member(msg, "variant", "Algorithm")
    if member == "none":
        return NoAlgorithm()
    if member == "hash":
        return HashAlg(hash_from_pb(msg.hash))
    if member == "mac":
        return mac_alg_from_pb(msg.mac)
    if member == "cipher":
        return CipherAlg(enum_value(CipherMode, msg.cipher, "cipher mode"))
    if member == "aead":
        return aead_alg_from_pb(msg.aead)
    if member == "asymmetric_signature":
        return sign_alg_from_pb(msg.asymmetric_signature)
    if member == "asymmetric_encryption":
        return encrypt_alg_from_pb(msg.asymmetric_encryption)
    if member == "key_agreement":
        return key_agreement_from_pb(msg.key_agreement)
    if member == "key_encapsulation":
        return kem_alg_from_pb(msg.key_encapsulation)
    return kdf_alg_from_pb(msg.key_derivation)


def algorithm_to_pb(alg: Algorithm, msg: Msg) -> None:
    if isinstance(alg, NoAlgorithm):
        msg.none.SetInParent()
    elif isinstance(alg, HashAlg):
        msg.hash = int(alg.hash)
    elif isinstance(alg, MacAlg):
        mac_alg_to_pb(alg, msg.mac)
    elif isinstance(alg, CipherAlg):
        msg.cipher = int(alg.mode)
    elif isinstance(alg, AeadAlg):
        aead_alg_to_pb(alg, msg.aead)
    elif isinstance(alg, SignAlg):
        sign_alg_to_pb(alg, msg.asymmetric_signature)
    elif isinstance(alg, EncryptAlg):
        encrypt_alg_to_pb(alg, msg.asymmetric_encryption)
    elif isinstance(alg, KeyAgreementAlg):
        key_agreement_to_pb(alg, msg.key_agreement)
    elif isinstance(alg, KemAlg):
        msg.key_encapsulation = kem_alg_to_pb(alg)
    else:
        kdf_alg_to_pb(alg, msg.key_derivation)


# --- key attributes -------------------------------------------------------------------------------

_KEY_MEMBERS = {k.name.lower(): k for k in KeyKind}


def key_type_from_pb(msg: Msg) -> KeyType:
    member = _member(msg, "variant", "KeyType")
    kind = _KEY_MEMBERS[member]
    sub = getattr(msg, member)
    if kind in (KeyKind.ECC_KEY_PAIR, KeyKind.ECC_PUBLIC_KEY):
        return KeyType(kind, ecc_family=enum_value(EccFamily, sub.curve_family, "ECC curve family"))
    if kind in (KeyKind.DH_KEY_PAIR, KeyKind.DH_PUBLIC_KEY):
        return KeyType(kind, dh_family=enum_value(DhFamily, sub.group_family, "DH group family",
                                                  zero_ok=True))
    if kind in (KeyKind.SLH_DSA_KEY_PAIR, KeyKind.SLH_DSA_PUBLIC_KEY):
        return KeyType(kind, slh_dsa_family=enum_value(SlhDsaFamily, sub.family, "SLH-DSA family"))
    return KeyType(kind)


def key_type_to_pb(kt: KeyType, msg: Msg) -> None:
    sub = getattr(msg, kt.kind.name.lower())
    sub.SetInParent()
    if kt.ecc_family is not None:
        sub.curve_family = int(kt.ecc_family)
    if kt.dh_family is not None:
        sub.group_family = int(kt.dh_family)
    if kt.slh_dsa_family is not None:
        sub.family = int(kt.slh_dsa_family)


def usage_from_pb(msg: Msg) -> UsageFlags:
    return UsageFlags(**{f.name: bool(getattr(msg, f.name)) for f in msg.DESCRIPTOR.fields})


def usage_to_pb(flags: UsageFlags, msg: Msg) -> None:
    msg.SetInParent()
    for name in flags.names():
        setattr(msg, name, True)


def pcr_binding_from_pb(msg: Msg) -> PcrBinding:
    """Decoded as sent; whether the indices and digest make sense is the provider's check
    (policy.check_pcr_binding), so that a provider without bindings answers NotSupported."""
    bank = Hash.SHA_256 if msg.bank == 0 else hash_from_pb(msg.bank, "PcrBinding.bank")
    return PcrBinding(tuple(int(i) for i in msg.pcrs), bank, bytes(msg.digest))


def pcr_binding_to_pb(binding: PcrBinding, msg: Msg) -> None:
    msg.SetInParent()
    msg.pcrs.extend(binding.pcrs)
    msg.bank = int(binding.bank)
    msg.digest = binding.digest


def attributes_from_pb(msg: Msg) -> KeyAttributes:
    if not msg.HasField("key_type"):
        raise invalid("KeyAttributes: key_type missing")
    if not msg.HasField("key_policy"):
        raise invalid("KeyAttributes: key_policy missing")
    pol = msg.key_policy
    if not pol.HasField("key_usage_flags"):
        raise invalid("KeyPolicy: key_usage_flags missing")
    if not pol.HasField("key_algorithm"):
        raise invalid("KeyPolicy: key_algorithm missing")
    binding = pcr_binding_from_pb(pol.pcr_binding) if pol.HasField("pcr_binding") else None
    return KeyAttributes(
        key_type=key_type_from_pb(msg.key_type),
        key_bits=int(msg.key_bits),
        policy=KeyPolicy(usage_from_pb(pol.key_usage_flags), algorithm_from_pb(pol.key_algorithm),
                         binding),
    )


def attributes_to_pb(attrs: KeyAttributes, msg: Msg) -> None:
    key_type_to_pb(attrs.key_type, msg.key_type)
    msg.key_bits = attrs.key_bits
    usage_to_pb(attrs.policy.usage_flags, msg.key_policy.key_usage_flags)
    algorithm_to_pb(attrs.policy.permitted_algorithms, msg.key_policy.key_algorithm)
    if attrs.policy.pcr_binding is not None:  # absent otherwise: Parsec's bytes exactly
        pcr_binding_to_pb(attrs.policy.pcr_binding, msg.key_policy.pcr_binding)


def attributes_to_bytes(attrs: KeyAttributes) -> bytes:
    msg = attr_pb.KeyAttributes()
    attributes_to_pb(attrs, msg)
    return bytes(msg.SerializeToString(deterministic=True))


def attributes_from_bytes(data: bytes) -> KeyAttributes:
    """Attributes as the key store keeps them. Bytes that do not decode are stored data gone
    bad: PsaErrorDataCorrupt (not protobuf's DecodeError, nor the wire's InvalidEncoding)."""
    msg = attr_pb.KeyAttributes()
    try:
        msg.ParseFromString(data)
        return attributes_from_pb(msg)
    except (DecodeError, ParsecError) as exc:
        raise ParsecError(ResponseStatus.PSA_ERROR_DATA_CORRUPT,
                          f"stored key attributes do not decode: {exc}") from None
