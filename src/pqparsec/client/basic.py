"""`BasicClient`: one typed method per operation, with provider and authenticator discovery.

On top of the one-method-per-opcode layer sit conveniences that read the key's policy (through
ListKeys) and do the client-side work Parsec leaves to applications: hashing before PsaSignHash,
DER <-> raw ECDSA signatures, loading exported public keys into `cryptography` objects, an adapter
that lets `cryptography` sign with a service-held key, AEAD nonces, and client-side key labels.
"""

from __future__ import annotations

import os
import sqlite3
import struct
import threading
from collections.abc import Iterable
from typing import Any, Literal

from pqparsec.client import attestation, keys, templates
from pqparsec.client.adapter import ServicePrivateKey, service_private_key
from pqparsec.client.errors import (
    ClientConfigError,
    InvalidSignature,
    KeyNotFound,
    KeyTypeError,
    NotPermitted,
    NotSupported,
    PlatformStateChanged,
    ServiceError,
    service_error,
)
from pqparsec.client.labels import LabelStore, store_path
from pqparsec.client.pqc_ops import PqcClientMixin
from pqparsec.client.transport import Transport
from pqparsec.protocol import operations as ops
from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import (
    SIGN_KINDS_WITH_HASH,
    AeadAlg,
    CipherMode,
    EncryptAlg,
    Hash,
    KeyAgreementAlg,
    KeyAttributes,
    KeyPolicy,
    MacAlg,
    RawKeyAgreement,
    SignAlg,
    SignKind,
    describe_algorithm,
)
from pqparsec.protocol.status import ResponseStatus

SignatureFormat = Literal["der", "raw"]

# Authenticators this client can produce credentials for. Discovery takes the first one the
# service lists (its primary) that is usable: Direct only with an application name.
_USABLE_AUTH = (AuthType.UNIX_PEER_CREDENTIALS, AuthType.DIRECT, AuthType.NO_AUTH)

# Operations a PCR binding guards, with the usage flag each needs.
_PRIVATE_KEY_USES = {Opcode.PSA_SIGN_HASH: "sign_hash", Opcode.PSA_SIGN_MESSAGE: "sign_message",
                     Opcode.PSA_ASYMMETRIC_DECRYPT: "decrypt"}

AEAD_NONCE_LEN = 12  # GCM's and ChaCha20-Poly1305's nonce; also a valid CCM nonce length


def signs_messages(alg: SignAlg) -> bool:
    """Schemes that sign the whole message rather than a hash (EdDSA, pure ML-DSA/SLH-DSA)."""
    return alg.kind not in SIGN_KINDS_WITH_HASH and alg.kind not in (
        SignKind.RSA_PKCS1V15_SIGN_RAW, SignKind.ECDSA_ANY)


class BasicClient(PqcClientMixin):
    """A client of one Parsec service. Thread-safe: every request uses its own connection.

    `endpoint`: ``unix:/path``; default ``$PARSEC_SERVICE_ENDPOINT``, else
    ``unix:/run/parsec/parsec.sock``. `timeout`: seconds per request (None or 0 = wait forever).
    `provider` and `auth_type` override discovery (first provider of ListProviders; the
    service's authenticator). `app_name` is the identity under the Direct authenticator.
    `labels_dir` overrides where `labels` keeps its file.
    """

    def __init__(self, app_name: str | None = None, endpoint: str | None = None,
                 timeout: float | None = 60.0, provider: int | None = None,
                 auth_type: AuthType | None = None,
                 labels_dir: str | os.PathLike[str] | None = None) -> None:
        self.transport = Transport(endpoint, timeout if timeout else None)
        self.app_name = app_name
        self._provider = None if provider is None else ProviderId(provider)
        self._auth_type = None if auth_type is None else AuthType(auth_type)
        self._labels_dir = labels_dir
        self._lock = threading.Lock()

    def __enter__(self) -> BasicClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: connections live for one request. Kept for symmetry."""

    def __repr__(self) -> str:
        return f"BasicClient(endpoint={self.endpoint!r}, app_name={self.app_name!r})"

    @property
    def endpoint(self) -> str:
        return self.transport.endpoint

    @property
    def timeout(self) -> float | None:
        return self.transport.timeout

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
    def discovered_provider(self) -> ProviderId | None:
        """The implicit provider if it is already known, without asking the service."""
        return self._provider

    @property
    def auth_type(self) -> AuthType:
        """The authenticator requests use: the service's, unless one was chosen."""
        with self._lock:
            if self._auth_type is None:
                self._auth_type = self._discover_auth()
            return self._auth_type

    @auth_type.setter
    def auth_type(self, value: AuthType) -> None:
        self._auth_type = AuthType(value)

    @property
    def discovered_auth_type(self) -> AuthType | None:
        """The authenticator requests use if it is already known, without asking the service."""
        return self._auth_type

    def _discover_auth(self) -> AuthType:
        offered = []
        for info in self.list_authenticators():
            try:
                offered.append(AuthType(info.id))
            except ValueError:
                continue
        if not offered:
            return AuthType.NO_AUTH
        for auth in offered:
            if auth == AuthType.DIRECT and not self.app_name:
                continue
            if auth in _USABLE_AUTH:
                return auth
        if AuthType.DIRECT in offered:
            raise ClientConfigError("the service uses the Direct authenticator: give an "
                                    "application name (app_name)")
        names = ", ".join(a.name for a in offered)
        raise ClientConfigError(f"this client cannot authenticate with the service's "
                                f"authenticator ({names})")

    def _auth(self, auth_type: AuthType) -> bytes:
        if auth_type == AuthType.DIRECT:
            if not self.app_name:
                raise ClientConfigError("the Direct authenticator needs an application name "
                                        "(app_name)")
            return self.app_name.encode()
        if auth_type == AuthType.UNIX_PEER_CREDENTIALS:
            return struct.pack("<I", os.getuid())
        return b""

    @property
    def application(self) -> str:
        """How the service will see this client: the Direct name, ``uid-N``, or ``anonymous``."""
        auth = self.auth_type
        if auth == AuthType.DIRECT:
            return f"direct-{self.app_name}"
        if auth == AuthType.UNIX_PEER_CREDENTIALS:
            return f"uid-{os.getuid()}"
        return "anonymous"

    def supports(self, opcode: Opcode | int, provider: int | None = None) -> bool:
        """Does the provider (default: the implicit one) list this opcode, extensions included?"""
        pid = int(self.provider if provider is None else provider)
        return int(opcode) in self.list_opcodes(pid, include_extensions=True)

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
            raise service_error(header.status, opcode.name)
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

    def generate_key(self, key_name: str, attributes: KeyAttributes, *,
                     pcrs: Iterable[int] | None = None, pcr_digest: bytes = b"") -> None:
        """`pcrs` (extension, TPM provider): bind the key to these PCRs, holding the values
        whose SHA-256 digest is `pcr_digest` (default: the values they hold now). See
        `templates.bound_to_pcrs`."""
        if pcrs is not None:
            attributes = templates.bound_to_pcrs(attributes, pcrs, pcr_digest)
        self.call(Opcode.PSA_GENERATE_KEY, ops.PsaGenerateKeyRequest(key_name, attributes))
        if attributes.pcr_binding is not None:
            self._check_bound(key_name, "PsaGenerateKey")

    def import_key(self, key_name: str, attributes: KeyAttributes, data: bytes, *,
                   pcrs: Iterable[int] | None = None, pcr_digest: bytes = b"") -> None:
        """`pcrs`, `pcr_digest`: as for `generate_key` (private keys, TPM provider)."""
        if pcrs is not None:
            attributes = templates.bound_to_pcrs(attributes, pcrs, pcr_digest)
        self.call(Opcode.PSA_IMPORT_KEY, ops.PsaImportKeyRequest(key_name, attributes, data))
        if attributes.pcr_binding is not None:
            self._check_bound(key_name, "PsaImportKey")

    def _check_bound(self, key_name: str, operation: str) -> None:
        """A service without the extension (a Rust Parsec service) skips the binding field and
        makes an unbound key. Such a key must not be left behind as if it were bound: it is
        destroyed, and the call fails with NotSupported."""
        if self.key_info(key_name).attributes.pcr_binding is not None:
            return
        try:
            self.destroy_key(key_name)
        finally:
            raise NotSupported(ResponseStatus.PSA_ERROR_NOT_SUPPORTED,
                               f"{operation} ({key_name!r}): the service ignored the PCR binding "
                               "(it does not know this pqparsec extension); the unbound key was "
                               "destroyed")

    def destroy_key(self, key_name: str) -> None:
        self.call(Opcode.PSA_DESTROY_KEY, ops.KeyNameRequest(key_name))
        self._forget_labels(key_name)

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
        except NotSupported as exc:
            if exc.status == ResponseStatus.PSA_ERROR_NOT_SUPPORTED:
                return False
            raise
        return True

    def certify_key(self, key_name: str, nonce: bytes | None = None,
                    attesting_key_name: str = "") -> attestation.CertifyAttestation:
        """Key attestation with TPM2_Certify (pqparsec extension of AttestKey; TPM provider):
        see `pqparsec.client.attestation.certify_key`; check the answer with
        `pqparsec.client.attestation.verify_certify`."""
        return attestation.certify_key(self, key_name, nonce, attesting_key_name)

    # ------------------------------------------------------------------------------------------
    # Conveniences: the key's policy decides the algorithm.

    def key_info(self, key_name: str) -> ops.KeyInfo:
        """The key's provider and attributes, from ListKeys (KeyNotFound if it has none)."""
        found = [k for k in self.list_keys(include_extensions=True) if k.name == key_name]
        if not found:
            raise KeyNotFound(ResponseStatus.PSA_ERROR_DOES_NOT_EXIST, f"ListKeys ({key_name!r})")
        if len(found) > 1 and self._provider is not None:
            for k in found:
                if k.provider_id == self._provider:
                    return k
        return found[0]

    def key_attributes(self, key_name: str) -> KeyAttributes:
        return self.key_info(key_name).attributes

    def _on(self, info: ops.KeyInfo, opcode: Opcode, request: Any) -> Any:
        try:
            return self.call(opcode, request, provider=info.provider_id)
        except NotPermitted as exc:
            # Error answers carry no message: a refusal the key's policy cannot explain, from a
            # key bound to PCRs, is the binding's.
            binding, flag = info.attributes.pcr_binding, _PRIVATE_KEY_USES.get(opcode)
            if binding is None or flag is None or not getattr(info.attributes.usage, flag) \
                    or isinstance(exc, PlatformStateChanged):
                raise
            raise PlatformStateChanged(exc.status, exc.operation, binding.describe()) from None

    @staticmethod
    def _policy(info: ops.KeyInfo, kind: type, what: str) -> Any:
        alg = info.attributes.algorithm
        if not isinstance(alg, kind):
            raise KeyTypeError(f"key {info.name!r} is not {what}: its policy permits "
                               f"{describe_algorithm(alg)}")
        return alg

    def signing_algorithm(self, info: ops.KeyInfo,
                          hash: Hash | None = None) -> tuple[SignAlg, Hash | None]:
        """The SignAlg to request for a key and the hash to apply locally first.

        The hash is None when the data is signed as it is: raw PKCS#1 v1.5 (the caller encodes),
        and the schemes that sign whole messages (EdDSA, pure ML-DSA / SLH-DSA).
        """
        policy: SignAlg = self._policy(info, SignAlg, "a signing key")
        if policy.kind == SignKind.RSA_PKCS1V15_SIGN_RAW:
            return policy, hash
        if signs_messages(policy):
            return policy, None
        if policy.kind == SignKind.ECDSA_ANY:
            return policy, hash or Hash.SHA_256
        if isinstance(policy.hash, Hash):
            if hash is not None and hash != policy.hash:
                raise KeyTypeError(f"key {info.name!r} only permits {policy.hash.name}, not "
                                   f"{hash.name}")
            return policy, policy.hash
        chosen = hash or Hash.SHA_256  # the wildcard policy: the caller's hash, or SHA-256
        return SignAlg(policy.kind, chosen), chosen

    def sign(self, key_name: str, data: bytes, format: SignatureFormat = "der",
             hash: Hash | None = None, *, info: ops.KeyInfo | None = None,
             context: bytes = b"") -> bytes:
        """Hash `data` as the key's policy says and sign the hash in the service.

        ECDSA signatures come back DER-encoded (what X.509 and ``openssl dgst -verify`` use) or,
        with ``format="raw"``, as PSA's r||s. Other signatures are the same in both formats.
        Schemes that sign whole messages (EdDSA, pure ML-DSA/SLH-DSA) use PsaSignMessage.
        `context` is the ML-DSA / SLH-DSA context string (0-255 bytes; a protocol extension).
        """
        if format not in ("der", "raw"):
            raise ValueError(f"signature format {format!r}: use 'der' or 'raw'")
        info = info or self.key_info(key_name)
        alg, h = self.signing_algorithm(info, hash)
        # Hedged HashSLH-DSA: the same signature either way, but the service signs a message
        # it hashes itself with its fast back-end, and a client's hash with a slow one.
        if signs_messages(alg) or alg.kind == SignKind.HASH_SLH_DSA:
            return bytes(self._on(info, Opcode.PSA_SIGN_MESSAGE, ops.PsaSignMessageRequest(
                key_name, alg, bytes(data), bytes(context))).signature)
        digest = keys.digest(h, data) if h is not None else bytes(data)
        sig = bytes(self._on(info, Opcode.PSA_SIGN_HASH,
                             ops.PsaSignHashRequest(key_name, alg, digest,
                                                    bytes(context))).signature)
        if alg.is_ecc and format == "der":
            return keys.ecdsa_raw_to_der(sig)
        return sig

    def verify(self, key_name: str, data: bytes, signature: bytes,
               format: SignatureFormat = "der", hash: Hash | None = None, *,
               info: ops.KeyInfo | None = None, context: bytes = b"") -> None:
        """Check a signature of `data` in the service; raises InvalidSignature if it is wrong."""
        if format not in ("der", "raw"):
            raise ValueError(f"signature format {format!r}: use 'der' or 'raw'")
        info = info or self.key_info(key_name)
        alg, h = self.signing_algorithm(info, hash)
        sig = bytes(signature)
        if signs_messages(alg):
            self._on(info, Opcode.PSA_VERIFY_MESSAGE, ops.PsaVerifyMessageRequest(
                key_name, alg, bytes(data), sig, bytes(context)))
            return
        digest = keys.digest(h, data) if h is not None else bytes(data)
        if alg.is_ecc and format == "der":
            try:
                sig = keys.ecdsa_der_to_raw(sig, info.attributes.key_bits)
            except ValueError:
                raise InvalidSignature(ResponseStatus.PSA_ERROR_INVALID_SIGNATURE,
                                       "verify (signature is not DER)") from None
        self._on(info, Opcode.PSA_VERIFY_HASH,
                 ops.PsaVerifyHashRequest(key_name, alg, digest, sig, bytes(context)))

    def public_key(self, key_name: str, *, info: ops.KeyInfo | None = None) -> keys.PublicKey:
        """The key's public part as a `cryptography` public key object."""
        info = info or self.key_info(key_name)
        data = bytes(self._on(info, Opcode.PSA_EXPORT_PUBLIC_KEY,
                              ops.KeyNameRequest(key_name)).data)
        attrs = info.attributes
        return keys.public_key_from_psa(attrs.key_type, attrs.key_bits, data)

    def public_key_pem(self, key_name: str, pkcs1: bool = False) -> str:
        """PEM SubjectPublicKeyInfo (or, for RSA with `pkcs1`, "RSA PUBLIC KEY")."""
        return keys.public_pem(self.public_key(key_name), pkcs1)

    def private_key(self, key_name: str) -> ServicePrivateKey:
        """An adapter usable where `cryptography` expects a private key (see `adapter`)."""
        return service_private_key(self, key_name, self.key_info(key_name))

    def import_key_object(self, key_name: str, key: keys.PrivateKey | keys.PublicKey,
                          policy: KeyPolicy) -> KeyAttributes:
        """Import a `cryptography` key with the given policy; returns the attributes used."""
        if isinstance(key, keys.PrivateKey):
            kt, bits, data = keys.private_key_to_psa(key)
        else:
            kt, bits, data = keys.public_key_to_psa(key)
        attrs = KeyAttributes(kt, bits, policy)
        self.import_key(key_name, attrs, data)
        return attrs

    def export_key_object(self, key_name: str) -> keys.PrivateKey | keys.PublicKey:
        """PsaExportKey of an asymmetric key, as a `cryptography` key object."""
        info = self.key_info(key_name)
        data = bytes(self._on(info, Opcode.PSA_EXPORT_KEY, ops.KeyNameRequest(key_name)).data)
        kt, bits = info.attributes.key_type, info.attributes.key_bits
        if kt.is_public_key:
            return keys.public_key_from_psa(kt, bits, data)
        return keys.private_key_from_psa(kt, bits, data)

    def encrypt(self, key_name: str, plaintext: bytes, salt: bytes = b"", *,
                info: ops.KeyInfo | None = None) -> bytes:
        """PsaAsymmetricEncrypt with the key's algorithm."""
        info = info or self.key_info(key_name)
        alg: EncryptAlg = self._policy(info, EncryptAlg, "an asymmetric encryption key")
        return bytes(self._on(info, Opcode.PSA_ASYMMETRIC_ENCRYPT,
                              ops.PsaAsymmetricEncryptRequest(key_name, alg, plaintext,
                                                              salt)).ciphertext)

    def decrypt(self, key_name: str, ciphertext: bytes, salt: bytes = b"", *,
                info: ops.KeyInfo | None = None) -> bytes:
        """PsaAsymmetricDecrypt with the key's algorithm."""
        info = info or self.key_info(key_name)
        alg: EncryptAlg = self._policy(info, EncryptAlg, "an asymmetric encryption key")
        return bytes(self._on(info, Opcode.PSA_ASYMMETRIC_DECRYPT,
                              ops.PsaAsymmetricDecryptRequest(key_name, alg, ciphertext,
                                                              salt)).plaintext)

    def seal(self, key_name: str, plaintext: bytes, additional_data: bytes = b"",
             nonce: bytes | None = None, *, info: ops.KeyInfo | None = None) -> bytes:
        """AEAD-encrypt with the key's algorithm and a fresh random nonce: nonce || ciphertext."""
        info = info or self.key_info(key_name)
        alg: AeadAlg = self._policy(info, AeadAlg, "an AEAD key")
        if nonce is None:
            nonce = os.urandom(AEAD_NONCE_LEN)
        elif len(nonce) != AEAD_NONCE_LEN:
            raise ValueError(f"seal() uses {AEAD_NONCE_LEN}-byte nonces")
        ct = bytes(self._on(info, Opcode.PSA_AEAD_ENCRYPT, ops.PsaAeadEncryptRequest(
            key_name, alg, nonce, additional_data, plaintext)).ciphertext)
        return nonce + ct

    def unseal(self, key_name: str, sealed: bytes, additional_data: bytes = b"", *,
               info: ops.KeyInfo | None = None) -> bytes:
        """The inverse of `seal`."""
        info = info or self.key_info(key_name)
        alg: AeadAlg = self._policy(info, AeadAlg, "an AEAD key")
        if len(sealed) < AEAD_NONCE_LEN:
            raise ValueError("sealed data is shorter than its nonce")
        nonce, ct = sealed[:AEAD_NONCE_LEN], sealed[AEAD_NONCE_LEN:]
        return bytes(self._on(info, Opcode.PSA_AEAD_DECRYPT, ops.PsaAeadDecryptRequest(
            key_name, alg, nonce, additional_data, ct)).plaintext)

    def mac(self, key_name: str, data: bytes, *,
            info: ops.KeyInfo | None = None) -> bytes:
        """PsaMacCompute with the key's algorithm."""
        info = info or self.key_info(key_name)
        alg: MacAlg = self._policy(info, MacAlg, "a MAC key")
        return bytes(self._on(info, Opcode.PSA_MAC_COMPUTE,
                              ops.PsaMacComputeRequest(key_name, alg, data)).mac)

    def mac_check(self, key_name: str, data: bytes, mac: bytes, *,
                  info: ops.KeyInfo | None = None) -> None:
        """PsaMacVerify with the key's algorithm; raises InvalidSignature on a wrong MAC."""
        info = info or self.key_info(key_name)
        alg: MacAlg = self._policy(info, MacAlg, "a MAC key")
        self._on(info, Opcode.PSA_MAC_VERIFY, ops.PsaMacVerifyRequest(key_name, alg, data, mac))

    def agree(self, key_name: str, peer: keys.PublicKey | bytes, *,
              info: ops.KeyInfo | None = None) -> bytes:
        """Raw key agreement with the key's algorithm (ECDH/FFDH); the peer as an object or in
        PSA public format."""
        info = info or self.key_info(key_name)
        alg: KeyAgreementAlg = self._policy(info, KeyAgreementAlg, "a key agreement key")
        peer_bytes = peer if isinstance(peer, bytes) else keys.public_key_to_psa(peer)[2]
        return bytes(self._on(info, Opcode.PSA_RAW_KEY_AGREEMENT, ops.PsaRawKeyAgreementRequest(
            alg.raw, key_name, peer_bytes)).shared_secret)

    # -- client-side labels ---------------------------------------------------------------------

    @property
    def labels(self) -> LabelStore:
        """Labels of this application's keys, kept in a SQLite file of the user's."""
        return LabelStore(store_path(self.application, self._labels_dir), self.endpoint,
                          lambda: [k.name for k in self.list_keys(include_extensions=True)])

    def _forget_labels(self, key_name: str) -> None:
        try:
            self.labels.remove(key_name)
        except (sqlite3.Error, OSError, ServiceError, ClientConfigError):
            pass  # labels are a convenience: never fail a destroy because of them
