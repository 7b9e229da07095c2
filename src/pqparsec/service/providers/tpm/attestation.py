"""Key attestation: PrepareKeyAttestation and AttestKey with ActivateCredential (the TPM's RSA
endorsement key, as in Parsec), and with TPM2_Certify (a pqparsec extension)."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from tpm2_pytss.constants import ESYS_TR, TPM2_ALG, TPM2_RC, TPM2_SE
from tpm2_pytss.types import (
    TPM2B_DATA,
    TPM2B_ENCRYPTED_SECRET,
    TPM2B_ID_OBJECT,
    TPMT_SIG_SCHEME,
    TPMT_SYM_DEF,
)

from pqparsec.protocol.operations import (
    ActivateCredentialOutput,
    ActivateCredentialPrepared,
    AttestationOutput,
    AttestKeyRequest,
    AttestKeyResult,
    CertifyOutput,
    CertifyParams,
    PrepareKeyAttestationOutput,
    PrepareKeyAttestationRequest,
    PrepareKeyAttestationResult,
)
from pqparsec.protocol.psa import AnyHash, Hash, SignAlg, crypto
from pqparsec.protocol.psa.policy import check_usage, invalid_argument, not_permitted, not_supported
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers.tpm import blob as blobs
from pqparsec.service.providers.tpm import capabilities as caps
from pqparsec.service.providers.tpm import device as tpm_device
from pqparsec.service.providers.tpm import objects, pcr
from pqparsec.service.providers.tpm.base import TpmBase

_BAD_CREDENTIAL = {int(TPM2_RC.VALUE), int(TPM2_RC.SIZE), int(TPM2_RC.INTEGRITY)}
CERTIFY_NONCE_MAX = 64  # TPM2B_DATA's buffer: the most qualifyingData a TPM takes


class AttestationOps(TpmBase):
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
            attesting_key_pub=crypto.export_public(ek))))

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
