"""The TPM provider (see the package docstring for the design): its operation families, one mixin
per module (base.py: machinery and key management; signatures.py; asymmetric.py; attestation.py;
keyless.py: random numbers and CanDoCrypto), combined here with the opcodes it serves."""

from __future__ import annotations

from pqparsec.protocol.opcodes import Opcode
from pqparsec.service.providers.tpm.asymmetric import AsymmetricOps
from pqparsec.service.providers.tpm.attestation import AttestationOps
from pqparsec.service.providers.tpm.keyless import KeylessOps
from pqparsec.service.providers.tpm.signatures import SignatureOps


class TpmProvider(KeylessOps, AttestationOps, AsymmetricOps, SignatureOps):
    supported_opcodes = frozenset({
        Opcode.PSA_GENERATE_KEY, Opcode.PSA_IMPORT_KEY, Opcode.PSA_DESTROY_KEY,
        Opcode.PSA_EXPORT_PUBLIC_KEY, Opcode.PSA_GENERATE_RANDOM,
        Opcode.PSA_SIGN_HASH, Opcode.PSA_VERIFY_HASH, Opcode.PSA_SIGN_MESSAGE,
        Opcode.PSA_VERIFY_MESSAGE,
        Opcode.PSA_ASYMMETRIC_ENCRYPT, Opcode.PSA_ASYMMETRIC_DECRYPT,
        Opcode.PREPARE_KEY_ATTESTATION, Opcode.ATTEST_KEY,
        Opcode.CAN_DO_CRYPTO,
    })


__all__ = ["TpmProvider"]
