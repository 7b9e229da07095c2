"""One typed request and one typed result per opcode, and the codec between them and protobuf.

A dataclass field has the name of its protobuf field. The codec walks the two side by side:
PSA model types go through `psa.convert`, enums are checked (0 is InvalidEncoding), nested
messages become nested dataclasses. So adding an operation means writing its two dataclasses and
one `OpSpec` line.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, EncodeError, Message

from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.proto import (
    adopt_key_pb2,
    attest_key_pb2,
    can_do_crypto_pb2,
    delete_client_pb2,
    list_authenticators_pb2,
    list_clients_pb2,
    list_keys_pb2,
    list_opcodes_pb2,
    list_providers_pb2,
    ping_pb2,
    prepare_key_attestation_pb2,
    psa_aead_decrypt_pb2,
    psa_aead_encrypt_pb2,
    psa_asymmetric_decrypt_pb2,
    psa_asymmetric_encrypt_pb2,
    psa_cipher_decrypt_pb2,
    psa_cipher_encrypt_pb2,
    psa_decapsulate_pb2,
    psa_destroy_key_pb2,
    psa_encapsulate_pb2,
    psa_export_key_pb2,
    psa_export_public_key_pb2,
    psa_generate_key_pb2,
    psa_generate_random_pb2,
    psa_hash_compare_pb2,
    psa_hash_compute_pb2,
    psa_import_key_pb2,
    psa_mac_compute_pb2,
    psa_mac_verify_pb2,
    psa_raw_key_agreement_pb2,
    psa_sign_hash_pb2,
    psa_sign_message_pb2,
    psa_verify_hash_pb2,
    psa_verify_message_pb2,
)
from pqparsec.protocol.psa import (
    AeadAlg,
    CipherMode,
    EncryptAlg,
    Hash,
    KemKind,
    KeyAttributes,
    MacAlg,
    RawKeyAgreement,
    SignAlg,
)
from pqparsec.protocol.psa import convert as cv
from pqparsec.protocol.status import ParsecError, ResponseStatus


class CheckType(IntEnum):
    USE = 1
    GENERATE = 2
    IMPORT = 3
    DERIVE = 4


# ------------------------------------------------------------------------------------------------
# Core operations


@dataclass(frozen=True)
class PingRequest:
    pass


@dataclass(frozen=True)
class PingResult:
    wire_protocol_version_maj: int = 1
    wire_protocol_version_min: int = 0


@dataclass(frozen=True)
class ListProvidersRequest:
    pass


@dataclass(frozen=True)
class ProviderInfo:
    uuid: str
    description: str
    vendor: str
    version_maj: int
    version_min: int
    version_rev: int
    id: int


@dataclass(frozen=True)
class ListProvidersResult:
    providers: list[ProviderInfo] = field(default_factory=list)


@dataclass(frozen=True)
class ListOpcodesRequest:
    provider_id: int = 0
    include_extensions: bool = False


@dataclass(frozen=True)
class ListOpcodesResult:
    opcodes: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ListAuthenticatorsRequest:
    pass


@dataclass(frozen=True)
class AuthenticatorInfo:
    description: str
    version_maj: int
    version_min: int
    version_rev: int
    id: int


@dataclass(frozen=True)
class ListAuthenticatorsResult:
    authenticators: list[AuthenticatorInfo] = field(default_factory=list)


@dataclass(frozen=True)
class ListKeysRequest:
    include_extensions: bool = False


@dataclass(frozen=True)
class KeyInfo:
    provider_id: int
    name: str
    attributes: KeyAttributes


@dataclass(frozen=True)
class ListKeysResult:
    keys: list[KeyInfo] = field(default_factory=list)


@dataclass(frozen=True)
class ListClientsRequest:
    pass


@dataclass(frozen=True)
class ListClientsResult:
    clients: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeleteClientRequest:
    client: str


@dataclass(frozen=True)
class EmptyResult:
    """The result of operations that return nothing but their status."""


# ------------------------------------------------------------------------------------------------
# Key management


@dataclass(frozen=True)
class PsaGenerateKeyRequest:
    key_name: str
    attributes: KeyAttributes


@dataclass(frozen=True)
class PsaImportKeyRequest:
    key_name: str
    attributes: KeyAttributes
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class KeyNameRequest:
    """PsaDestroyKey, PsaExportKey and PsaExportPublicKey: just a key name."""

    key_name: str


@dataclass(frozen=True)
class KeyDataResult:
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class PsaGenerateRandomRequest:
    size: int


@dataclass(frozen=True)
class PsaGenerateRandomResult:
    random_bytes: bytes = field(repr=False)


# ------------------------------------------------------------------------------------------------
# Signatures


@dataclass(frozen=True)
class PsaSignHashRequest:
    key_name: str
    alg: SignAlg
    hash: bytes
    # Extension (field 100): ML-DSA / SLH-DSA context string; empty = none (as in Parsec).
    context: bytes = b""


@dataclass(frozen=True)
class PsaVerifyHashRequest:
    key_name: str
    alg: SignAlg
    hash: bytes
    signature: bytes
    # Extension (field 100): ML-DSA / SLH-DSA context string; empty = none (as in Parsec).
    context: bytes = b""


@dataclass(frozen=True)
class PsaSignMessageRequest:
    key_name: str
    alg: SignAlg
    message: bytes
    # Extension (field 100): ML-DSA / SLH-DSA context string; empty = none (as in Parsec).
    context: bytes = b""


@dataclass(frozen=True)
class PsaVerifyMessageRequest:
    key_name: str
    alg: SignAlg
    message: bytes
    signature: bytes
    # Extension (field 100): ML-DSA / SLH-DSA context string; empty = none (as in Parsec).
    context: bytes = b""


@dataclass(frozen=True)
class SignatureResult:
    signature: bytes


# ------------------------------------------------------------------------------------------------
# Encryption


@dataclass(frozen=True)
class PsaAsymmetricEncryptRequest:
    key_name: str
    alg: EncryptAlg
    plaintext: bytes = field(repr=False)
    salt: bytes = b""


@dataclass(frozen=True)
class PsaAsymmetricDecryptRequest:
    key_name: str
    alg: EncryptAlg
    ciphertext: bytes
    salt: bytes = b""


@dataclass(frozen=True)
class CiphertextResult:
    ciphertext: bytes


@dataclass(frozen=True)
class PlaintextResult:
    plaintext: bytes = field(repr=False)


@dataclass(frozen=True)
class PsaAeadEncryptRequest:
    key_name: str
    alg: AeadAlg
    nonce: bytes
    additional_data: bytes
    plaintext: bytes = field(repr=False)


@dataclass(frozen=True)
class PsaAeadDecryptRequest:
    key_name: str
    alg: AeadAlg
    nonce: bytes
    additional_data: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class PsaCipherEncryptRequest:
    key_name: str
    alg: CipherMode
    plaintext: bytes = field(repr=False)


@dataclass(frozen=True)
class PsaCipherDecryptRequest:
    key_name: str
    alg: CipherMode
    ciphertext: bytes


# ------------------------------------------------------------------------------------------------
# Hash, MAC, key agreement


@dataclass(frozen=True)
class PsaHashComputeRequest:
    alg: Hash
    input: bytes


@dataclass(frozen=True)
class PsaHashComputeResult:
    hash: bytes


@dataclass(frozen=True)
class PsaHashCompareRequest:
    alg: Hash
    input: bytes
    hash: bytes


@dataclass(frozen=True)
class PsaMacComputeRequest:
    key_name: str
    alg: MacAlg
    input: bytes


@dataclass(frozen=True)
class PsaMacComputeResult:
    mac: bytes


@dataclass(frozen=True)
class PsaMacVerifyRequest:
    key_name: str
    alg: MacAlg
    input: bytes
    mac: bytes


@dataclass(frozen=True)
class PsaRawKeyAgreementRequest:
    alg: RawKeyAgreement
    private_key_name: str
    peer_key: bytes


@dataclass(frozen=True)
class PsaRawKeyAgreementResult:
    shared_secret: bytes = field(repr=False)


# ------------------------------------------------------------------------------------------------
# Key encapsulation (extension opcodes 0x0100 / 0x0101)


@dataclass(frozen=True)
class PsaEncapsulateRequest:
    key_name: str
    alg: KemKind
    # PSA semantics: with attributes, the shared secret becomes a new key of that name and is not
    # returned; without, the secret is returned.
    output_key_name: str = ""
    output_key_attributes: KeyAttributes | None = None


@dataclass(frozen=True)
class PsaEncapsulateResult:
    ciphertext: bytes
    shared_secret: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class PsaDecapsulateRequest:
    key_name: str
    alg: KemKind
    ciphertext: bytes
    output_key_name: str = ""
    output_key_attributes: KeyAttributes | None = None


@dataclass(frozen=True)
class PsaDecapsulateResult:
    shared_secret: bytes = field(default=b"", repr=False)


# ------------------------------------------------------------------------------------------------
# Adopting a token key (extension opcode 0x0102, admin only)


@dataclass(frozen=True)
class AdoptKeyRequest:
    """Bind a key pair already on a PKCS#11 token, found by CKA_LABEL (`label`) or CKA_ID (`id`),
    to key `key_name` of application `application_name`, with policy `attributes`. Exactly one
    of `label` and `id` is set (a protobuf oneof)."""

    application_name: str
    key_name: str
    attributes: KeyAttributes
    label: str | None = None
    id: bytes | None = None


# ------------------------------------------------------------------------------------------------
# Capability discovery and attestation


@dataclass(frozen=True)
class CanDoCryptoRequest:
    check_type: CheckType
    attributes: KeyAttributes


@dataclass(frozen=True)
class ActivateCredentialPrepare:
    attested_key_name: str
    attesting_key_name: str = ""


@dataclass(frozen=True)
class PrepareKeyAttestationParams:
    activate_credential: ActivateCredentialPrepare | None = None


@dataclass(frozen=True)
class PrepareKeyAttestationRequest:
    parameters: PrepareKeyAttestationParams


@dataclass(frozen=True)
class ActivateCredentialPrepared:
    name: bytes
    public: bytes
    attesting_key_pub: bytes


@dataclass(frozen=True)
class PrepareKeyAttestationOutput:
    activate_credential: ActivateCredentialPrepared | None = None


@dataclass(frozen=True)
class PrepareKeyAttestationResult:
    output: PrepareKeyAttestationOutput


@dataclass(frozen=True)
class ActivateCredentialParams:
    credential_blob: bytes
    secret: bytes


@dataclass(frozen=True)
class CertifyParams:
    """Extension (oneof member 100): TPM2_Certify with the nonce as qualifyingData."""
    nonce: bytes = b""


@dataclass(frozen=True)
class AttestationMechanismParams:
    activate_credential: ActivateCredentialParams | None = None
    # Extension (field 100); None = absent, so a Parsec request encodes exactly as Parsec's.
    certify: CertifyParams | None = None


@dataclass(frozen=True)
class AttestKeyRequest:
    attested_key_name: str
    parameters: AttestationMechanismParams
    attesting_key_name: str = ""


@dataclass(frozen=True)
class ActivateCredentialOutput:
    credential: bytes


@dataclass(frozen=True)
class CertifyOutput:
    """Extension (oneof member 100): the TPM's statement and what is needed to check it; TPM
    structures in their marshalled (big-endian) form."""
    attest: bytes                 # TPMS_ATTEST, the signed bytes
    signature: bytes              # TPMT_SIGNATURE over `attest`
    attested_key_public: bytes    # TPMT_PUBLIC of the attested key (its name hashes this)
    attesting_key_public: bytes   # TPMT_PUBLIC of the key that signed


@dataclass(frozen=True)
class AttestationOutput:
    activate_credential: ActivateCredentialOutput | None = None
    certify: CertifyOutput | None = None  # extension (field 100), only in answer to `certify`


@dataclass(frozen=True)
class AttestKeyResult:
    output: AttestationOutput


# ------------------------------------------------------------------------------------------------
# The codec table


@dataclass(frozen=True)
class OpSpec:
    opcode: Opcode
    request: type
    result: type
    operation_pb: type[Message]
    result_pb: type[Message]


def _spec(opcode: Opcode, request: type, result: type, module: Any) -> OpSpec:
    return OpSpec(opcode, request, result, module.Operation, module.Result)


OPERATIONS: dict[Opcode, OpSpec] = {s.opcode: s for s in (
    _spec(Opcode.PING, PingRequest, PingResult, ping_pb2),
    _spec(Opcode.PSA_GENERATE_KEY, PsaGenerateKeyRequest, EmptyResult, psa_generate_key_pb2),
    _spec(Opcode.PSA_DESTROY_KEY, KeyNameRequest, EmptyResult, psa_destroy_key_pb2),
    _spec(Opcode.PSA_SIGN_HASH, PsaSignHashRequest, SignatureResult, psa_sign_hash_pb2),
    _spec(Opcode.PSA_VERIFY_HASH, PsaVerifyHashRequest, EmptyResult, psa_verify_hash_pb2),
    _spec(Opcode.PSA_IMPORT_KEY, PsaImportKeyRequest, EmptyResult, psa_import_key_pb2),
    _spec(Opcode.PSA_EXPORT_PUBLIC_KEY, KeyNameRequest, KeyDataResult, psa_export_public_key_pb2),
    _spec(Opcode.LIST_PROVIDERS, ListProvidersRequest, ListProvidersResult, list_providers_pb2),
    _spec(Opcode.LIST_OPCODES, ListOpcodesRequest, ListOpcodesResult, list_opcodes_pb2),
    _spec(Opcode.PSA_ASYMMETRIC_ENCRYPT, PsaAsymmetricEncryptRequest, CiphertextResult,
          psa_asymmetric_encrypt_pb2),
    _spec(Opcode.PSA_ASYMMETRIC_DECRYPT, PsaAsymmetricDecryptRequest, PlaintextResult,
          psa_asymmetric_decrypt_pb2),
    _spec(Opcode.PSA_EXPORT_KEY, KeyNameRequest, KeyDataResult, psa_export_key_pb2),
    _spec(Opcode.PSA_GENERATE_RANDOM, PsaGenerateRandomRequest, PsaGenerateRandomResult,
          psa_generate_random_pb2),
    _spec(Opcode.LIST_AUTHENTICATORS, ListAuthenticatorsRequest, ListAuthenticatorsResult,
          list_authenticators_pb2),
    _spec(Opcode.PSA_HASH_COMPUTE, PsaHashComputeRequest, PsaHashComputeResult,
          psa_hash_compute_pb2),
    _spec(Opcode.PSA_HASH_COMPARE, PsaHashCompareRequest, EmptyResult, psa_hash_compare_pb2),
    _spec(Opcode.PSA_AEAD_ENCRYPT, PsaAeadEncryptRequest, CiphertextResult, psa_aead_encrypt_pb2),
    _spec(Opcode.PSA_AEAD_DECRYPT, PsaAeadDecryptRequest, PlaintextResult, psa_aead_decrypt_pb2),
    _spec(Opcode.PSA_RAW_KEY_AGREEMENT, PsaRawKeyAgreementRequest, PsaRawKeyAgreementResult,
          psa_raw_key_agreement_pb2),
    _spec(Opcode.PSA_CIPHER_ENCRYPT, PsaCipherEncryptRequest, CiphertextResult,
          psa_cipher_encrypt_pb2),
    _spec(Opcode.PSA_CIPHER_DECRYPT, PsaCipherDecryptRequest, PlaintextResult,
          psa_cipher_decrypt_pb2),
    _spec(Opcode.PSA_MAC_COMPUTE, PsaMacComputeRequest, PsaMacComputeResult, psa_mac_compute_pb2),
    _spec(Opcode.PSA_MAC_VERIFY, PsaMacVerifyRequest, EmptyResult, psa_mac_verify_pb2),
    _spec(Opcode.PSA_SIGN_MESSAGE, PsaSignMessageRequest, SignatureResult, psa_sign_message_pb2),
    _spec(Opcode.PSA_VERIFY_MESSAGE, PsaVerifyMessageRequest, EmptyResult, psa_verify_message_pb2),
    _spec(Opcode.LIST_KEYS, ListKeysRequest, ListKeysResult, list_keys_pb2),
    _spec(Opcode.LIST_CLIENTS, ListClientsRequest, ListClientsResult, list_clients_pb2),
    _spec(Opcode.DELETE_CLIENT, DeleteClientRequest, EmptyResult, delete_client_pb2),
    _spec(Opcode.ATTEST_KEY, AttestKeyRequest, AttestKeyResult, attest_key_pb2),
    _spec(Opcode.PREPARE_KEY_ATTESTATION, PrepareKeyAttestationRequest,
          PrepareKeyAttestationResult, prepare_key_attestation_pb2),
    _spec(Opcode.CAN_DO_CRYPTO, CanDoCryptoRequest, EmptyResult, can_do_crypto_pb2),
    _spec(Opcode.PSA_ENCAPSULATE, PsaEncapsulateRequest, PsaEncapsulateResult, psa_encapsulate_pb2),
    _spec(Opcode.PSA_DECAPSULATE, PsaDecapsulateRequest, PsaDecapsulateResult, psa_decapsulate_pb2),
    _spec(Opcode.ADOPT_KEY, AdoptKeyRequest, EmptyResult, adopt_key_pb2),
)}

# Protobuf messages that map to a PSA model type: (decode, encode into a sub-message).
_MODEL_TYPES: dict[str, tuple[Callable[[Any], Any], Callable[[Any, Any], None]]] = {
    "psa_key_attributes.KeyAttributes": (cv.attributes_from_pb, cv.attributes_to_pb),
    "psa_algorithm.Algorithm.AsymmetricSignature": (cv.sign_alg_from_pb, cv.sign_alg_to_pb),
    "psa_algorithm.Algorithm.AsymmetricEncryption": (cv.encrypt_alg_from_pb, cv.encrypt_alg_to_pb),
    "psa_algorithm.Algorithm.Aead": (cv.aead_alg_from_pb, cv.aead_alg_to_pb),
    "psa_algorithm.Algorithm.Mac": (cv.mac_alg_from_pb, cv.mac_alg_to_pb),
}

_ENUM_TYPES: dict[str, type[IntEnum]] = {
    "psa_algorithm.Algorithm.Hash": Hash,
    "psa_algorithm.Algorithm.Cipher": CipherMode,
    "psa_algorithm.Algorithm.KeyAgreement.Raw": RawKeyAgreement,
    "can_do_crypto.CheckType": CheckType,
    "psa_algorithm.Algorithm.KeyEncapsulation": KemKind,
}


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _type_name(fd: Any) -> str:
    """Full protobuf name of a message or enum field's type."""
    desc = fd.message_type if fd.type == FieldDescriptor.TYPE_MESSAGE else fd.enum_type
    assert desc is not None
    return str(desc.full_name)


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0], len(args) != len(typing.get_args(tp))
    return tp, False


# How _from_msg reads each field of a (dataclass, protobuf message) pair, worked out once per
# pair: (name, kind, type or item type, optional, oneof name, message name or enum class).
_MSG = 0
_MSG_LIST = 1
_ENUM = 2
_LIST = 3
_SCALAR = 4
_FieldPlan = tuple[str, int, Any, bool, "str | None", Any]
_plans: dict[tuple[type, Any], tuple[list[str], list[_FieldPlan]]] = {}


def _plan(cls: type, descriptor: Any) -> tuple[list[str], list[_FieldPlan]]:
    hints = _hints(cls)
    fields: list[_FieldPlan] = []
    for f in dataclasses.fields(cls):
        fd = descriptor.fields_by_name[f.name]
        tp, optional = _strip_optional(hints[f.name])
        group = fd.containing_oneof.name if fd.containing_oneof is not None else None
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            if fd.is_repeated:
                fields.append((f.name, _MSG_LIST, typing.get_args(tp)[0], optional, group,
                               _type_name(fd)))
            else:
                fields.append((f.name, _MSG, tp, optional, group, _type_name(fd)))
        elif fd.type == FieldDescriptor.TYPE_ENUM:
            fields.append((f.name, _ENUM, tp, optional, group, _ENUM_TYPES[_type_name(fd)]))
        elif fd.is_repeated:
            fields.append((f.name, _LIST, tp, optional, group, None))
        else:
            fields.append((f.name, _SCALAR, tp, optional, group, None))
    plan = ([o.name for o in descriptor.oneofs], fields)
    _plans[(cls, descriptor)] = plan
    return plan


def _from_msg(cls: type, msg: Message) -> Any:
    descriptor = msg.DESCRIPTOR
    plan = _plans.get((cls, descriptor)) or _plan(cls, descriptor)
    oneofs, fields = plan
    for oneof in oneofs:
        if msg.WhichOneof(oneof) is None:
            raise cv.invalid(f"{descriptor.full_name}: no {oneof} set")
    kwargs: dict[str, Any] = {}
    for name, kind, tp, optional, group, extra in fields:
        if optional and group is not None and msg.WhichOneof(group) != name:
            kwargs[name] = None  # another member of its oneof is the one set
            continue
        if kind == _SCALAR:
            kwargs[name] = getattr(msg, name)
        elif kind == _MSG:
            if not msg.HasField(name):
                if not optional:
                    raise cv.invalid(f"{descriptor.full_name}: {name} missing")
                kwargs[name] = None
            else:
                kwargs[name] = _message_value(extra, tp, getattr(msg, name))
        elif kind == _ENUM:
            kwargs[name] = cv.enum_value(extra, getattr(msg, name),
                                         f"{descriptor.full_name}.{name}")
        elif kind == _MSG_LIST:
            kwargs[name] = [_message_value(extra, tp, v) for v in getattr(msg, name)]
        else:
            kwargs[name] = list(getattr(msg, name))
    return cls(**kwargs)


def _message_value(full_name: str, tp: Any, value: Message) -> Any:
    model = _MODEL_TYPES.get(full_name)
    if model is not None:
        return model[0](value)
    return _from_msg(tp, value)


# How _to_msg writes each field of a (dataclass, protobuf message) pair, worked out once per pair:
# (name, kind, model converter or None).
_TO_MSG = 0
_TO_MSG_LIST = 1
_TO_LIST = 2
_TO_SCALAR = 3
_to_plans: dict[tuple[type, Any], list[tuple[str, int, Any]]] = {}


def _to_plan(cls: type, descriptor: Any) -> list[tuple[str, int, Any]]:
    plan = []
    for f in dataclasses.fields(cls):
        fd = descriptor.fields_by_name[f.name]
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            model = _MODEL_TYPES.get(_type_name(fd))
            plan.append((f.name, _TO_MSG_LIST if fd.is_repeated else _TO_MSG,
                         model[1] if model else None))
        else:
            plan.append((f.name, _TO_LIST if fd.is_repeated else _TO_SCALAR, None))
    _to_plans[(cls, descriptor)] = plan
    return plan


def _to_msg(obj: Any, msg: Message) -> None:
    msg.SetInParent()
    key = (type(obj), msg.DESCRIPTOR)
    for name, kind, write in _to_plans.get(key) or _to_plan(*key):
        value = getattr(obj, name)
        if value is None:
            continue
        if kind == _TO_SCALAR:
            setattr(msg, name, int(value) if isinstance(value, IntEnum) else value)
        elif kind == _TO_MSG:
            (write or _to_msg)(value, getattr(msg, name))
        elif kind == _TO_MSG_LIST:
            container = getattr(msg, name)
            for item in value:
                (write or _to_msg)(item, container.add())
        else:
            getattr(msg, name).extend(int(v) if isinstance(v, IntEnum) else v for v in value)


def _decode(msg_cls: type[Message], cls: type, body: bytes) -> Any:
    msg = msg_cls()
    try:
        msg.ParseFromString(body)
    except DecodeError as exc:
        raise ParsecError(ResponseStatus.DESERIALIZING_BODY_FAILED,
                          f"{msg_cls.DESCRIPTOR.full_name}: {exc}") from None
    return _from_msg(cls, msg)


def _encode(msg_cls: type[Message], obj: Any) -> bytes:
    msg = msg_cls()
    try:
        _to_msg(obj, msg)
        return bytes(msg.SerializeToString())
    except (EncodeError, ValueError, TypeError) as exc:
        raise ParsecError(ResponseStatus.SERIALIZING_BODY_FAILED,
                          f"{msg_cls.DESCRIPTOR.full_name}: {exc}") from None


def decode_request(opcode: Opcode, body: bytes) -> Any:
    spec = OPERATIONS[opcode]
    return _decode(spec.operation_pb, spec.request, body)


def encode_request(opcode: Opcode, request: Any) -> bytes:
    spec = OPERATIONS[opcode]
    return _encode(spec.operation_pb, request)


def decode_result(opcode: Opcode, body: bytes) -> Any:
    spec = OPERATIONS[opcode]
    return _decode(spec.result_pb, spec.result, body)


def encode_result(opcode: Opcode, result: Any) -> bytes:
    spec = OPERATIONS[opcode]
    return _encode(spec.result_pb, result)
