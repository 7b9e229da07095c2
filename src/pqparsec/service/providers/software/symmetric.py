"""Symmetric operations: PsaAeadEncrypt/Decrypt, PsaCipherEncrypt/Decrypt, PsaMacCompute/Verify."""

from __future__ import annotations

from pqparsec.service.providers.software.base import SoftwareBase


class SymmetricOps(SoftwareBase):
    pass
