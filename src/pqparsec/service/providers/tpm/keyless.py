"""Operations without a key: PsaGenerateRandom (from the TPM) and CanDoCrypto (answered from
the table in capabilities.py)."""

from __future__ import annotations

from typing import Any

from pqparsec.protocol.operations import (
    CanDoCryptoRequest,
    EmptyResult,
    PsaGenerateRandomRequest,
    PsaGenerateRandomResult,
)
from pqparsec.protocol.psa.policy import check_pcr_binding, not_supported
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.providers.tpm import capabilities as caps
from pqparsec.service.providers.tpm import pcr
from pqparsec.service.providers.tpm.base import TpmBase

RANDOM_CHUNK = 4096  # bytes fetched per turn on the TPM worker, so big requests do not hog it


class KeylessOps(TpmBase):
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
