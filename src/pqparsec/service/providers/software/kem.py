"""Key encapsulation: PsaEncapsulate / PsaDecapsulate (extension opcodes 0x0100 / 0x0101), with
ML-KEM and X-Wing keys (pqc/kem.py). The shared secret is returned, or stored as a new key when
the request names one (output_key_name and output_key_attributes, both or neither)."""

from __future__ import annotations

from pqparsec.protocol.operations import (
    PsaDecapsulateRequest,
    PsaDecapsulateResult,
    PsaEncapsulateRequest,
    PsaEncapsulateResult,
)
from pqparsec.protocol.psa import KeyAttributes
from pqparsec.protocol.psa.policy import check_kem_request, check_not_deprecated, invalid_argument
from pqparsec.service.identity import Identity
from pqparsec.service.providers.software import pqc
from pqparsec.service.providers.software.base import SoftwareBase


class KemOps(SoftwareBase):
    def _kem_output(self, app: Identity, name: str,
                    attrs: KeyAttributes | None) -> KeyAttributes | None:
        if attrs is None:
            if name:
                raise invalid_argument("output_key_name given without output_key_attributes")
            return None
        if not name:
            raise invalid_argument("output_key_attributes given without output_key_name")
        out = pqc.output_attributes(attrs)
        check_not_deprecated(out, self.limits.allow_deprecated)
        self.require_free(app, name)
        return out

    def _kem_result(self, app: Identity, name: str, out: KeyAttributes | None,
                    secret: bytes) -> bytes:
        """The secret to return, or b"" once it is stored as the new key `name`."""
        if out is None:
            return secret
        self._store_new(app, name, out, bytearray(secret))
        return b""

    def psa_encapsulate(self, app: Identity, req: PsaEncapsulateRequest) -> PsaEncapsulateResult:
        rec = self.load(app, req.key_name)
        check_kem_request(rec.attributes, req.alg, "encrypt", "encapsulation")
        out = self._kem_output(app, req.output_key_name, req.output_key_attributes)
        with self.material(rec) as m:
            secret, ciphertext = pqc.encapsulate(rec.attributes, m, req.alg)
        return PsaEncapsulateResult(ciphertext,
                                    self._kem_result(app, req.output_key_name, out, secret))

    def psa_decapsulate(self, app: Identity, req: PsaDecapsulateRequest) -> PsaDecapsulateResult:
        rec = self.load(app, req.key_name)
        check_kem_request(rec.attributes, req.alg, "decrypt", "decapsulation")
        out = self._kem_output(app, req.output_key_name, req.output_key_attributes)
        with self.material(rec) as m:
            secret = pqc.decapsulate(rec.attributes, m, req.alg, req.ciphertext)
        return PsaDecapsulateResult(self._kem_result(app, req.output_key_name, out, secret))
