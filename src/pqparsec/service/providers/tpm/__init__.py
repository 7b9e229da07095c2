"""The TPM 2.0 provider (Parsec provider id 3, "Tpm"), through tpm2-pytss.

Keys are children of a storage key that the TPM re-derives from its owner seed at every start
(the same template gives the same key), so nothing is kept in the TPM between uses: each key's
TPM-wrapped private part, public part and random authorisation value live in the key store
(blob.py), a key is loaded for one operation and flushed straight after. Public-key operations
(verification, encryption, export) are done in software from the stored public part; only the
private-key operations and random numbers need the TPM, and they go through the one TPM worker
thread (device.py).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from pqparsec.service.config import Config, ConfigError, ProviderConfig
from pqparsec.service.key_store import KeyStore
from pqparsec.service.providers.base import ServiceLimits
from pqparsec.service.providers.tpm.config import TpmSettings, parse_settings

if TYPE_CHECKING:
    from pqparsec.service.providers.tpm.provider import TpmProvider

log = logging.getLogger(__name__)

# libtss2 logs its own errors to stderr, the expected ones too (a TPM restart we recover from,
# a probe of an absent TPM); what matters is in our log. TSS2_LOG set by the operator wins.
os.environ.setdefault("TSS2_LOG", "all+NONE")


def from_config(pc: ProviderConfig, config: Config, store: KeyStore,
                limits: ServiceLimits) -> TpmProvider | None:
    """The provider, connected to its TPM; None if the TPM is absent and the config says to go
    on without it (skip_if_no_tpm). Otherwise an absent TPM is a ConfigError naming the TCTI."""
    settings = parse_settings(pc, config)
    where = f"{config.source}: [[provider]] Tpm"
    try:
        from pqparsec.service.providers.tpm import device as tpm_device
        from pqparsec.service.providers.tpm.provider import TpmProvider
    except ImportError as exc:  # tpm2-pytss or libtss2 missing
        _unavailable(settings, f"{where}: tpm2-pytss is not usable ({exc})")
        return None
    try:
        dev = tpm_device.acquire(settings)
    except tpm_device.TpmUnavailable as exc:
        _unavailable(settings, f"{where}: {exc}")
        return None
    return TpmProvider(store, dev, pc.name, limits)


def _unavailable(settings: TpmSettings, message: str) -> None:
    """Go on without the provider (skip_if_no_tpm, with a warning) or fail start-up."""
    if not settings.skip_if_no_tpm:
        raise ConfigError(message)
    log.warning("%s; skip_if_no_tpm is set: starting without the TPM provider", message)


__all__ = ["from_config"]
