"""Capability discovery: CanDoCrypto, answered from what the provider declares it supports."""

from __future__ import annotations

from pqparsec.service.providers.software.base import SoftwareBase


class CapabilityOps(SoftwareBase):
    pass
