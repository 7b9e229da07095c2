"""The [[provider]] keys of a "Tpm" provider, as Parsec reads them.

    tcti = "device:/dev/tpmrm0"            # or "swtpm:host=..,port=..", "mssim:...", "tabrmd:..."
    owner_hierarchy_auth = "str:secret"    # or "hex:AABB", or a plain string (taken as is)
    endorsement_hierarchy_auth = ""        # accepted for compatibility (attestation)
    skip_if_no_tpm = false                 # true: start without this provider if the TPM is absent
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pqparsec.service.config import Config, ConfigError, ProviderConfig

DEFAULT_TCTI = "device:/dev/tpmrm0"
TCTI_KINDS = ("device", "swtpm", "mssim", "tabrmd", "libtpms", "cmd")


@dataclass(frozen=True)
class TpmSettings:
    tcti: str = DEFAULT_TCTI
    owner_auth: bytes = field(default=b"", repr=False)
    endorsement_auth: bytes = field(default=b"", repr=False)
    skip_if_no_tpm: bool = False

    @property
    def resource_managed(self) -> bool:
        """Whether a resource manager stands between us and the TPM (then transient objects
        left behind by others are not ours to clean up, and are not in our way)."""
        kind, _, conf = self.tcti.partition(":")
        return kind == "tabrmd" or (kind == "device" and "tpmrm" in conf)


def parse_auth(value: str, where: str) -> bytes:
    """Parsec's authorisation value forms: "str:<utf-8>", "hex:<hex digits>", or plain text."""
    if value.startswith("hex:"):
        try:
            return bytes.fromhex(value[4:])
        except ValueError:
            raise ConfigError(f"{where}: \"hex:\" must be followed by hexadecimal digits") from None
    if value.startswith("str:"):
        return value[4:].encode()
    return value.encode()


def parse_settings(pc: ProviderConfig, config: Config) -> TpmSettings:
    opts: dict[str, Any] = dict(pc.options)
    where = f"{config.source}: [[provider]] {pc.provider_type}"

    def take(key: str, kind: type, default: Any) -> Any:
        if key not in opts:
            return default
        value = opts.pop(key)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ConfigError(f"{where}.{key}: expected a {kind.__name__}, got "
                              f"{type(value).__name__}")
        return value

    tcti = take("tcti", str, DEFAULT_TCTI)
    owner = take("owner_hierarchy_auth", str, "")
    endorsement = take("endorsement_hierarchy_auth", str, "")
    skip = take("skip_if_no_tpm", bool, False)
    if opts:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(opts))}")
    kind = tcti.partition(":")[0]
    if kind not in TCTI_KINDS:
        raise ConfigError(f"{where}.tcti: {tcti!r} does not name a known TCTI "
                          f"({', '.join(TCTI_KINDS[:4])})")
    return TpmSettings(tcti=tcti,
                       owner_auth=parse_auth(owner, f"{where}.owner_hierarchy_auth"),
                       endorsement_auth=parse_auth(endorsement,
                                                   f"{where}.endorsement_hierarchy_auth"),
                       skip_if_no_tpm=skip)
