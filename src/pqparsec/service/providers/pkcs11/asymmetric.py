"""Asymmetric encryption: PsaAsymmetricEncrypt/Decrypt with RSA PKCS#1 v1.5 and RSA-OAEP.

Checks and statuses are every provider's (policy.check_asymmetric_crypt_request): usage flag and
permitted algorithm (NotPermitted), an RSA key (InvalidArgument), a padding and hash the token
can do (NotSupported: OAEP hashes and labels are measured at start-up), a salt with PKCS#1 v1.5
(InvalidArgument); then a public key asked to decrypt, a ciphertext that is not the modulus
size, a plaintext too long (InvalidArgument) and a padding that does not check out
(InvalidPadding)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pkcs11 import Mechanism, ObjectClass
from pkcs11 import exceptions as p11e

from pqparsec.protocol.operations import (
    CiphertextResult,
    PlaintextResult,
    PsaAsymmetricDecryptRequest,
    PsaAsymmetricEncryptRequest,
)
from pqparsec.protocol.psa import EncryptAlg, EncryptKind
from pqparsec.protocol.psa.policy import check_asymmetric_crypt_request, invalid_argument
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.providers.pkcs11 import formats
from pqparsec.service.providers.pkcs11.base import Pkcs11Base
from pqparsec.service.providers.pkcs11.caps import PKCS11_HASHES


def _mechanism(alg: EncryptAlg, salt: bytes) -> tuple[Mechanism, Any]:
    if alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
        return Mechanism.RSA_PKCS, None
    assert alg.hash is not None
    mech, mgf = PKCS11_HASHES[alg.hash]
    return Mechanism.RSA_PKCS_OAEP, (mech, mgf, salt or None)


class AsymmetricOps(Pkcs11Base):
    def psa_asymmetric_encrypt(self, app: Identity,
                               req: PsaAsymmetricEncryptRequest) -> CiphertextResult:
        rec = self.load(app, req.key_name)
        check_asymmetric_crypt_request(rec.attributes, req.alg, "encrypt", "encrypting")
        self.caps.check_encrypt(req.alg, req.salt)
        k = (rec.attributes.key_bits + 7) // 8
        if req.alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT or req.alg.hash is None:
            room = k - 11
        else:
            room = k - 2 * req.alg.hash.digest_size - 2
        if len(req.plaintext) > room:
            raise invalid_argument(f"a plaintext of {len(req.plaintext)} bytes is too long for a "
                                   f"{rec.attributes.key_bits}-bit key with {req.alg.kind.name}")
        if self.options.software_public_operations:
            pub = self.public_key(rec)
            assert isinstance(pub, rsa.RSAPublicKey)
            if req.alg.kind == EncryptKind.RSA_PKCS1V15_CRYPT:
                pad: padding.AsymmetricPadding = padding.PKCS1v15()
            else:
                assert req.alg.hash is not None
                h = formats.hash_algorithm(req.alg.hash)
                pad = padding.OAEP(padding.MGF1(h), h, req.salt or None)
            try:
                return CiphertextResult(pub.encrypt(req.plaintext, pad))
            except ValueError:
                raise invalid_argument(f"a plaintext of {len(req.plaintext)} bytes is too long "
                                       f"for this key with {req.alg.kind.name}") from None
        mech, param = _mechanism(req.alg, req.salt)
        with self.session("encrypting") as s:
            key = self.require(s, rec, ObjectClass.PUBLIC_KEY)
            return CiphertextResult(bytes(key.encrypt(req.plaintext, mechanism=mech,
                                                      mechanism_param=param)))

    def psa_asymmetric_decrypt(self, app: Identity,
                               req: PsaAsymmetricDecryptRequest) -> PlaintextResult:
        rec = self.load(app, req.key_name)
        check_asymmetric_crypt_request(rec.attributes, req.alg, "decrypt", "decrypting")
        self.caps.check_encrypt(req.alg, req.salt)
        if rec.attributes.key_type.is_public_key:
            raise invalid_argument("a public key cannot decrypt")
        size = (rec.attributes.key_bits + 7) // 8
        if len(req.ciphertext) != size:
            raise invalid_argument(f"the ciphertext has {len(req.ciphertext)} bytes; a "
                                   f"{rec.attributes.key_bits}-bit key takes {size}")
        self.need_login("decrypting")
        mech, param = _mechanism(req.alg, req.salt)
        with self.session("decrypting") as s:
            key = self.require(s, rec, ObjectClass.PRIVATE_KEY)
            try:
                return PlaintextResult(bytes(key.decrypt(req.ciphertext, mechanism=mech,
                                                         mechanism_param=param)))
            except (p11e.EncryptedDataInvalid, p11e.GeneralError, p11e.DataInvalid,
                    p11e.FunctionFailed):
                # Tokens report a bad padding in several ways (SoftHSM: CKR_GENERAL_ERROR).
                raise ParsecError(ResponseStatus.PSA_ERROR_INVALID_PADDING,
                                  "decryption failed: invalid padding") from None
