"""The provider contract: every operation a provider may serve, and the one table that takes an
opcode to its method.

`Provide` is modelled on Parsec's `Provide` trait. It has one method per opcode, typed with the
opcode's request and result dataclasses from `protocol/operations.py`, and each answers
PsaErrorNotSupported until a provider overrides it. A provider also declares the opcodes it
serves, as a Parsec provider lists its `SUPPORTED_OPCODES`: `supported_opcodes`, which
`available_opcodes()` may narrow at run time (the PKCS#11 provider does, from its token's
mechanisms). The dispatcher's NotSupported check and ListOpcodes read that declaration;
tests/providers/test_contract.py checks that it names exactly the methods a provider overrides.

`call` is how the dispatcher reaches a provider's method: `ANONYMOUS_CALLS` and
`IDENTIFIED_CALLS` have one line per opcode, so a reader (and mypy) can follow an opcode to the
method it runs. Nothing is looked up by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pqparsec.protocol.opcodes import PARSEC_CLIENT_OPCODES, Opcode
from pqparsec.protocol.operations import (
    AdoptKeyRequest,
    AttestKeyRequest,
    AttestKeyResult,
    CanDoCryptoRequest,
    CiphertextResult,
    DeleteClientRequest,
    EmptyResult,
    KeyDataResult,
    KeyNameRequest,
    ListAuthenticatorsRequest,
    ListAuthenticatorsResult,
    ListClientsRequest,
    ListClientsResult,
    ListKeysRequest,
    ListKeysResult,
    ListOpcodesRequest,
    ListOpcodesResult,
    ListProvidersRequest,
    ListProvidersResult,
    PingRequest,
    PingResult,
    PlaintextResult,
    PrepareKeyAttestationRequest,
    PrepareKeyAttestationResult,
    PsaAeadDecryptRequest,
    PsaAeadEncryptRequest,
    PsaAsymmetricDecryptRequest,
    PsaAsymmetricEncryptRequest,
    PsaCipherDecryptRequest,
    PsaCipherEncryptRequest,
    PsaDecapsulateRequest,
    PsaDecapsulateResult,
    PsaEncapsulateRequest,
    PsaEncapsulateResult,
    PsaGenerateKeyRequest,
    PsaGenerateRandomRequest,
    PsaGenerateRandomResult,
    PsaHashCompareRequest,
    PsaHashComputeRequest,
    PsaHashComputeResult,
    PsaImportKeyRequest,
    PsaMacComputeRequest,
    PsaMacComputeResult,
    PsaMacVerifyRequest,
    PsaRawKeyAgreementRequest,
    PsaRawKeyAgreementResult,
    PsaSignHashRequest,
    PsaSignMessageRequest,
    PsaVerifyHashRequest,
    PsaVerifyMessageRequest,
    SignatureResult,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity


class Provide:
    """Every operation, each PsaErrorNotSupported unless a provider overrides it.

    An operation takes the caller's identity and the request, and returns the result or raises
    ParsecError. Opcodes served without an identity (ANONYMOUS_OPCODES) take `Identity | None`;
    the others get an `Identity`, since the dispatcher has refused the request otherwise."""

    name: str
    # The opcodes this provider serves: exactly the operations it overrides.
    supported_opcodes: ClassVar[frozenset[Opcode]] = frozenset()
    # Served but left out of ListOpcodes (the core provider's admin opcodes, as in Parsec).
    unlisted_opcodes: ClassVar[frozenset[Opcode]] = frozenset()

    def available_opcodes(self) -> frozenset[Opcode]:
        """The opcodes served now: `supported_opcodes`, unless the back-end found at start-up
        lacks what some of them need (the one place a provider narrows its declaration)."""
        return self.supported_opcodes

    def serves(self, opcode: Opcode) -> bool:
        return opcode in self.available_opcodes()

    def listed_opcodes(self, include_extensions: bool = False) -> list[int]:
        """ListOpcodes: without `include_extensions`, only what the Rust client's enum can decode
        (PARSEC_CLIENT_OPCODES), since it fails a whole answer on any other value."""
        ops = self.available_opcodes() - self.unlisted_opcodes
        if not include_extensions:
            ops &= PARSEC_CLIENT_OPCODES
        return sorted(int(op) for op in ops)

    def not_served(self, opcode: Opcode) -> ParsecError:
        return ParsecError(ResponseStatus.PSA_ERROR_NOT_SUPPORTED,
                           f"{self.name} does not support {opcode.name}")

    # -- core: discovery and administration (the core provider, id 0) -------------------------

    def ping(self, app: Identity | None, req: PingRequest) -> PingResult:
        raise self.not_served(Opcode.PING)

    def list_providers(self, app: Identity | None, req: ListProvidersRequest) -> ListProvidersResult:
        raise self.not_served(Opcode.LIST_PROVIDERS)

    def list_opcodes(self, app: Identity | None, req: ListOpcodesRequest) -> ListOpcodesResult:
        raise self.not_served(Opcode.LIST_OPCODES)

    def list_authenticators(self, app: Identity | None,
                            req: ListAuthenticatorsRequest) -> ListAuthenticatorsResult:
        raise self.not_served(Opcode.LIST_AUTHENTICATORS)

    def list_keys(self, app: Identity, req: ListKeysRequest) -> ListKeysResult:
        raise self.not_served(Opcode.LIST_KEYS)

    def list_clients(self, app: Identity | None, req: ListClientsRequest) -> ListClientsResult:
        raise self.not_served(Opcode.LIST_CLIENTS)

    def delete_client(self, app: Identity, req: DeleteClientRequest) -> EmptyResult:
        raise self.not_served(Opcode.DELETE_CLIENT)

    # -- key management -----------------------------------------------------------------------

    def psa_generate_key(self, app: Identity, req: PsaGenerateKeyRequest) -> EmptyResult:
        raise self.not_served(Opcode.PSA_GENERATE_KEY)

    def psa_import_key(self, app: Identity, req: PsaImportKeyRequest) -> EmptyResult:
        raise self.not_served(Opcode.PSA_IMPORT_KEY)

    def psa_destroy_key(self, app: Identity, req: KeyNameRequest) -> EmptyResult:
        raise self.not_served(Opcode.PSA_DESTROY_KEY)

    def psa_export_public_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        raise self.not_served(Opcode.PSA_EXPORT_PUBLIC_KEY)

    def psa_export_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        raise self.not_served(Opcode.PSA_EXPORT_KEY)

    def adopt_key(self, app: Identity, req: AdoptKeyRequest) -> EmptyResult:
        raise self.not_served(Opcode.ADOPT_KEY)

    # -- keyless ------------------------------------------------------------------------------

    def psa_generate_random(self, app: Identity | None,
                            req: PsaGenerateRandomRequest) -> PsaGenerateRandomResult:
        raise self.not_served(Opcode.PSA_GENERATE_RANDOM)

    def psa_hash_compute(self, app: Identity | None,
                         req: PsaHashComputeRequest) -> PsaHashComputeResult:
        raise self.not_served(Opcode.PSA_HASH_COMPUTE)

    def psa_hash_compare(self, app: Identity | None, req: PsaHashCompareRequest) -> EmptyResult:
        raise self.not_served(Opcode.PSA_HASH_COMPARE)

    # -- signatures ---------------------------------------------------------------------------

    def psa_sign_hash(self, app: Identity, req: PsaSignHashRequest) -> SignatureResult:
        raise self.not_served(Opcode.PSA_SIGN_HASH)

    def psa_verify_hash(self, app: Identity, req: PsaVerifyHashRequest) -> EmptyResult:
        raise self.not_served(Opcode.PSA_VERIFY_HASH)

    def psa_sign_message(self, app: Identity, req: PsaSignMessageRequest) -> SignatureResult:
        raise self.not_served(Opcode.PSA_SIGN_MESSAGE)

    def psa_verify_message(self, app: Identity, req: PsaVerifyMessageRequest) -> EmptyResult:
        raise self.not_served(Opcode.PSA_VERIFY_MESSAGE)

    # -- asymmetric encryption, key agreement and encapsulation -------------------------------

    def psa_asymmetric_encrypt(self, app: Identity,
                               req: PsaAsymmetricEncryptRequest) -> CiphertextResult:
        raise self.not_served(Opcode.PSA_ASYMMETRIC_ENCRYPT)

    def psa_asymmetric_decrypt(self, app: Identity,
                               req: PsaAsymmetricDecryptRequest) -> PlaintextResult:
        raise self.not_served(Opcode.PSA_ASYMMETRIC_DECRYPT)

    def psa_raw_key_agreement(self, app: Identity,
                              req: PsaRawKeyAgreementRequest) -> PsaRawKeyAgreementResult:
        raise self.not_served(Opcode.PSA_RAW_KEY_AGREEMENT)

    def psa_encapsulate(self, app: Identity, req: PsaEncapsulateRequest) -> PsaEncapsulateResult:
        raise self.not_served(Opcode.PSA_ENCAPSULATE)

    def psa_decapsulate(self, app: Identity, req: PsaDecapsulateRequest) -> PsaDecapsulateResult:
        raise self.not_served(Opcode.PSA_DECAPSULATE)

    # -- symmetric ----------------------------------------------------------------------------

    def psa_aead_encrypt(self, app: Identity, req: PsaAeadEncryptRequest) -> CiphertextResult:
        raise self.not_served(Opcode.PSA_AEAD_ENCRYPT)

    def psa_aead_decrypt(self, app: Identity, req: PsaAeadDecryptRequest) -> PlaintextResult:
        raise self.not_served(Opcode.PSA_AEAD_DECRYPT)

    def psa_cipher_encrypt(self, app: Identity, req: PsaCipherEncryptRequest) -> CiphertextResult:
        raise self.not_served(Opcode.PSA_CIPHER_ENCRYPT)

    def psa_cipher_decrypt(self, app: Identity, req: PsaCipherDecryptRequest) -> PlaintextResult:
        raise self.not_served(Opcode.PSA_CIPHER_DECRYPT)

    def psa_mac_compute(self, app: Identity, req: PsaMacComputeRequest) -> PsaMacComputeResult:
        raise self.not_served(Opcode.PSA_MAC_COMPUTE)

    def psa_mac_verify(self, app: Identity, req: PsaMacVerifyRequest) -> EmptyResult:
        raise self.not_served(Opcode.PSA_MAC_VERIFY)

    # -- capabilities and attestation ---------------------------------------------------------

    def can_do_crypto(self, app: Identity, req: CanDoCryptoRequest) -> EmptyResult:
        raise self.not_served(Opcode.CAN_DO_CRYPTO)

    def prepare_key_attestation(self, app: Identity,
                                req: PrepareKeyAttestationRequest) -> PrepareKeyAttestationResult:
        raise self.not_served(Opcode.PREPARE_KEY_ATTESTATION)

    def attest_key(self, app: Identity, req: AttestKeyRequest) -> AttestKeyResult:
        raise self.not_served(Opcode.ATTEST_KEY)


# The request arrives as decode_request made it: the dataclass OPERATIONS names for the opcode
# (test_contract.py checks that each method's annotations are the ones OPERATIONS names).
AnonymousCall = Callable[[Provide, Identity | None, Any], Any]
IdentifiedCall = Callable[[Provide, Identity, Any], Any]

# Opcodes served without an identity: exactly opcodes.ANONYMOUS_OPCODES.
ANONYMOUS_CALLS: dict[Opcode, AnonymousCall] = {
    Opcode.PING: lambda p, app, req: p.ping(app, req),
    Opcode.LIST_PROVIDERS: lambda p, app, req: p.list_providers(app, req),
    Opcode.LIST_OPCODES: lambda p, app, req: p.list_opcodes(app, req),
    Opcode.LIST_AUTHENTICATORS: lambda p, app, req: p.list_authenticators(app, req),
    Opcode.LIST_CLIENTS: lambda p, app, req: p.list_clients(app, req),
    Opcode.PSA_GENERATE_RANDOM: lambda p, app, req: p.psa_generate_random(app, req),
    Opcode.PSA_HASH_COMPUTE: lambda p, app, req: p.psa_hash_compute(app, req),
    Opcode.PSA_HASH_COMPARE: lambda p, app, req: p.psa_hash_compare(app, req),
}

# Every other opcode.
IDENTIFIED_CALLS: dict[Opcode, IdentifiedCall] = {
    Opcode.LIST_KEYS: lambda p, app, req: p.list_keys(app, req),
    Opcode.DELETE_CLIENT: lambda p, app, req: p.delete_client(app, req),
    Opcode.PSA_GENERATE_KEY: lambda p, app, req: p.psa_generate_key(app, req),
    Opcode.PSA_IMPORT_KEY: lambda p, app, req: p.psa_import_key(app, req),
    Opcode.PSA_DESTROY_KEY: lambda p, app, req: p.psa_destroy_key(app, req),
    Opcode.PSA_EXPORT_PUBLIC_KEY: lambda p, app, req: p.psa_export_public_key(app, req),
    Opcode.PSA_EXPORT_KEY: lambda p, app, req: p.psa_export_key(app, req),
    Opcode.ADOPT_KEY: lambda p, app, req: p.adopt_key(app, req),
    Opcode.PSA_SIGN_HASH: lambda p, app, req: p.psa_sign_hash(app, req),
    Opcode.PSA_VERIFY_HASH: lambda p, app, req: p.psa_verify_hash(app, req),
    Opcode.PSA_SIGN_MESSAGE: lambda p, app, req: p.psa_sign_message(app, req),
    Opcode.PSA_VERIFY_MESSAGE: lambda p, app, req: p.psa_verify_message(app, req),
    Opcode.PSA_ASYMMETRIC_ENCRYPT: lambda p, app, req: p.psa_asymmetric_encrypt(app, req),
    Opcode.PSA_ASYMMETRIC_DECRYPT: lambda p, app, req: p.psa_asymmetric_decrypt(app, req),
    Opcode.PSA_RAW_KEY_AGREEMENT: lambda p, app, req: p.psa_raw_key_agreement(app, req),
    Opcode.PSA_ENCAPSULATE: lambda p, app, req: p.psa_encapsulate(app, req),
    Opcode.PSA_DECAPSULATE: lambda p, app, req: p.psa_decapsulate(app, req),
    Opcode.PSA_AEAD_ENCRYPT: lambda p, app, req: p.psa_aead_encrypt(app, req),
    Opcode.PSA_AEAD_DECRYPT: lambda p, app, req: p.psa_aead_decrypt(app, req),
    Opcode.PSA_CIPHER_ENCRYPT: lambda p, app, req: p.psa_cipher_encrypt(app, req),
    Opcode.PSA_CIPHER_DECRYPT: lambda p, app, req: p.psa_cipher_decrypt(app, req),
    Opcode.PSA_MAC_COMPUTE: lambda p, app, req: p.psa_mac_compute(app, req),
    Opcode.PSA_MAC_VERIFY: lambda p, app, req: p.psa_mac_verify(app, req),
    Opcode.CAN_DO_CRYPTO: lambda p, app, req: p.can_do_crypto(app, req),
    Opcode.PREPARE_KEY_ATTESTATION: lambda p, app, req: p.prepare_key_attestation(app, req),
    Opcode.ATTEST_KEY: lambda p, app, req: p.attest_key(app, req),
}


def call(provider: Provide, opcode: Opcode, app: Identity | None, request: Any) -> Any:
    """Run `opcode`'s operation on `provider`: the result dataclass, or a ParsecError."""
    anonymous = ANONYMOUS_CALLS.get(opcode)
    if anonymous is not None:
        return anonymous(provider, app, request)
    if app is None:  # the dispatcher has answered NotAuthenticated before getting here
        raise ParsecError(ResponseStatus.NOT_AUTHENTICATED,
                          f"{opcode.name} needs an authenticated application")
    return IDENTIFIED_CALLS[opcode](provider, app, request)
