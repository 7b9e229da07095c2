"""Symmetric operations where the token has the mechanisms: AES-GCM (PsaAeadEncrypt/Decrypt) and
HMAC and AES-CMAC (PsaMacCompute/Verify). Without them the provider does not list the opcodes.

Checks and statuses are every provider's (policy.check_aead_request, check_mac_request): usage
flag and permitted algorithm (NotPermitted), the key type the algorithm needs (InvalidArgument),
an empty input or nonce (InvalidArgument), an algorithm the token cannot do (NotSupported), a
tag or MAC length the algorithm does not define (InvalidArgument), HMAC with SHA-1
(DeprecatedPrimitive unless allow_deprecated); a tag that does not verify is InvalidSignature. A
GCM nonce over 128 bytes is NotSupported (caps.GCM_MAX_NONCE: SoftHSM2 would return a wrong
ciphertext).
"""

from __future__ import annotations

import ctypes
import hmac

from pkcs11 import Mechanism, ObjectClass
from pkcs11 import exceptions as p11e

from pqparsec.protocol.operations import (
    CiphertextResult,
    EmptyResult,
    PlaintextResult,
    PsaAeadDecryptRequest,
    PsaAeadEncryptRequest,
    PsaMacComputeRequest,
    PsaMacComputeResult,
    PsaMacVerifyRequest,
)
from pqparsec.protocol.psa import MacAlg, MacKind
from pqparsec.protocol.psa.policy import (
    check_aead_request,
    check_mac_request,
    invalid_argument,
    invalid_signature,
)
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers.pkcs11.base import Pkcs11Base
from pqparsec.service.providers.pkcs11.caps import HMAC_MECHANISMS


class _CkGcmParams(ctypes.Structure):
    """CK_GCM_PARAMS (PKCS#11 2.40). python-pkcs11's GCMParams stops at 12-byte nonces; GCM takes
    any length, so we hand the module the structure ourselves."""

    _fields_ = [("pIv", ctypes.c_void_p), ("ulIvLen", ctypes.c_ulong),
                ("ulIvBits", ctypes.c_ulong), ("pAAD", ctypes.c_void_p),
                ("ulAADLen", ctypes.c_ulong), ("ulTagBits", ctypes.c_ulong)]


class GcmParams:
    """Raw CK_GCM_PARAMS bytes, with the buffers they point to kept alive as long as this is."""

    def __init__(self, nonce: bytes, aad: bytes, tag_bits: int) -> None:
        self._iv = ctypes.create_string_buffer(nonce, len(nonce))
        self._aad = ctypes.create_string_buffer(aad, len(aad)) if aad else None
        params = _CkGcmParams(ctypes.addressof(self._iv), len(nonce), 8 * len(nonce),
                              ctypes.addressof(self._aad) if self._aad is not None else None,
                              len(aad), tag_bits)
        self.raw = bytes(params)


class SymmetricOps(Pkcs11Base):
    # -- AEAD ----------------------------------------------------------------------------------

    def psa_aead_encrypt(self, app: Identity, req: PsaAeadEncryptRequest) -> CiphertextResult:
        rec = self.load(app, req.key_name)
        check_aead_request(rec.attributes, req.alg, "encrypt", "AEAD encryption", req.plaintext, req.nonce)
        self.caps.check_aead(req.alg)
        self.caps.check_aead_nonce(req.nonce)
        params = GcmParams(req.nonce, req.additional_data, 8 * req.alg.effective_tag_length)
        self.need_login("AEAD encryption")
        with self.session("AEAD encryption") as s:
            key = self.require(s, rec, ObjectClass.SECRET_KEY)
            return CiphertextResult(bytes(key.encrypt(req.plaintext, mechanism=Mechanism.AES_GCM,
                                                      mechanism_param=params.raw)))

    def psa_aead_decrypt(self, app: Identity, req: PsaAeadDecryptRequest) -> PlaintextResult:
        rec = self.load(app, req.key_name)
        check_aead_request(rec.attributes, req.alg, "decrypt", "AEAD decryption", req.ciphertext,
                    req.nonce)
        self.caps.check_aead(req.alg)
        self.caps.check_aead_nonce(req.nonce)
        if len(req.ciphertext) < req.alg.effective_tag_length:
            raise invalid_argument("the ciphertext is shorter than the tag")
        params = GcmParams(req.nonce, req.additional_data, 8 * req.alg.effective_tag_length)
        self.need_login("AEAD decryption")
        with self.session("AEAD decryption") as s:
            key = self.require(s, rec, ObjectClass.SECRET_KEY)
            try:
                return PlaintextResult(bytes(key.decrypt(req.ciphertext, mechanism=Mechanism.AES_GCM,
                                                         mechanism_param=params.raw)))
            except (p11e.EncryptedDataInvalid, p11e.GeneralError, p11e.FunctionFailed,
                    p11e.SignatureInvalid):
                # A tag that does not verify (SoftHSM says only CKR_GENERAL_ERROR).
                raise invalid_signature("AEAD decryption failed: the tag does not match") from None

    # -- MAC -----------------------------------------------------------------------------------

    def _mac(self, rec: KeyRecord, alg: MacAlg, data: bytes) -> bytes:
        # The checks CanDoCrypto makes too (caps.py), in the software provider's order.
        self.caps.check_mac(alg)
        self.caps.check_mac_not_deprecated(alg, self.limits.allow_deprecated)
        length = self.caps.mac_length(alg)
        if alg.kind == MacKind.HMAC:
            assert alg.hash is not None
            mech = HMAC_MECHANISMS[alg.hash]
        else:
            mech = Mechanism.AES_CMAC
        if alg.hash is not None:
            self.caps.check_hmac_key(alg.hash, rec.attributes.key_bits)
        self.need_login("computing a MAC")
        with self.session("computing a MAC") as s:
            key = self.require(s, rec, ObjectClass.SECRET_KEY)
            return bytes(key.sign(data, mechanism=mech))[:length]

    def psa_mac_compute(self, app: Identity, req: PsaMacComputeRequest) -> PsaMacComputeResult:
        rec = self.load(app, req.key_name)
        check_mac_request(rec.attributes, req.alg, "sign_message", "computing MACs")
        return PsaMacComputeResult(self._mac(rec, req.alg, req.input))

    def psa_mac_verify(self, app: Identity, req: PsaMacVerifyRequest) -> EmptyResult:
        rec = self.load(app, req.key_name)
        check_mac_request(rec.attributes, req.alg, "verify_message", "verifying MACs")
        if not hmac.compare_digest(self._mac(rec, req.alg, req.input), req.mac):
            raise invalid_signature("the MAC does not match")
        return EmptyResult()
