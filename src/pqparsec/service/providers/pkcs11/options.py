"""The [[provider]] keys of a Pkcs11 provider, as Parsec spells them, validated at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from pqparsec.service.config import Config, ConfigError, ProviderConfig

KNOWN_KEYS = ("library_path", "slot_number", "serial_number", "user_pin",
              "software_public_operations", "allow_export")


@dataclass(frozen=True)
class Pkcs11Options:
    library_path: str
    slot_number: int | None = None
    serial_number: str | None = None
    user_pin: bytes | None = field(default=None, repr=False)
    software_public_operations: bool = False
    allow_export: bool = True


def parse_pin(value: str, where: str) -> bytes:
    """Parsec's PIN syntax: "str:<text>", "hex:<hex digits>", or the text itself."""
    if value.startswith("hex:"):
        digits = value[4:]
        try:
            pin = bytes.fromhex(digits)
        except ValueError:
            raise ConfigError(f"{where}.user_pin: \"hex:\" must be followed by an even number of "
                              "hexadecimal digits") from None
    elif value.startswith("str:"):
        pin = value[4:].encode()
    else:
        pin = value.encode()
    if not pin:
        raise ConfigError(f"{where}.user_pin: the PIN is empty; remove user_pin to run without login")
    return pin


def parse(pc: ProviderConfig, config: Config) -> Pkcs11Options:
    where = f"{config.source}: [[provider]] {pc.provider_type}"
    opts: dict[str, Any] = dict(pc.options)
    unknown = sorted(set(opts) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")

    def take(key: str, kind: type) -> Any:
        value = opts.get(key)
        if value is None:
            return None
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, kind):
            raise ConfigError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
        return value

    library_path = take("library_path", str)
    if not library_path:
        raise ConfigError(f"{where}.library_path: required (the PKCS#11 module, e.g. "
                          "/usr/lib/softhsm/libsofthsm2.so)")
    if not os.path.isabs(library_path):
        library_path = os.path.normpath(os.path.join(config.base_dir, library_path))
    if not os.path.exists(library_path):
        raise ConfigError(f"{where}.library_path: {library_path} does not exist")
    slot = take("slot_number", int)
    if slot is not None and slot < 0:
        raise ConfigError(f"{where}.slot_number: must not be negative")
    serial = take("serial_number", str)
    if serial is not None and not serial.strip():
        raise ConfigError(f"{where}.serial_number: empty")
    pin_text = take("user_pin", str)
    spo = take("software_public_operations", bool)
    allow_export = take("allow_export", bool)
    return Pkcs11Options(
        library_path=library_path,
        slot_number=slot,
        serial_number=serial.strip() if serial is not None else None,
        user_pin=parse_pin(pin_text, where) if pin_text is not None else None,
        software_public_operations=bool(spo),
        allow_export=True if allow_export is None else allow_export,
    )
