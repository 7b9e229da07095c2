"""`BasicClient`: one typed method per operation, with provider and authenticator discovery."""

from __future__ import annotations

import os
import struct
import threading
from typing import Any

from pqparsec.client.errors import ServiceError
from pqparsec.client.transport import Transport
from pqparsec.protocol import operations as ops
from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    AeadAlg,
    CipherMode,
    EncryptAlg,
    Hash,
    KeyAttributes,
    MacAlg,
    RawKeyAgreement,
    SignAlg,
)
from pqparsec.protocol.status import ResponseStatus


class BasicClient:
    """A client of one Parsec service. Thread-safe: every request uses its own connection."""

    def __init__(self, app_name: str | None = None, endpoint: str | None = None,
                 timeout: float | None = 60.0, provider: int | None = None,
                 auth_type: AuthType | None = None) -> None:
        self.transport = Transport(endpoint, timeout)
        self.app_name = app_name
        self._provider = None if provider is None else ProviderId(provider)
        self._auth_type = auth_type
        self._lock = threading.Lock()

    def __enter__(self) -> BasicClient:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    # -- discovery ----------------------------------------------------------------------------

    @property
    def provider(self) -> ProviderId:
        """The implicit provider: the service's first, unless one was chosen."""
        with self._lock:
            if self._provider is None:
                first = self.list_providers()[0]
                self._provider = ProviderId(first.id)
            return self._provider

    @provider.setter
    def provider(self, value: int) -> None:
        self._provider = ProviderId(value)

    @property
    def auth_type(self) -> AuthType:
        with self._lock:
            if self._auth_type is None:
                auths = self.list_authenticators()
                self._auth_type = AuthType(auths[0].id) if auths else AuthType.NO_AUTH
            return self._auth_type

    def _auth(self, auth_type: AuthType) -> bytes:
        if auth_type == AuthType.DIRECT:
            if not self.app_name:
                raise ValueError("the Direct authenticator needs an application name (app_name)")
            return self.app_name.encode()
        if auth_type == AuthType.UNIX_PEER_CREDENTIALS:
            return struct.pack("<I", os.getuid())
        return b""

    # -- the generic call ---------------------------------------------------------------------

    def call(self, opcode: Opcode, request: Any, provider: int | None = None,
             authenticated: bool = True) -> Any:
        """Send one typed request and return the typed result, or raise ServiceError."""
        pid = int(self.provider if provider is None else provider)
        auth_type = self.auth_type if authenticated else AuthType.NO_AUTH
        body = ops.encode_request(opcode, request)
        header, payload = self.transport.exchange(int(opcode), pid, body, int(auth_type),
                                                  self._auth(auth_type))
        if header.status != ResponseStatus.SUCCESS:
            try:
                status = ResponseStatus(header.status)
            except ValueError:
                status = ResponseStatus.PSA_ERROR_GENERIC_ERROR
            raise ServiceError(status, opcode.name)
        return ops.decode_result(opcode, payload)

    def _core(self, opcode: Opcode, request: Any, authenticated: bool = False) -> Any:
        return self.call(opcode, request, provider=ProviderId.CORE, authenticated=authenticated)

    # -- core operations ------------------------------------------------------------------------

    def ping(self) -> tuple[int, int]:
        r = self._core(Opcode.PING, ops.PingRequest())
        return r.wire_protocol_version_maj, r.wire_protocol_version_min

    def list_providers(self) -> list[ops.ProviderInfo]:
        return list(self._core(Opcode.LIST_PROVIDERS, ops.ListProvidersRequest()).providers)

    def list_opcodes(self, provider: int, include_extensions: bool = False) -> list[int]:
        return list(self._core(Opcode.LIST_OPCODES,
                               ops.ListOpcodesRequest(provider, include_extensions)).opcodes)

    def list_authenticators(self) -> list[ops.AuthenticatorInfo]:
        return list(self._core(Opcode.LIST_AUTHENTICATORS,
                               ops.ListAuthenticatorsRequest()).authenticators)

    def list_keys(self, include_extensions: bool = False) -> list[ops.KeyInfo]:
        return list(self._core(Opcode.LIST_KEYS, ops.ListKeysRequest(include_extensions),
                               authenticated=True).keys)

    def list_clients(self) -> list[str]:
        return list(self._core(Opcode.LIST_CLIENTS, ops.ListClientsRequest(),
                               authenticated=True).clients)

    def delete_client(self, client: str) -> None:
        self._core(Opcode.DELETE_CLIENT, ops.DeleteClientRequest(client), authenticated=True)

    # -- key management ------------------------------------------------------------------------

    def generate_key(self, key_name: str, attributes: KeyAttributes) -> None:
        self.call(Opcode.PSA_GENERATE_KEY, ops.PsaGenerateKeyRequest(key_name, attributes))

    def import_key(self, key_name: str, attributes: KeyAttributes, data: bytes) -> None:
        self.call(Opcode.PSA_IMPORT_KEY, ops.PsaImportKeyRequest(key_name, attributes, data))

    def destroy_key(self, key_name: str) -> None:
        self.call(Opcode.PSA_DESTROY_KEY, ops.KeyNameRequest(key_name))

    def export_public_key(self, key_name: str) -> bytes:
        return bytes(self.call(Opcode.PSA_EXPORT_PUBLIC_KEY, ops.KeyNameRequest(key_name)).data)

    def export_key(self, key_name: str) -> bytes:
        return bytes(self.call(Opcode.PSA_EXPORT_KEY, ops.KeyNameRequest(key_name)).data)

    def generate_random(self, size: int) -> bytes:
        return bytes(self.call(Opcode.PSA_GENERATE_RANDOM, ops.PsaGenerateRandomRequest(size),
                               authenticated=False).random_bytes)

    # -- signatures ----------------------------------------------------------------------------

    def sign_hash(self, key_name: str, alg: SignAlg, hash: bytes) -> bytes:
        return bytes(self.call(Opcode.PSA_SIGN_HASH,
                               ops.PsaSignHashRequest(key_name, alg, hash)).signature)

    def verify_hash(self, key_name: str, alg: SignAlg, hash: bytes, signature: bytes) -> None:
        self.call(Opcode.PSA_VERIFY_HASH, ops.PsaVerifyHashRequest(key_name, alg, hash, signature))

    def sign_message(self, key_name: str, alg: SignAlg, message: bytes) -> bytes:
        return bytes(self.call(Opcode.PSA_SIGN_MESSAGE,
                               ops.PsaSignMessageRequest(key_name, alg, message)).signature)

    def verify_message(self, key_name: str, alg: SignAlg, message: bytes, signature: bytes) -> None:
        self.call(Opcode.PSA_VERIFY_MESSAGE,
                  ops.PsaVerifyMessageRequest(key_name, alg, message, signature))

    # -- encryption ----------------------------------------------------------------------------

    def asymmetric_encrypt(self, key_name: str, alg: EncryptAlg, plaintext: bytes,
                           salt: bytes = b"") -> bytes:
        return bytes(self.call(Opcode.PSA_ASYMMETRIC_ENCRYPT, ops.PsaAsymmetricEncryptRequest(
            key_name, alg, plaintext, salt)).ciphertext)

    def asymmetric_decrypt(self, key_name: str, alg: EncryptAlg, ciphertext: bytes,
                           salt: bytes = b"") -> bytes:
        return bytes(self.call(Opcode.PSA_ASYMMETRIC_DECRYPT, ops.PsaAsymmetricDecryptRequest(
            key_name, alg, ciphertext, salt)).plaintext)

    def aead_encrypt(self, key_name: str, alg: AeadAlg, nonce: bytes, additional_data: bytes,
                     plaintext: bytes) -> bytes:
        return bytes(self.call(Opcode.PSA_AEAD_ENCRYPT, ops.PsaAeadEncryptRequest(
            key_name, alg, nonce, additional_data, plaintext)).ciphertext)

    def aead_decrypt(self, key_name: str, alg: AeadAlg, nonce: bytes, additional_data: bytes,
                     ciphertext: bytes) -> bytes:
        return bytes(self.call(Opcode.PSA_AEAD_DECRYPT, ops.PsaAeadDecryptRequest(
            key_name, alg, nonce, additional_data, ciphertext)).plaintext)

    def cipher_encrypt(self, key_name: str, alg: CipherMode, plaintext: bytes) -> bytes:
        return bytes(self.call(Opcode.PSA_CIPHER_ENCRYPT,
                               ops.PsaCipherEncryptRequest(key_name, alg, plaintext)).ciphertext)

    def cipher_decrypt(self, key_name: str, alg: CipherMode, ciphertext: bytes) -> bytes:
        return bytes(self.call(Opcode.PSA_CIPHER_DECRYPT,
                               ops.PsaCipherDecryptRequest(key_name, alg, ciphertext)).plaintext)

    # -- hash, MAC, key agreement, capabilities -----------------------------------------------

    def hash_compute(self, alg: Hash, data: bytes) -> bytes:
        return bytes(self.call(Opcode.PSA_HASH_COMPUTE, ops.PsaHashComputeRequest(alg, data),
                               authenticated=False).hash)

    def hash_compare(self, alg: Hash, data: bytes, hash: bytes) -> None:
        self.call(Opcode.PSA_HASH_COMPARE, ops.PsaHashCompareRequest(alg, data, hash),
                  authenticated=False)

    def mac_compute(self, key_name: str, alg: MacAlg, data: bytes) -> bytes:
        return bytes(self.call(Opcode.PSA_MAC_COMPUTE,
                               ops.PsaMacComputeRequest(key_name, alg, data)).mac)

    def mac_verify(self, key_name: str, alg: MacAlg, data: bytes, mac: bytes) -> None:
        self.call(Opcode.PSA_MAC_VERIFY, ops.PsaMacVerifyRequest(key_name, alg, data, mac))

    def raw_key_agreement(self, alg: RawKeyAgreement, private_key_name: str,
                          peer_key: bytes) -> bytes:
        return bytes(self.call(Opcode.PSA_RAW_KEY_AGREEMENT, ops.PsaRawKeyAgreementRequest(
            alg, private_key_name, peer_key)).shared_secret)

    def can_do_crypto(self, check_type: ops.CheckType, attributes: KeyAttributes) -> bool:
        """True if the provider can; False on PsaErrorNotSupported; other errors raise."""
        try:
            self.call(Opcode.CAN_DO_CRYPTO, ops.CanDoCryptoRequest(check_type, attributes))
        except ServiceError as exc:
            if exc.status == ResponseStatus.PSA_ERROR_NOT_SUPPORTED:
                return False
            raise
        return True
