"""The TPM provider's operations (see the package docstring for the design)."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from tpm2_pytss.constants import ESYS_TR, TPM2_ALG, TPM2_RC, TPM2_RH, TPM2_SE, TPM2_ST
from tpm2_pytss.types import (
    TPM2B_DATA,
    TPM2B_DIGEST,
    TPM2B_ENCRYPTED_SECRET,
    TPM2B_ID_OBJECT,
    TPM2B_PUBLIC_KEY_RSA,
    TPMS_SCHEME_HASH,
    TPMT_RSA_DECRYPT,
    TPMT_SIG_SCHEME,
    TPMT_SYM_DEF,
    TPMT_SYM_DEF_OBJECT,
    TPMT_TK_HASHCHECK,
    TPMU_ASYM_SCHEME,
)
from tpm2_pytss.utils import wrap

from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import (
    ActivateCredentialOutput,
    ActivateCredentialPrepared,
    AttestationOutput,
    AttestKeyRequest,
    AttestKeyResult,
    CanDoCryptoRequest,
    CertifyOutput,
    CertifyParams,
    CiphertextResult,
    EmptyResult,
    KeyDataResult,
    KeyNameRequest,
    PlaintextResult,
    PrepareKeyAttestationOutput,
    PrepareKeyAttestationRequest,
    PrepareKeyAttestationResult,
    PsaAsymmetricDecryptRequest,
    PsaAsymmetricEncryptRequest,
    PsaGenerateKeyRequest,
    PsaGenerateRandomRequest,
    PsaGenerateRandomResult,
    PsaImportKeyRequest,
    PsaSignHashRequest,
    PsaSignMessageRequest,
    PsaVerifyHashRequest,
    PsaVerifyMessageRequest,
    SignatureResult,
)
from pqparsec.protocol.psa import (
    AnyHash,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAttributes,
    SignAlg,
    SignKind,
)
from pqparsec.protocol.psa.policy import (
    check_alg,
    check_not_deprecated,
    check_pcr_binding,
    check_sign_hash_length,
    check_sign_request,
    check_usage,
    invalid_argument,
    not_permitted,
    not_supported,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord, KeyStore
from pqparsec.service.providers.base import KeyProvider, ServiceLimits
from pqparsec.service.providers.software import keys
from pqparsec.service.providers.software.base import with_implied_usage
from pqparsec.service.providers.tpm import blob as blobs
from pqparsec.service.providers.tpm import capabilities as caps
from pqparsec.service.providers.tpm import device as tpm_device
from pqparsec.service.providers.tpm import oaep, objects, pcr

log = logging.getLogger(__name__)

T = TypeVar("T")

_HASHES: dict[Hash, type[hashes.HashAlgorithm]] = {
    Hash.SHA_1: hashes.SHA1, Hash.SHA_256: hashes.SHA256, Hash.SHA_384: hashes.SHA384,
    Hash.SHA_512: hashes.SHA512,
}
_BAD_CREDENTIAL = {int(TPM2_RC.VALUE), int(TPM2_RC.SIZE), int(TPM2_RC.INTEGRITY)}
RAW_SIGN_KINDS = frozenset({SignKind.RSA_PKCS1V15_SIGN_RAW, SignKind.ECDSA_ANY})
RANDOM_CHUNK = 4096  # bytes fetched per turn on the TPM worker, so big requests do not hog it
CERTIFY_NONCE_MAX = 64  # TPM2B_DATA's buffer: the most qualifyingData a TPM takes


def _hash_alg(h: Hash) -> hashes.HashAlgorithm:
    cls = _HASHES.get(h)
    if cls is None:
        raise not_supported(f"the TPM provider does not support {h.name}")
    return cls()


def _digest(h: Hash, data: bytes) -> bytes:
    d = hashes.Hash(_hash_alg(h))
    d.update(data)
    return d.finalize()


def _pss_salt_length(key_bits: int, h: hashes.HashAlgorithm) -> int:
    """PSA_ALG_RSA_PSS, and what the TPM makes: a salt as long as the hash, or the largest the
    key leaves room for."""
    room = (key_bits - 1 + 7) // 8 - h.digest_size - 2
    if room < 0:
        raise invalid_argument(f"a {key_bits}-bit RSA key is too small for PSS with {h.name}")
    return min(h.digest_size, room)


class TpmProvider(KeyProvider):
    provider_id = ProviderId.TPM
    description = ("TPM 2.0 provider: keys wrapped by the TPM's storage key and used inside "
                   "the TPM, through tpm2-pytss")
    supports_pcr_binding = True
    supported_opcodes = frozenset({
        Opcode.PSA_GENERATE_KEY, Opcode.PSA_IMPORT_KEY, Opcode.PSA_DESTROY_KEY,
        Opcode.PSA_EXPORT_PUBLIC_KEY, Opcode.PSA_GENERATE_RANDOM,
        Opcode.PSA_SIGN_HASH, Opcode.PSA_VERIFY_HASH, Opcode.PSA_SIGN_MESSAGE,
        Opcode.PSA_VERIFY_MESSAGE,
        Opcode.PSA_ASYMMETRIC_ENCRYPT, Opcode.PSA_ASYMMETRIC_DECRYPT,
        Opcode.PREPARE_KEY_ATTESTATION, Opcode.ATTEST_KEY,
        Opcode.CAN_DO_CRYPTO,
    })

    def __init__(self, store: KeyStore, device: tpm_device.TpmDevice, name: str | None = None,
                 limits: ServiceLimits | None = None) -> None:
        super().__init__(store, name, limits)
        self.device = device
        self._closed = False
        # Requests wait for the one TPM worker on these threads, not on the shared pool.
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="pqparsec-tpm-req")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            tpm_device.release(self.device)
            assert self.executor is not None
            self.executor.shutdown(wait=False)

    # -- the TPM worker -------------------------------------------------------------------------

    def _tpm(self, what: str, job: Callable[[Any], T]) -> T:
        """Run a job on the TPM worker; TSS errors become PSA statuses."""
        try:
            result: T = self.device.run(job)
            return result
        except tpm_device.TSS2_Exception as exc:
            raise tpm_device.parsec_error(exc, self.device.tcti, what) from None

    # -- stored keys ----------------------------------------------------------------------------

    @staticmethod
    def _blob(rec: KeyRecord) -> blobs.KeyBlob:
        return blobs.decode(rec.key_id)

    def _tpm_key(self, rec: KeyRecord, op: str) -> blobs.TpmKeyBlob:
        b = self._blob(rec)
        if not isinstance(b, blobs.TpmKeyBlob):
            raise invalid_argument(f"a public key cannot be used for {op}")
        return b

    def public_key(self, rec: KeyRecord) -> keys.PublicKey:
        b = self._blob(rec)
        if isinstance(b, blobs.TpmKeyBlob):
            return objects.public_key(objects.unmarshal_public(b.public))
        return keys.load_public(b.data, rec.attributes)

    # -- key management -------------------------------------------------------------------------

    def psa_generate_key(self, app: Identity, req: PsaGenerateKeyRequest) -> EmptyResult:
        attrs = req.attributes
        check_not_deprecated(attrs, self.limits.allow_deprecated)
        if self.store.exists(app, req.key_name):
            raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS,
                              f"key {req.key_name!r} already exists")
        if attrs.key_type.is_public_key:
            raise invalid_argument("a public key cannot be generated; generate the key pair")
        caps.check_key_type(attrs.key_type, attrs.key_bits)
        caps.check_policy(attrs)
        attrs, bound_values = self._bind(attrs, "PsaGenerateKey")
        auth = os.urandom(objects.AUTH_LEN)
        policy = self._auth_policy(attrs)

        def create(dev: Any) -> bytes:
            private, public, *_ = dev.ctx.create(dev.primary, objects.sensitive_create(auth),
                                                 objects.key_template(attrs, policy))
            return blobs.encode(blobs.TpmKeyBlob(dev.primary_name, auth, bytes(public.marshal()),
                                                 bytes(private.marshal()), bound_values))

        # Nothing stays in the TPM, so a failed mapping leaves nothing to undo.
        self.create(app, req.key_name, attrs, lambda: self._tpm("PsaGenerateKey", create))
        return EmptyResult()

    def psa_import_key(self, app: Identity, req: PsaImportKeyRequest) -> EmptyResult:
        attrs = req.attributes
        kt = attrs.key_type
        if self.store.exists(app, req.key_name):
            raise ParsecError(ResponseStatus.PSA_ERROR_ALREADY_EXISTS,
                              f"key {req.key_name!r} already exists")
        if not caps.key_sizes(kt):
            raise not_supported(f"importing {kt.describe()} keys is not supported by the TPM "
                                "provider")
        caps.check_policy(attrs)
        attrs, bound_values = self._bind(attrs, "PsaImportKey")
        make_key: Callable[[], bytes]
        if kt.is_public_key:
            pub = keys.load_public(req.data, attrs)
            bits = self._checked_bits(attrs, keys.key_size_bits(pub))
            data = blobs.encode(blobs.PublicKeyBlob(keys.export_public(pub)))

            def make_key() -> bytes:
                return data
        else:
            priv = keys.load_private(req.data, attrs)
            bits = self._checked_bits(attrs, keys.key_size_bits(priv))
            final = dataclasses.replace(attrs, key_bits=bits)

            def make_key() -> bytes:
                return self._tpm("PsaImportKey",
                                 lambda dev: self._import_private(dev, final, priv, bound_values))
        self.create(app, req.key_name, dataclasses.replace(attrs, key_bits=bits), make_key)
        return EmptyResult()

    @staticmethod
    def _checked_bits(attrs: KeyAttributes, bits: int) -> int:
        if attrs.key_bits and attrs.key_bits != bits:
            raise invalid_argument(f"key_bits is {attrs.key_bits} but the key data has {bits} bits")
        caps.check_key_type(attrs.key_type, bits)
        return bits

    @classmethod
    def _import_private(cls, dev: Any, attrs: KeyAttributes, key: keys.PrivateKey,
                        bound_values: bytes = b"") -> bytes:
        """TPM2_Import: wrap the key to the storage key's public part (as a duplication blob
        would be), let the TPM re-wrap it under its own protection."""
        auth = os.urandom(objects.AUTH_LEN)
        public, sensitive = objects.import_structures(attrs, key, auth, cls._auth_policy(attrs))
        _, duplicate, seed = wrap(dev.primary_public.publicArea, public, sensitive)
        private = dev.ctx.import_(dev.primary, TPM2B_DATA(), public, duplicate, seed,
                                  TPMT_SYM_DEF_OBJECT(algorithm=TPM2_ALG.NULL))
        return blobs.encode(blobs.TpmKeyBlob(dev.primary_name, auth, bytes(public.marshal()),
                                             bytes(private.marshal()), bound_values))

    # -- keys bound to PCR values (pcr.py) --------------------------------------------------------

    def _bind(self, attrs: KeyAttributes, what: str) -> tuple[KeyAttributes, bytes]:
        """A requested PCR binding, checked and resolved: the attributes to store, with the
        digest the key is bound to (the PCRs' current values unless the caller gave one), and
        the PCR values behind it (empty if the caller gave the digest)."""
        binding = attrs.pcr_binding
        if binding is None:
            return attrs, b""
        binding = check_pcr_binding(binding)
        pcr.check_bank(binding)
        if attrs.key_type.is_public_key:
            raise not_supported("a public key cannot be bound to PCRs: it is used outside the "
                                "TPM")
        resolved, values = self._tpm(what, lambda dev: pcr.resolve(dev, binding))
        return dataclasses.replace(attrs, policy=dataclasses.replace(
            attrs.policy, pcr_binding=resolved)), values

    @staticmethod
    def _auth_policy(attrs: KeyAttributes) -> bytes:
        binding = attrs.pcr_binding
        return b"" if binding is None else pcr.policy_digest(binding)

    def psa_destroy_key(self, app: Identity, req: KeyNameRequest) -> EmptyResult:
        self.remove(app, req.key_name)  # the TPM holds nothing of the key between uses
        return EmptyResult()

    def psa_export_public_key(self, app: Identity, req: KeyNameRequest) -> KeyDataResult:
        rec = self.load(app, req.key_name)
        return KeyDataResult(keys.export_public(self.public_key(rec)))

    # -- signatures -----------------------------------------------------------------------------

    def _checked(self, app: Identity, key_name: str, alg: SignAlg, flag: str, op: str,
                 context: bytes) -> KeyRecord:
        """The software provider's checks, in Parsec's order: usage (with the flags PSA implies),
        permitted algorithm, scheme and key type, what this provider supports, the context, a public key
        asked to sign."""
        rec = self.load(app, key_name)
        attrs = with_implied_usage(rec.attributes)
        # Usage flag and permitted algorithm (NotPermitted) before the key type (InvalidArgument),
        # which check_sign_request tests before the policy.
        check_usage(attrs, flag, op)
        check_alg(attrs, alg, op, verify=flag.startswith("verify"))
        check_sign_request(attrs, alg, flag, op)
        if flag.endswith("message") and alg.kind in RAW_SIGN_KINDS:
            raise invalid_argument(f"{alg.kind.name} signs a hash: use PsaSignHash/PsaVerifyHash")
        caps.check_sign_alg(rec.attributes.key_type, alg)
        if context:
            raise invalid_argument(f"{alg.kind.name} takes no context string")
        if flag.startswith("sign") and not rec.attributes.key_type.is_key_pair:
            raise invalid_argument("a public key cannot sign")
        return rec

    def _sign(self, rec: KeyRecord, alg: SignAlg, digest: bytes) -> bytes:
        key = self._tpm_key(rec, "signing")
        public = objects.unmarshal_public(key.public)
        scheme = objects.sig_scheme(alg)

        binding = rec.attributes.pcr_binding

        def sign(dev: Any) -> Any:
            with dev.loaded(key) as handle:
                return pcr.authorized(dev, binding, key.pcr_values, lambda session: dev.ctx.sign(
                    handle, TPM2B_DIGEST(digest), scheme,
                    TPMT_TK_HASHCHECK(tag=TPM2_ST.HASHCHECK, hierarchy=TPM2_RH.NULL),
                    session1=session))
        return objects.signature_bytes(self._tpm("signing", sign), alg, public)

    def _verify(self, rec: KeyRecord, alg: SignAlg, digest: bytes, signature: bytes) -> None:
        assert isinstance(alg.hash, Hash)
        h = _hash_alg(alg.hash)
        pub = self.public_key(rec)
        bad = ParsecError(ResponseStatus.PSA_ERROR_INVALID_SIGNATURE, "signature is not valid")
        try:
            if isinstance(pub, rsa.RSAPublicKey):
                pad = padding.PKCS1v15() if alg.kind == SignKind.RSA_PKCS1V15_SIGN else \
                    padding.PSS(padding.MGF1(h), _pss_salt_length(pub.key_size, h))
                pub.verify(signature, digest, pad, Prehashed(h))
            elif isinstance(pub, ec.EllipticCurvePublicKey):
                n = keys.scalar_len(pub.curve.key_size)
                if len(signature) != 2 * n:
                    raise bad
                der = encode_dss_signature(int.from_bytes(signature[:n], "big"),
                                           int.from_bytes(signature[n:], "big"))
                pub.verify(der, digest, ec.ECDSA(Prehashed(h)))
            else:
                raise invalid_argument("this key type cannot verify")
        except InvalidSignature:
            raise bad from None

    def psa_sign_hash(self, app: Identity, req: PsaSignHashRequest) -> SignatureResult:
        rec = self._checked(app, req.key_name, req.alg, "sign_hash", "signing hashes",
                            req.context)
        check_sign_hash_length(req.alg, req.hash)
        return SignatureResult(self._sign(rec, req.alg, req.hash))

    def psa_verify_hash(self, app: Identity, req: PsaVerifyHashRequest) -> EmptyResult:
        rec = self._checked(app, req.key_name, req.alg, "verify_hash",
                            "verifying hash signatures", req.context)
        check_sign_hash_length(req.alg, req.hash)
        self._verify(rec, req.alg, req.hash, req.signature)
        return EmptyResult()

    def psa_sign_message(self, app: Identity, req: PsaSignMessageRequest) -> SignatureResult:
        rec = self._checked(app, req.key_name, req.alg, "sign_message", "signing messages",
                            req.context)
        assert isinstance(req.alg.hash, Hash)
        return SignatureResult(self._sign(rec, req.alg, _digest(req.alg.hash, req.message)))

    def psa_verify_message(self, app: Identity, req: PsaVerifyMessageRequest) -> EmptyResult:
        rec = self._checked(app, req.key_name, req.alg, "verify_message", "verifying messages",
                            req.context)
        assert isinstance(req.alg.hash, Hash)
        self._verify(rec, req.alg, _digest(req.alg.hash, req.message), req.signature)
        return EmptyResult()

    # -- asymmetric encryption ------------------------------------------------------------------

    @staticmethod
    def _check_crypt(attrs: KeyAttributes, alg: EncryptAlg, salt: bytes, flag: str,
                     op: str) -> None:
        """Parsec's order, as the software provider: usage flag, permitted algorithm, key type,
        what this provider supports, salt."""
        check_usage(attrs, flag, op)
        check_alg(attrs, alg, op)
        if not attrs.key_type.is_rsa:
            raise invalid_argument(f"{alg.kind.name} needs an RSA key, not "
                                   f"{attrs.key_type.describe()}")
        caps.check_encrypt_alg(attrs.key_type, alg)
        if alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT and salt:
            raise invalid_argument("RSA PKCS#1 v1.5 encryption takes no salt")

    @staticmethod
    def _padding(alg: EncryptAlg, salt: bytes) -> padding.AsymmetricPadding:
        if alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
            return padding.PKCS1v15()
        assert alg.hash is not None
        h = _hash_alg(alg.hash)
        return padding.OAEP(padding.MGF1(h), h, salt or None)

    def psa_asymmetric_encrypt(self, app: Identity,
                               req: PsaAsymmetricEncryptRequest) -> CiphertextResult:
        rec = self.load(app, req.key_name)
        self._check_crypt(rec.attributes, req.alg, req.salt, "encrypt", "encryption")
        pub = self.public_key(rec)
        assert isinstance(pub, rsa.RSAPublicKey)
        try:
            return CiphertextResult(pub.encrypt(req.plaintext, self._padding(req.alg, req.salt)))
        except ValueError as exc:
            raise invalid_argument(f"cannot encrypt: {exc}") from None

    def psa_asymmetric_decrypt(self, app: Identity,
                               req: PsaAsymmetricDecryptRequest) -> PlaintextResult:
        rec = self.load(app, req.key_name)
        alg, salt = req.alg, req.salt
        self._check_crypt(rec.attributes, alg, salt, "decrypt", "decryption")
        key = self._tpm_key(rec, "decryption")
        k = (rec.attributes.key_bits + 7) // 8
        if len(req.ciphertext) != k:
            raise invalid_argument(f"ciphertext of {len(req.ciphertext)} bytes for a "
                                   f"{rec.attributes.key_bits}-bit key")
        # The TPM takes OAEP labels as NUL-terminated strings of at most 64 bytes; any other
        # label is handled by a raw RSA decryption in the TPM and the OAEP decoding here.
        raw = alg.kind == EncryptKind.RSA_OAEP and bool(salt) and (salt[-1] != 0 or len(salt) > 64)
        if alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
            scheme = TPMT_RSA_DECRYPT(scheme=TPM2_ALG.RSAES)
        elif raw:
            scheme = TPMT_RSA_DECRYPT(scheme=TPM2_ALG.NULL)
        else:
            assert alg.hash is not None
            scheme = TPMT_RSA_DECRYPT(scheme=TPM2_ALG.OAEP, details=TPMU_ASYM_SCHEME(
                oaep=TPMS_SCHEME_HASH(hashAlg=objects.tpm_hash(alg.hash))))
        label = TPM2B_DATA(b"" if raw else salt)
        binding = rec.attributes.pcr_binding

        def decrypt(dev: Any) -> bytes:
            with dev.loaded(key) as handle:
                try:
                    out = pcr.authorized(dev, binding, key.pcr_values,
                                         lambda session: dev.ctx.rsa_decrypt(
                                             handle, TPM2B_PUBLIC_KEY_RSA(req.ciphertext),
                                             scheme, label, session1=session))
                except tpm_device.TSS2_Exception as exc:
                    # libtpms answers a bad padding with TPM_RC_FAILURE, yet keeps working:
                    # only a TPM that then refuses commands has really failed.
                    err = tpm_device.tpm_error(exc)
                    if err in (int(TPM2_RC.VALUE), int(TPM2_RC.SIZE)) or (
                            err == int(TPM2_RC.FAILURE) and dev.responsive()):
                        raise ParsecError(ResponseStatus.PSA_ERROR_INVALID_PADDING,
                                          "decryption failed") from None
                    raise
                return bytes(out)

        plaintext = self._tpm("decryption", decrypt)
        if raw:
            assert alg.hash is not None
            plaintext = oaep.decode(plaintext, _hash_alg(alg.hash), salt, k)
        return PlaintextResult(plaintext)

    # -- key attestation (ActivateCredential, with the endorsement key) -------------------------

    def _attestation_key(self, app: Identity, attested: str, attesting: str) -> blobs.TpmKeyBlob:
        if attesting:
            raise not_supported("only the default attesting key (the TPM's RSA endorsement key) "
                                "is supported")
        return self._tpm_key(self.load(app, attested), "attestation")

    def prepare_key_attestation(self, app: Identity,
                                req: PrepareKeyAttestationRequest) -> PrepareKeyAttestationResult:
        """What a third party needs for TPM2_MakeCredential: the attested key's TPM name and
        public area, and the endorsement key's public key (PSA format)."""
        params = req.parameters.activate_credential
        if params is None:
            raise not_supported("only the ActivateCredential mechanism is supported")
        key = self._attestation_key(app, params.attested_key_name, params.attesting_key_name)
        public = objects.unmarshal_public(key.public)

        def endorsement_public(dev: Any) -> Any:
            with dev.endorsement_key() as (_, ek_public):
                return ek_public
        ek = objects.public_key(self._tpm("PrepareKeyAttestation", endorsement_public))
        return PrepareKeyAttestationResult(PrepareKeyAttestationOutput(ActivateCredentialPrepared(
            name=objects.object_name(public), public=objects.public_area(public),
            attesting_key_pub=keys.export_public(ek))))

    def attest_key(self, app: Identity, req: AttestKeyRequest) -> AttestKeyResult:
        """TPM2_ActivateCredential: the TPM releases the credential only if the attested key is
        loaded in it under the name the credential was made for, beside the endorsement key.
        (Or, with the `certify` extension, TPM2_Certify: see _certify.)"""
        if req.parameters.certify is not None:
            return self._certify(app, req, req.parameters.certify)
        params = req.parameters.activate_credential
        if params is None:
            raise not_supported("only the ActivateCredential mechanism is supported")
        key = self._attestation_key(app, req.attested_key_name, req.attesting_key_name)
        try:
            blob = TPM2B_ID_OBJECT(credential=params.credential_blob)
            secret = TPM2B_ENCRYPTED_SECRET(secret=params.secret)
        except (IndexError, ValueError, TypeError):
            raise invalid_argument("credential_blob or secret is too large") from None

        def activate(dev: Any) -> bytes:
            with dev.endorsement_key() as (ek, _), dev.loaded(key) as handle:
                session = dev.ctx.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.POLICY,
                                                     TPMT_SYM_DEF(algorithm=TPM2_ALG.NULL),
                                                     TPM2_ALG.SHA256)
                with dev.transient(session):
                    dev.ctx.policy_secret(ESYS_TR.ENDORSEMENT, session, expiration=0)
                    try:
                        out = dev.ctx.activate_credential(handle, ek, blob, secret,
                                                          session1=ESYS_TR.PASSWORD,
                                                          session2=session)
                    except tpm_device.TSS2_Exception as exc:
                        err = tpm_device.tpm_error(exc)
                        if err in _BAD_CREDENTIAL or (err == int(TPM2_RC.FAILURE)
                                                      and dev.responsive()):
                            raise invalid_argument("the credential was not made for this key "
                                                   "and this TPM's endorsement key") from None
                        raise
                    return bytes(out)
        credential = self._tpm("AttestKey", activate)
        return AttestKeyResult(AttestationOutput(ActivateCredentialOutput(credential)))

    # -- key attestation (TPM2_Certify, a pqparsec extension) ----------------------------------

    @staticmethod
    def _certify_scheme(rec: KeyRecord) -> Any:
        """How an application key signs a Certify statement: with its policy's algorithm, the
        policy's hash or SHA-256 if it permits any hash. Needs usage sign_hash, since the TPM
        signs the statement's digest."""
        attrs = rec.attributes
        check_usage(attrs, "sign_hash", "signing key attestations")
        alg = attrs.algorithm
        if not isinstance(alg, SignAlg):
            raise not_permitted("the attesting key's policy permits no signature algorithm")
        caps.check_sign_alg(attrs.key_type, alg)
        if isinstance(alg.hash, AnyHash):
            alg = SignAlg(alg.kind, Hash.SHA_256)
        return objects.sig_scheme(alg)

    def _certify(self, app: Identity, req: AttestKeyRequest,
                 params: CertifyParams) -> AttestKeyResult:
        """TPM2_Certify: the TPM states, under the attesting key's signature, that an object
        with the attested key's name is loaded in it, with the caller's nonce as
        qualifyingData. The attesting key is the named application key, or the service's
        attestation key (objects.attestation_key_template) when none is named."""
        nonce = bytes(params.nonce)
        if len(nonce) > CERTIFY_NONCE_MAX:
            raise invalid_argument(f"a nonce of {len(nonce)} bytes: at most "
                                   f"{CERTIFY_NONCE_MAX} are allowed")
        attested = self._tpm_key(self.load(app, req.attested_key_name), "attestation")
        signer: blobs.TpmKeyBlob | None = None
        binding = None  # a PCR-bound attesting key signs in a policy session (pcr.py)
        scheme = TPMT_SIG_SCHEME(scheme=TPM2_ALG.NULL)  # the attestation key's own (ECDSA)
        if req.attesting_key_name:
            rec = self.load(app, req.attesting_key_name)
            scheme = self._certify_scheme(rec)
            signer = self._tpm_key(rec, "signing key attestations")
            binding = rec.attributes.pcr_binding
        same = req.attesting_key_name == req.attested_key_name

        def certify(dev: Any) -> tuple[bytes, bytes, bytes]:
            with ExitStack() as stack:
                handle = stack.enter_context(dev.loaded(attested))
                if signer is None:
                    sign_handle, public = stack.enter_context(dev.attestation_key())
                    signer_area = objects.public_area(public)
                else:
                    sign_handle = handle if same else stack.enter_context(dev.loaded(signer))
                    signer_area = objects.public_area(objects.unmarshal_public(signer.public))
                # The attested key in the admin role: its authorisation value, bound or not.
                attest, signature = pcr.authorized(
                    dev, binding, b"" if signer is None else signer.pcr_values,
                    lambda session: dev.ctx.certify(handle, sign_handle, TPM2B_DATA(nonce), scheme,
                                                    session1=ESYS_TR.PASSWORD, session2=session))
                return bytes(attest), bytes(signature.marshal()), signer_area

        attest, signature, signer_area = self._tpm("AttestKey", certify)
        return AttestKeyResult(AttestationOutput(certify=CertifyOutput(
            attest=attest, signature=signature,
            attested_key_public=objects.public_area(objects.unmarshal_public(attested.public)),
            attesting_key_public=signer_area)))

    # -- random numbers and capabilities --------------------------------------------------------

    def psa_generate_random(self, app: Identity | None,
                            req: PsaGenerateRandomRequest) -> PsaGenerateRandomResult:
        if req.size > self.limits.buffer_size_limit:
            raise ParsecError(ResponseStatus.RESPONSE_TOO_LARGE,
                              f"{req.size} random bytes exceed buffer_size_limit")
        out = bytearray()
        while len(out) < req.size:
            want = min(RANDOM_CHUNK, req.size - len(out))

            def fetch(dev: Any, want: int = want) -> bytes:
                chunk = bytearray()
                while len(chunk) < want:
                    got = bytes(dev.ctx.get_random(min(want - len(chunk), 64)))
                    if not got:
                        raise ParsecError(ResponseStatus.PSA_ERROR_INSUFFICIENT_ENTROPY,
                                          "the TPM returned no random bytes")
                    chunk += got
                return bytes(chunk)
            out += self._tpm("PsaGenerateRandom", fetch)
        return PsaGenerateRandomResult(bytes(out))

    def can_do_crypto(self, app: Identity, req: CanDoCryptoRequest) -> EmptyResult:
        binding = req.attributes.pcr_binding
        if binding is not None:  # InvalidArgument if malformed, as generation would answer
            pcr.check_bank(check_pcr_binding(binding))
            if req.attributes.key_type.is_public_key:
                raise not_supported("a public key cannot be bound to PCRs")
        if not caps.can_do(req.check_type, req.attributes, self.limits.allow_deprecated):
            raise not_supported("the TPM provider cannot do this")
        return EmptyResult()


__all__ = ["TpmProvider"]
