"""Asymmetric encryption: PsaAsymmetricEncrypt/Decrypt with RSA PKCS#1 v1.5 and RSA-OAEP.
Encryption is done in software from the stored public part, decryption in the TPM
(TPM2_RSA_Decrypt; an OAEP label the TPM cannot take is decoded here, oaep.py)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import padding, rsa
from tpm2_pytss.constants import TPM2_ALG, TPM2_RC
from tpm2_pytss.types import (
    TPM2B_DATA,
    TPM2B_PUBLIC_KEY_RSA,
    TPMS_SCHEME_HASH,
    TPMT_RSA_DECRYPT,
    TPMU_ASYM_SCHEME,
)

from pqparsec.protocol.operations import (
    CiphertextResult,
    PlaintextResult,
    PsaAsymmetricDecryptRequest,
    PsaAsymmetricEncryptRequest,
)
from pqparsec.protocol.psa import EncryptAlg, EncryptKind, KeyAttributes
from pqparsec.protocol.psa.policy import (
    check_asymmetric_crypt_request,
    check_encrypt_salt,
    invalid_argument,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.providers.tpm import capabilities as caps
from pqparsec.service.providers.tpm import device as tpm_device
from pqparsec.service.providers.tpm import oaep, objects, pcr
from pqparsec.service.providers.tpm.base import TpmBase, hash_algorithm


class AsymmetricOps(TpmBase):
    @staticmethod
    def _check_crypt(attrs: KeyAttributes, alg: EncryptAlg, salt: bytes, flag: str,
                     op: str) -> None:
        """Parsec's order (policy.check_asymmetric_crypt_request), what this provider supports,
        the salt."""
        check_asymmetric_crypt_request(attrs, alg, flag, op)
        caps.check_encrypt_alg(attrs.key_type, alg)
        check_encrypt_salt(alg, salt)

    @staticmethod
    def _padding(alg: EncryptAlg, salt: bytes) -> padding.AsymmetricPadding:
        if alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
            return padding.PKCS1v15()
        assert alg.hash is not None
        h = hash_algorithm(alg.hash)
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
            plaintext = oaep.decode(plaintext, hash_algorithm(alg.hash), salt, k)
        return PlaintextResult(plaintext)
