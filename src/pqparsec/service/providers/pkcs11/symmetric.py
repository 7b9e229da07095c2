"""Symmetric operations where the token has the mechanisms: AES-GCM (PsaAeadEncrypt/Decrypt) and
HMAC (PsaMacCompute/Verify). Without them the provider does not list these opcodes."""

from __future__ import annotations

import hmac

from pkcs11 import Mechanism, ObjectClass
from pkcs11 import exceptions as p11e
from pkcs11.mechanisms import GCMParams

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
from pqparsec.protocol.psa import AeadAlg, KeyAttributes, KeyKind, MacAlg
from pqparsec.protocol.psa.policy import check_alg, check_usage, invalid_argument
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord
from pqparsec.service.providers.pkcs11.base import Pkcs11Base
from pqparsec.service.providers.pkcs11.caps import HMAC_MECHANISMS

# Nonce lengths accepted for GCM: those `cryptography` (the software provider) accepts too, so a
# message can move between providers.
GCM_NONCE_LENGTHS = range(8, 129)
MIN_MAC_LENGTH = 4


def _check_aead(attrs: KeyAttributes, alg: AeadAlg, flag: str, op: str) -> None:
    check_usage(attrs, flag, op)
    if attrs.key_type.kind != KeyKind.AES:
        raise invalid_argument(f"{alg.kind.name} cannot be used with a "
                               f"{attrs.key_type.describe()} key")
    check_alg(attrs, alg, op)


def _check_mac(attrs: KeyAttributes, alg: MacAlg, flag: str, op: str) -> None:
    check_usage(attrs, flag, op)
    if attrs.key_type.kind != KeyKind.HMAC:
        raise invalid_argument(f"HMAC cannot be used with a {attrs.key_type.describe()} key")
    check_alg(attrs, alg, op)


class SymmetricOps(Pkcs11Base):
    def _gcm(self, alg: AeadAlg, nonce: bytes, aad: bytes) -> GCMParams:
        self.caps.check_aead(alg)
        if len(nonce) not in GCM_NONCE_LENGTHS:
            raise invalid_argument(f"a GCM nonce of {len(nonce)} bytes is not supported (8-128)")
        return GCMParams(nonce, aad or None, alg.effective_tag_length * 8)

    def psa_aead_encrypt(self, app: Identity, req: PsaAeadEncryptRequest) -> CiphertextResult:
        rec = self.load(app, req.key_name)
        _check_aead(rec.attributes, req.alg, "encrypt", "encrypting")
        params = self._gcm(req.alg, req.nonce, req.additional_data)
        self.need_login("AEAD encryption")
        with self.session("AEAD encryption") as s:
            key = self.require(s, rec, ObjectClass.SECRET_KEY)
            return CiphertextResult(bytes(key.encrypt(req.plaintext, mechanism=Mechanism.AES_GCM,
                                                      mechanism_param=params)))

    def psa_aead_decrypt(self, app: Identity, req: PsaAeadDecryptRequest) -> PlaintextResult:
        rec = self.load(app, req.key_name)
        _check_aead(rec.attributes, req.alg, "decrypt", "decrypting")
        params = self._gcm(req.alg, req.nonce, req.additional_data)
        if len(req.ciphertext) < req.alg.effective_tag_length:
            raise invalid_argument("the ciphertext is shorter than the tag")
        self.need_login("AEAD decryption")
        with self.session("AEAD decryption") as s:
            key = self.require(s, rec, ObjectClass.SECRET_KEY)
            try:
                return PlaintextResult(bytes(key.decrypt(req.ciphertext, mechanism=Mechanism.AES_GCM,
                                                         mechanism_param=params)))
            except (p11e.EncryptedDataInvalid, p11e.GeneralError, p11e.FunctionFailed,
                    p11e.SignatureInvalid):
                # A wrong tag: SoftHSM says only CKR_GENERAL_ERROR.
                raise ParsecError(ResponseStatus.PSA_ERROR_INVALID_SIGNATURE,
                                  "AEAD decryption failed: the tag does not match") from None

    def _mac(self, rec: KeyRecord, alg: MacAlg, data: bytes) -> bytes:
        self.caps.check_mac(alg)
        assert alg.hash is not None
        full = alg.hash.digest_size
        length = full if alg.length is None else alg.length
        if not MIN_MAC_LENGTH <= length <= full:
            raise invalid_argument(f"HMAC-{alg.hash.name} cannot be truncated to {length} bytes")
        lo, hi = self.caps.hmac[alg.hash]
        if not lo <= rec.attributes.key_bits // 8 <= hi:
            raise ParsecError(ResponseStatus.PSA_ERROR_NOT_SUPPORTED,
                              f"this token needs HMAC-{alg.hash.name} keys of {lo} to {hi} bytes")
        self.need_login("computing a MAC")
        with self.session("computing a MAC") as s:
            key = self.require(s, rec, ObjectClass.SECRET_KEY)
            return bytes(key.sign(data, mechanism=HMAC_MECHANISMS[alg.hash]))[:length]

    def psa_mac_compute(self, app: Identity, req: PsaMacComputeRequest) -> PsaMacComputeResult:
        rec = self.load(app, req.key_name)
        _check_mac(rec.attributes, req.alg, "sign_message", "computing MACs")
        return PsaMacComputeResult(self._mac(rec, req.alg, req.input))

    def psa_mac_verify(self, app: Identity, req: PsaMacVerifyRequest) -> EmptyResult:
        rec = self.load(app, req.key_name)
        _check_mac(rec.attributes, req.alg, "verify_message", "verifying MACs")
        if not hmac.compare_digest(self._mac(rec, req.alg, req.input), req.mac):
            raise ParsecError(ResponseStatus.PSA_ERROR_INVALID_SIGNATURE, "MAC does not match")
        return EmptyResult()
