"""Parsec's config.toml schema, validated at start-up.

An existing Parsec config works unchanged; a few keys of our own are accepted and documented in
docs/configuration.md. Unknown keys and bad values fail with a message naming the key and file.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SOCKET = "/run/parsec/parsec.sock"
DEFAULT_SQLITE = "/var/lib/parsec/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3"
LOG_LEVELS = ("error", "warn", "info", "debug", "trace")
AUTH_TYPES = ("Direct", "UnixPeerCredentials", "JwtSvid")
PROVIDER_TYPES = ("MbedCrypto", "Software", "Pkcs11", "Tpm", "CryptoAuthLib", "TrustedService")


class ConfigError(ValueError):
    """A config problem, with the key and the file it is in."""


@dataclass(frozen=True)
class CoreSettings:
    allow_root: bool = False
    thread_pool_size: int = 0  # 0 = number of CPUs
    idle_listener_sleep_duration: int = 10  # accepted for compatibility; we never poll
    log_level: str = "info"
    log_timestamp: bool = False
    body_len_limit: int = 1 << 20
    log_error_details: bool = False
    buffer_size_limit: int = 1 << 20
    allow_deprecated: bool = False
    max_connections: int = 256  # pqparsec: connections handled at once; more wait to be accepted
    # pqparsec: connections one client (peer uid) may have served at once, per worker; 0 = a
    # quarter of max_connections. Its further connections are accepted and parked, unread.
    max_connections_per_client: int = 0
    # pqparsec: connections of one client parked beyond its share before more are refused.
    max_parked_per_client: int = 1024
    # pqparsec: worker processes accepting on the one socket; 0 = the number of CPUs.
    workers: int = 0

    @property
    def client_share(self) -> int:
        """max_connections_per_client as configured, or its default."""
        return self.max_connections_per_client or max(1, self.max_connections // 4)

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


@dataclass(frozen=True)
class ListenerConfig:
    listener_type: str = "DomainSocket"
    timeout: int = 200  # ms
    socket_path: str = DEFAULT_SOCKET
    socket_mode: int = 0o666  # pqparsec: file mode of the socket


@dataclass(frozen=True)
class AuthenticatorConfig:
    auth_type: str = "UnixPeerCredentials"
    admins: tuple[str, ...] = ()
    workload_endpoint: str | None = None


@dataclass(frozen=True)
class KeyManagerConfig:
    name: str
    manager_type: str = "SQLite"
    sqlite_db_path: str = DEFAULT_SQLITE
    store_path: str | None = None


@dataclass(frozen=True)
class ProviderConfig:
    provider_type: str
    key_info_manager: str
    name: str | None = None
    # Every other key of the [[provider]] table, validated by the provider itself.
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    core: CoreSettings
    listener: ListenerConfig
    authenticator: AuthenticatorConfig
    key_managers: tuple[KeyManagerConfig, ...]
    providers: tuple[ProviderConfig, ...]
    source: str = "<embedded default>"
    base_dir: str = "."

    def key_manager(self, name: str) -> KeyManagerConfig:
        for km in self.key_managers:
            if km.name == name:
                return km
        raise ConfigError(f"{self.source}: no [[key_manager]] named {name!r}")


def _take(table: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str,
          default: Any) -> Any:
    if key not in table:
        return default
    value = table.pop(key)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise ConfigError(f"{where}.{key}: expected {kinds[0].__name__}, got a boolean")
    if not isinstance(value, kinds):
        raise ConfigError(f"{where}.{key}: expected {kinds[0].__name__}, got {type(value).__name__}")
    return value


def _no_leftovers(table: dict[str, Any], where: str) -> None:
    if table:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(table))}")


def _positive(value: int, where: str) -> int:
    if value <= 0:
        raise ConfigError(f"{where}: must be positive, got {value}")
    return value


def _path(base: str, value: str) -> str:
    return value if os.path.isabs(value) else os.path.normpath(os.path.join(base, value))


def parse(data: dict[str, Any], source: str, base_dir: str) -> Config:
    """Validate a parsed TOML document. `source` names the file in every error."""
    data = dict(data)
    s = source

    core_t = dict(data.pop("core_settings", {}) or {})
    w = f"{s}: [core_settings]"
    core = CoreSettings(
        allow_root=_take(core_t, "allow_root", bool, w, False),
        thread_pool_size=_take(core_t, "thread_pool_size", int, w, 0),
        idle_listener_sleep_duration=_take(core_t, "idle_listener_sleep_duration", int, w, 10),
        log_level=_take(core_t, "log_level", str, w, "info"),
        log_timestamp=_take(core_t, "log_timestamp", bool, w, False),
        body_len_limit=_positive(_take(core_t, "body_len_limit", int, w, 1 << 20),
                                 f"{w}.body_len_limit"),
        log_error_details=_take(core_t, "log_error_details", bool, w, False),
        buffer_size_limit=_positive(_take(core_t, "buffer_size_limit", int, w, 1 << 20),
                                    f"{w}.buffer_size_limit"),
        allow_deprecated=_take(core_t, "allow_deprecated", bool, w, False),
        max_connections=_positive(_take(core_t, "max_connections", int, w, 256),
                                  f"{w}.max_connections"),
        max_connections_per_client=_take(core_t, "max_connections_per_client", int, w, 0),
        max_parked_per_client=_take(core_t, "max_parked_per_client", int, w, 1024),
        workers=_take(core_t, "workers", int, w, 0),
    )
    _no_leftovers(core_t, w)
    if core.log_level not in LOG_LEVELS:
        raise ConfigError(f"{w}.log_level: {core.log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    for key in ("thread_pool_size", "max_connections_per_client", "max_parked_per_client",
                "workers"):
        if getattr(core, key) < 0:
            raise ConfigError(f"{w}.{key}: must not be negative")
    if core.max_connections_per_client > core.max_connections:
        raise ConfigError(f"{w}.max_connections_per_client: {core.max_connections_per_client} "
                          f"is more than max_connections ({core.max_connections})")
    if core.workers > 64:
        raise ConfigError(f"{w}.workers: {core.workers} is more than 64")

    if "listener" not in data:
        raise ConfigError(f"{s}: the [listener] table is required")
    lis_t = dict(data.pop("listener"))
    w = f"{s}: [listener]"
    listener = ListenerConfig(
        listener_type=_take(lis_t, "listener_type", str, w, "DomainSocket"),
        timeout=_positive(_take(lis_t, "timeout", int, w, 200), f"{w}.timeout"),
        socket_path=_path(base_dir, _take(lis_t, "socket_path", str, w, DEFAULT_SOCKET)),
        socket_mode=_take(lis_t, "socket_mode", int, w, 0o666),
    )
    _no_leftovers(lis_t, w)
    if listener.listener_type != "DomainSocket":
        raise ConfigError(f"{w}.listener_type: only \"DomainSocket\" is supported")
    if len(listener.socket_path.encode()) > 107:
        raise ConfigError(f"{w}.socket_path: longer than the 107 bytes a Unix socket path allows")

    auth_t = dict(data.pop("authenticator", {}) or {})
    w = f"{s}: [authenticator]"
    auth_type = _take(auth_t, "auth_type", str, w, "UnixPeerCredentials")
    if auth_type not in AUTH_TYPES:
        raise ConfigError(f"{w}.auth_type: {auth_type!r} is not one of {', '.join(AUTH_TYPES)}")
    admins_raw = _take(auth_t, "admins", list, w, [])
    admins = []
    for i, entry in enumerate(admins_raw):
        if not isinstance(entry, dict) or set(entry) != {"name"} or not isinstance(entry["name"], str):
            raise ConfigError(f"{w}.admins[{i}]: expected {{ name = \"...\" }}")
        admins.append(entry["name"])
    authenticator = AuthenticatorConfig(
        auth_type=auth_type, admins=tuple(admins),
        workload_endpoint=_take(auth_t, "workload_endpoint", str, w, None))
    _no_leftovers(auth_t, w)
    if auth_type == "JwtSvid" and not authenticator.workload_endpoint:
        raise ConfigError(f"{w}.workload_endpoint: required for JwtSvid")

    kms = []
    for i, km_t in enumerate(data.pop("key_manager", []) or []):
        km_t = dict(km_t)
        w = f"{s}: [[key_manager]] #{i + 1}"
        name = _take(km_t, "name", str, w, None)
        if not name:
            raise ConfigError(f"{w}.name: required")
        mtype = _take(km_t, "manager_type", str, w, "SQLite")
        if mtype != "SQLite":
            raise ConfigError(f"{w}.manager_type: {mtype!r} is not supported (use \"SQLite\")")
        kms.append(KeyManagerConfig(
            name=name, manager_type=mtype,
            sqlite_db_path=_path(base_dir, _take(km_t, "sqlite_db_path", str, w, DEFAULT_SQLITE)),
            store_path=_take(km_t, "store_path", str, w, None)))
        _no_leftovers(km_t, w)
    names = [k.name for k in kms]
    if len(set(names)) != len(names):
        raise ConfigError(f"{s}: [[key_manager]] names must be unique: {names}")

    provs = []
    for i, p_t in enumerate(data.pop("provider", []) or []):
        p_t = dict(p_t)
        w = f"{s}: [[provider]] #{i + 1}"
        ptype = _take(p_t, "provider_type", str, w, None)
        if ptype not in PROVIDER_TYPES:
            raise ConfigError(f"{w}.provider_type: {ptype!r} is not one of {', '.join(PROVIDER_TYPES)}")
        kim = _take(p_t, "key_info_manager", str, w, None)
        if kim is None:
            if len(kms) != 1:
                raise ConfigError(f"{w}.key_info_manager: required")
            kim = kms[0].name
        if kim not in names:
            raise ConfigError(f"{w}.key_info_manager: no [[key_manager]] named {kim!r}")
        provs.append(ProviderConfig(provider_type=ptype, key_info_manager=kim,
                                    name=_take(p_t, "name", str, w, None), options=p_t))
    if not provs:
        raise ConfigError(f"{s}: at least one [[provider]] is required")

    _no_leftovers(data, s)
    return Config(core=core, listener=listener, authenticator=authenticator,
                  key_managers=tuple(kms), providers=tuple(provs), source=source,
                  base_dir=base_dir)


def load(path: str | os.PathLike[str]) -> Config:
    # os.path rather than pathlib: pathlib costs every worker process half a MiB.
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return parse(data, p, os.path.dirname(os.path.realpath(p)))


def embedded_default(base_dir: str = ".") -> Config:
    """The local-development default: software provider, SQLite store and socket under
    ./.pqparsec, Unix peer credentials, root allowed (with a warning)."""
    state = os.path.join(os.path.abspath(base_dir), ".pqparsec")
    data = {
        "core_settings": {"allow_root": True, "log_level": "info"},
        "listener": {"timeout": 3000, "socket_path": os.path.join(state, "parsec.sock")},
        "authenticator": {"auth_type": "UnixPeerCredentials"},
        "key_manager": [{"name": "sqlite-manager", "manager_type": "SQLite",
                         "sqlite_db_path": os.path.join(state, "kim.sqlite3")}],
        "provider": [{"provider_type": "MbedCrypto", "key_info_manager": "sqlite-manager"}],
    }
    return parse(data, "<embedded default>", state)
