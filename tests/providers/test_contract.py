"""The provider contract (service/providers/contract.py): one typed method per opcode, one table
from opcodes to methods, and each provider's declaration of the opcodes it serves.

In-process: the table covers every opcode and reaches the method of that opcode; the methods'
annotations are the codec's request and result types; every provider class declares exactly
the operations it overrides, each defined once (no class intercepts another's operation); the
PKCS#11 provider narrows its declaration to its token. Over the socket: every opcode a provider
does not list answers PsaErrorNotSupported.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from pathlib import Path

import pytest
from pqptest.service import ServiceProcess

from pqparsec.client import ServiceError
from pqparsec.protocol import operations as ops
from pqparsec.protocol.header import RequestHeader, unpack_response
from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.opcodes import ANONYMOUS_OPCODES, CORE_OPCODES, Opcode
from pqparsec.protocol.operations import OPERATIONS
from pqparsec.protocol.psa import (
    AeadAlg,
    AeadKind,
    CipherMode,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KemKind,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    MacAlg,
    MacKind,
    RawKeyAgreement,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.authenticators import DirectAuthenticator
from pqparsec.service.dispatcher import Dispatcher, ServiceState
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyStore
from pqparsec.service.providers import contract
from pqparsec.service.providers.contract import Provide

ALICE = Identity(AuthType.DIRECT, "alice")
# The provider classes, by module and class name; a back-end not installed skips its class.
PROVIDER_CLASSES = {
    "core": ("pqparsec.service.providers.core", "CoreProvider"),
    "software": ("pqparsec.service.providers.software", "SoftwareProvider"),
    "pkcs11": ("pqparsec.service.providers.pkcs11", "Pkcs11Provider"),
    "tpm": ("pqparsec.service.providers.tpm.provider", "TpmProvider"),
}


def method_name(op: Opcode) -> str:
    """The contract's method of an opcode. Only the tests derive it from the opcode's name."""
    return op.name.lower()


def provider_class(name: str) -> type[Provide]:
    module, cls = PROVIDER_CLASSES[name]
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        pytest.skip(f"{name} provider not importable here: {exc}")
    found: type[Provide] = getattr(mod, cls)
    return found


# -- the contract and its table ------------------------------------------------------------------


def test_table_covers_every_opcode_once() -> None:
    assert set(contract.ANONYMOUS_CALLS) == ANONYMOUS_OPCODES
    assert set(contract.IDENTIFIED_CALLS) == set(Opcode) - ANONYMOUS_OPCODES


def test_operations_are_exactly_the_opcodes() -> None:
    """Provide's public methods: one per opcode, plus the declaration helpers."""
    helpers = {"available_opcodes", "serves", "listed_opcodes", "not_served"}
    methods = {n for n, _ in inspect.getmembers(Provide, inspect.isfunction) if not n.startswith("_")}
    assert methods - helpers == {method_name(op) for op in Opcode}


@pytest.mark.parametrize("op", list(Opcode), ids=lambda o: o.name)
def test_annotations_are_the_codec_types(op: Opcode) -> None:
    hints = typing.get_type_hints(getattr(Provide, method_name(op)))
    spec = OPERATIONS[op]
    assert hints["req"] is spec.request
    assert hints["return"] is spec.result
    assert hints["app"] == (Identity | None if op in ANONYMOUS_OPCODES else Identity)


class _Nothing(Provide):
    name = "nothing"


@pytest.mark.parametrize("op", list(Opcode), ids=lambda o: o.name)
def test_table_reaches_the_method_of_its_opcode(op: Opcode) -> None:
    """Each default names its own opcode, so the error says which method the table called."""
    with pytest.raises(ParsecError) as err:
        contract.call(_Nothing(), op, ALICE, None)
    assert err.value.status == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    assert err.value.message == f"nothing does not support {op.name}"


def test_identified_opcode_without_identity_is_refused() -> None:
    with pytest.raises(ParsecError) as err:
        contract.call(_Nothing(), Opcode.PSA_SIGN_HASH, None, None)
    assert err.value.status == ResponseStatus.NOT_AUTHENTICATED


# -- every provider's declaration ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PROVIDER_CLASSES))
def test_declared_opcodes_are_the_overridden_ones(name: str) -> None:
    cls = provider_class(name)
    overridden = {op for op in Opcode
                  if getattr(cls, method_name(op)) is not getattr(Provide, method_name(op))}
    assert cls.supported_opcodes == overridden
    assert cls.unlisted_opcodes <= cls.supported_opcodes
    # A provider serves core opcodes or crypto opcodes, as the dispatcher routes them.
    assert all(op.is_core == (name == "core") for op in cls.supported_opcodes)


@pytest.mark.parametrize("name", sorted(PROVIDER_CLASSES))
def test_each_operation_is_defined_once(name: str) -> None:
    """No mixin intercepts another's operation and hands on with super(): a reader finds an
    opcode's code in one place."""
    cls = provider_class(name)
    for op in cls.supported_opcodes:
        owners = [c.__name__ for c in cls.__mro__
                  if c is not Provide and method_name(op) in vars(c)]
        assert len(owners) == 1, f"{op.name} is defined in {owners}"


def test_core_lists_what_parsec_lists() -> None:
    from pqparsec.service.providers.core import CoreProvider

    assert CoreProvider.supported_opcodes == CORE_OPCODES
    core = CoreProvider(lambda: [], None)  # type: ignore[arg-type]
    listed = [int(op) for op in (Opcode.PING, Opcode.LIST_PROVIDERS, Opcode.LIST_OPCODES,
                                 Opcode.LIST_AUTHENTICATORS, Opcode.LIST_KEYS)]
    assert core.listed_opcodes() == core.listed_opcodes(include_extensions=True) == listed
    assert core.serves(Opcode.DELETE_CLIENT) and core.serves(Opcode.LIST_CLIENTS)


def test_pkcs11_declaration_follows_the_token(tmp_path: Path) -> None:
    pytest.importorskip("pkcs11")
    from pqparsec.service.providers.pkcs11 import Pkcs11Provider
    from pqparsec.service.providers.pkcs11.caps import TokenCaps

    p = Pkcs11Provider(KeyStore(str(tmp_path / "kim.sqlite3")), None)  # type: ignore[arg-type]
    aead = {Opcode.PSA_AEAD_ENCRYPT, Opcode.PSA_AEAD_DECRYPT}
    mac = {Opcode.PSA_MAC_COMPUTE, Opcode.PSA_MAC_VERIFY}
    # Not started: no mechanisms known, so neither family is served.
    assert p.available_opcodes() == p.supported_opcodes - aead - mac
    assert not p.serves(Opcode.PSA_AEAD_ENCRYPT)
    p.caps = TokenCaps(aes_bits=frozenset({128}), aes_gcm=True)
    assert p.available_opcodes() == p.supported_opcodes - mac
    p.caps = TokenCaps(hmac={Hash.SHA_256: (1, 64)})
    assert p.available_opcodes() == p.supported_opcodes - aead
    # MAC opcodes are never in a plain ListOpcodes (the Rust client's enum lacks them).
    assert int(Opcode.PSA_MAC_COMPUTE) not in p.listed_opcodes()
    assert int(Opcode.PSA_MAC_COMPUTE) in p.listed_opcodes(include_extensions=True)


def test_dispatcher_asks_the_declaration_not_the_methods(tmp_path: Path) -> None:
    """A PKCS#11 provider whose token lacks AES-GCM has a psa_aead_encrypt method but does not
    serve it: NotSupported, without the method running (unstarted, it would answer BadState)."""
    pytest.importorskip("pkcs11")
    from pqparsec.service.providers.pkcs11 import Pkcs11Provider

    p = Pkcs11Provider(KeyStore(str(tmp_path / "kim.sqlite3")), None)  # type: ignore[arg-type]
    state = ServiceState(DirectAuthenticator(), {ProviderId.PKCS11: p}, 1 << 20)
    dispatcher = Dispatcher(lambda: state, 1)
    request = ops.PsaAeadEncryptRequest("k", AeadAlg(AeadKind.GCM), b"n" * 12, b"", b"pt")

    def status(opcode: Opcode, req: object) -> int:
        body = ops.encode_request(opcode, req)
        header = RequestHeader(ProviderId.PKCS11, 7, AuthType.DIRECT, opcode, len(body), 5)
        response = dispatcher.dispatch(header, body, b"alice", None)
        return int(unpack_response(response).status)

    assert status(Opcode.PSA_AEAD_ENCRYPT, request) == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    # A declared opcode does reach its method, which needs the token.
    assert status(Opcode.PSA_EXPORT_PUBLIC_KEY, ops.KeyNameRequest("k")) != \
        ResponseStatus.PSA_ERROR_NOT_SUPPORTED


# -- over the socket -------------------------------------------------------------------------------

ECC = KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
                    KeyPolicy(UsageFlags(sign_hash=True), SignAlg(SignKind.ECDSA, Hash.SHA_256)))

# A well-formed request for every crypto opcode: the dispatcher decodes the body before it asks
# whether the provider serves the opcode.
REQUESTS: dict[Opcode, object] = {
    Opcode.PSA_GENERATE_KEY: ops.PsaGenerateKeyRequest("k", ECC),
    Opcode.PSA_DESTROY_KEY: ops.KeyNameRequest("k"),
    Opcode.PSA_SIGN_HASH: ops.PsaSignHashRequest("k", SignAlg(SignKind.ECDSA, Hash.SHA_256),
                                                 b"\x01" * 32),
    Opcode.PSA_VERIFY_HASH: ops.PsaVerifyHashRequest("k", SignAlg(SignKind.ECDSA, Hash.SHA_256),
                                                     b"\x01" * 32, b"\x02" * 64),
    Opcode.PSA_IMPORT_KEY: ops.PsaImportKeyRequest("k", ECC, b"\x01" * 32),
    Opcode.PSA_EXPORT_PUBLIC_KEY: ops.KeyNameRequest("k"),
    Opcode.PSA_ASYMMETRIC_ENCRYPT: ops.PsaAsymmetricEncryptRequest(
        "k", EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT), b"pt"),
    Opcode.PSA_ASYMMETRIC_DECRYPT: ops.PsaAsymmetricDecryptRequest(
        "k", EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT), b"ct"),
    Opcode.PSA_EXPORT_KEY: ops.KeyNameRequest("k"),
    Opcode.PSA_GENERATE_RANDOM: ops.PsaGenerateRandomRequest(16),
    Opcode.PSA_HASH_COMPUTE: ops.PsaHashComputeRequest(Hash.SHA_256, b"in"),
    Opcode.PSA_HASH_COMPARE: ops.PsaHashCompareRequest(Hash.SHA_256, b"in", b"h" * 32),
    Opcode.PSA_AEAD_ENCRYPT: ops.PsaAeadEncryptRequest("k", AeadAlg(AeadKind.GCM), b"n" * 12,
                                                       b"", b"pt"),
    Opcode.PSA_AEAD_DECRYPT: ops.PsaAeadDecryptRequest("k", AeadAlg(AeadKind.GCM), b"n" * 12,
                                                       b"", b"c" * 16),
    Opcode.PSA_RAW_KEY_AGREEMENT: ops.PsaRawKeyAgreementRequest(RawKeyAgreement.ECDH, "k",
                                                                b"\x04" + b"p" * 64),
    Opcode.PSA_CIPHER_ENCRYPT: ops.PsaCipherEncryptRequest("k", CipherMode.CTR, b"pt"),
    Opcode.PSA_CIPHER_DECRYPT: ops.PsaCipherDecryptRequest("k", CipherMode.CTR, b"c" * 32),
    Opcode.PSA_MAC_COMPUTE: ops.PsaMacComputeRequest("k", MacAlg(MacKind.HMAC, Hash.SHA_256),
                                                     b"in"),
    Opcode.PSA_MAC_VERIFY: ops.PsaMacVerifyRequest("k", MacAlg(MacKind.HMAC, Hash.SHA_256),
                                                   b"in", b"m" * 32),
    Opcode.PSA_SIGN_MESSAGE: ops.PsaSignMessageRequest("k", SignAlg(SignKind.ECDSA, Hash.SHA_256),
                                                       b"msg"),
    Opcode.PSA_VERIFY_MESSAGE: ops.PsaVerifyMessageRequest(
        "k", SignAlg(SignKind.ECDSA, Hash.SHA_256), b"msg", b"\x02" * 64),
    Opcode.ATTEST_KEY: ops.AttestKeyRequest("k", ops.AttestationMechanismParams(
        ops.ActivateCredentialParams(b"blob", b"secret"))),
    Opcode.PREPARE_KEY_ATTESTATION: ops.PrepareKeyAttestationRequest(
        ops.PrepareKeyAttestationParams(ops.ActivateCredentialPrepare("k"))),
    Opcode.CAN_DO_CRYPTO: ops.CanDoCryptoRequest(ops.CheckType.GENERATE, ECC),
    Opcode.PSA_ENCAPSULATE: ops.PsaEncapsulateRequest("k", KemKind.ML_KEM),
    Opcode.PSA_DECAPSULATE: ops.PsaDecapsulateRequest("k", KemKind.ML_KEM, b"c" * 32),
    Opcode.ADOPT_KEY: ops.AdoptKeyRequest("alice", "k", ECC, id=b"\x01\x02"),
}


def test_every_crypto_opcode_has_a_request() -> None:
    assert set(REQUESTS) == set(Opcode) - CORE_OPCODES


def test_unlisted_opcodes_answer_not_supported(provider_service: ServiceProcess) -> None:
    """Every crypto opcode the provider does not list (extensions included) is NotSupported,
    whatever the request; an admin sends them, so that AdoptKey gets past the admin check."""
    admin = provider_service.client("admin")
    listed = set(admin.list_opcodes(int(admin.provider), include_extensions=True))
    unlisted = [op for op in REQUESTS if int(op) not in listed]
    for op in unlisted:
        with pytest.raises(ServiceError) as err:
            admin.call(op, REQUESTS[op])
        assert err.value.status == ResponseStatus.PSA_ERROR_NOT_SUPPORTED, op.name
