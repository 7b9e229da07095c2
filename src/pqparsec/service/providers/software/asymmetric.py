"""Asymmetric encryption and key agreement: PsaAsymmetricEncrypt/Decrypt, PsaRawKeyAgreement."""

from __future__ import annotations

from pqparsec.service.providers.software.base import SoftwareBase


class AsymmetricOps(SoftwareBase):
    pass
