"""Signatures: PsaSignHash/PsaVerifyHash and PsaSignMessage/PsaVerifyMessage with RSA PKCS#1 v1.5,
RSA-PSS and ECDSA. The TPM signs (TPM2_Sign, with the key loaded for the one call, in a policy
session if the key is bound to PCRs); verification is done in software from the stored public
part. Checks in Parsec's order (policy.check_sign_request), then what the TPM supports
(capabilities.check_sign_alg), then policy.check_sign_input."""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from tpm2_pytss.constants import TPM2_RH, TPM2_ST
from tpm2_pytss.types import TPM2B_DIGEST, TPMT_TK_HASHCHECK

from pqparsec.protocol.operations import (
    EmptyResult,
    PsaSignHashRequest,
    PsaSignMessageRequest,
    PsaVerifyHashRequest,
    PsaVerifyMessageRequest,
    SignatureResult,
)
from pqparsec.protocol.psa import Hash, SignAlg, SignKind, crypto
from pqparsec.protocol.psa.policy import (
    check_sign_hash_length,
    check_sign_input,
    check_sign_request,
    invalid_argument,
    invalid_signature,
)
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers.tpm import capabilities as caps
from pqparsec.service.providers.tpm import objects, pcr
from pqparsec.service.providers.tpm.base import TpmBase, hash_algorithm, hash_message


class SignatureOps(TpmBase):
    def _checked(self, app: Identity, key_name: str, alg: SignAlg, flag: str, op: str,
                 context: bytes) -> KeyRecord:
        """Every provider's checks in Parsec's order (policy.check_sign_request), what the TPM
        supports (NotSupported), then the context and a public key asked to sign."""
        rec = self.load(app, key_name)
        check_sign_request(rec.attributes, alg, flag, op, message=flag.endswith("message"))
        caps.check_sign_alg(rec.attributes.key_type, alg)
        check_sign_input(rec.attributes, alg, flag, context)
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
        h = hash_algorithm(alg.hash)
        pub = self.public_key(rec)
        bad = invalid_signature("signature is not valid")
        try:
            if isinstance(pub, rsa.RSAPublicKey):
                pad = padding.PKCS1v15() if alg.kind == SignKind.RSA_PKCS1V15_SIGN else \
                    padding.PSS(padding.MGF1(h), crypto.pss_salt_length(pub.key_size, h))
                pub.verify(signature, digest, pad, Prehashed(h))
            elif isinstance(pub, ec.EllipticCurvePublicKey):
                n = crypto.scalar_len(pub.curve.key_size)
                if len(signature) != 2 * n:
                    raise bad
                pub.verify(crypto.ecdsa_raw_to_der(signature), digest, ec.ECDSA(Prehashed(h)))
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
        return SignatureResult(self._sign(rec, req.alg, hash_message(req.alg.hash, req.message)))

    def psa_verify_message(self, app: Identity, req: PsaVerifyMessageRequest) -> EmptyResult:
        rec = self._checked(app, req.key_name, req.alg, "verify_message", "verifying messages",
                            req.context)
        assert isinstance(req.alg.hash, Hash)
        self._verify(rec, req.alg, hash_message(req.alg.hash, req.message), req.signature)
        return EmptyResult()
