"""The composition root: builds the service from a config, runs it, reloads it on SIGHUP and
stops it gracefully on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import signal
import socket

from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.status import ParsecError
from pqparsec.service import authenticators
from pqparsec.service.config import Config, ConfigError, ProviderConfig
from pqparsec.service.dispatcher import Dispatcher, ServiceState
from pqparsec.service.key_store import KeyStore
from pqparsec.service.listener import Listener, bind_socket, systemd_socket
from pqparsec.service.providers.base import Provider, ServiceLimits
from pqparsec.service.providers.core import CoreProvider

log = logging.getLogger("pqparsec")

_LEVELS = {"error": logging.ERROR, "warn": logging.WARNING, "info": logging.INFO,
           "debug": logging.DEBUG, "trace": logging.DEBUG}


def setup_logging(config: Config) -> None:
    fmt = "%(levelname)s %(name)s: %(message)s"
    if config.core.log_timestamp:
        fmt = "%(asctime)s " + fmt
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(fmt))
    root.addHandler(handler)
    root.setLevel(_LEVELS[config.core.log_level])


def sd_notify(message: str) -> None:
    """Tell systemd about our state (no-op unless NOTIFY_SOCKET is set)."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.connect(addr)
            s.sendall(message.encode())
    except OSError as exc:
        log.warning("sd_notify(%s) failed: %s", message, exc)


class KeyStores:
    """Key stores by path, kept open across reloads."""

    def __init__(self) -> None:
        self._open: dict[str, KeyStore] = {}

    def get(self, path: str) -> KeyStore:
        if path not in self._open:
            self._open[path] = KeyStore(path)
        return self._open[path]

    def close(self) -> None:
        for store in self._open.values():
            store.close()
        self._open.clear()


# Back-ends installed as pip extras: (module, extra, what else the host needs).
OPTIONAL_BACKENDS = {
    "Pkcs11": ("pkcs11", "pkcs11", "a PKCS#11 module for your token, e.g. apt-get install softhsm2"),
    "Tpm": ("tpm2_pytss", "tpm",
            "pip builds tpm2-pytss from source: apt-get install libtss2-dev pkg-config gcc "
            "python3-dev"),
}


def require_backend(provider_type: str, config: Config) -> None:
    """Refuse to start, in one line, when a configured provider's extra is not installed. The
    check looks for the package without importing it."""
    module, extra, host = OPTIONAL_BACKENDS[provider_type]
    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"{config.source}: provider_type \"{provider_type}\" needs the "
                          f"'{extra}' extra, which is not installed: pip install "
                          f"'pqparsec[{extra}]' ({host})")


def check_backends(config: Config) -> None:
    """Every configured provider's extra is installed (before anything is logged or bound)."""
    for pc in config.providers:
        if pc.provider_type in OPTIONAL_BACKENDS:
            require_backend(pc.provider_type, config)


def build_provider(pc: ProviderConfig, config: Config, store: KeyStore,
                   limits: ServiceLimits) -> Provider | None:
    """The provider a [[provider]] table describes; None if it is to be left out (a Tpm
    provider with skip_if_no_tpm and no TPM: it has logged why). A back-end's modules are
    imported here, only when a table names it."""
    if pc.provider_type in ("MbedCrypto", "Software"):
        from pqparsec.service.providers.software import SoftwareProvider
        return SoftwareProvider.from_config(pc, config, store, limits)
    if pc.provider_type == "Tpm":
        require_backend("Tpm", config)
        from pqparsec.service.providers import tpm
        return tpm.from_config(pc, config, store, limits)
    if pc.provider_type == "Pkcs11":
        require_backend("Pkcs11", config)
        from pqparsec.service.providers.pkcs11 import Pkcs11Provider
        return Pkcs11Provider.from_config(pc, config, store, limits)
    raise ConfigError(f"{config.source}: provider_type {pc.provider_type!r} is not available in "
                      "this version of pqparsec")


def build_state(config: Config, stores: KeyStores) -> ServiceState:
    authn = authenticators.build(config.authenticator.auth_type, config.authenticator.admins)
    limits = ServiceLimits(body_len_limit=config.core.body_len_limit,
                           buffer_size_limit=config.core.buffer_size_limit,
                           allow_deprecated=config.core.allow_deprecated)
    providers: dict[ProviderId, Provider] = {}
    order: list[Provider] = []
    names: set[str] = set()
    try:
        for pc in config.providers:
            store = stores.get(config.key_manager(pc.key_info_manager).sqlite_db_path)
            provider = build_provider(pc, config, store, limits)
            if provider is None:
                continue
            if provider.provider_id in providers:
                raise ConfigError(f"{config.source}: two providers of type {pc.provider_type}; "
                                  "pqparsec routes by provider id, so only one is possible")
            if provider.name in names:
                raise ConfigError(f"{config.source}: provider name {provider.name!r} is used twice")
            names.add(provider.name)
            providers[provider.provider_id] = provider
            order.append(provider)
            provider.start()
        if not order:
            raise ConfigError(f"{config.source}: no provider could be started (all were skipped)")
    except BaseException:
        for p in order:
            p.close()
        raise
    core = CoreProvider(lambda: [*order], authn)
    providers[ProviderId.CORE] = core
    return ServiceState(authenticator=authn, providers=providers,
                        buffer_size_limit=config.core.buffer_size_limit,
                        log_error_details=config.core.log_error_details)


class Service:
    def __init__(self, config: Config, reload_from: str | None = None) -> None:
        self.config = config
        self.reload_from = reload_from
        self.stores = KeyStores()
        self.state: ServiceState | None = None
        # How many operations that may block or take time run at once (see Dispatcher).
        self.max_operations = config.core.thread_pool_size or os.cpu_count() or 2
        self._stop = asyncio.Event()
        self.listener: Listener | None = None

    def _current(self) -> ServiceState:
        assert self.state is not None
        return self.state

    async def run(self) -> None:
        cfg = self.config
        if os.geteuid() == 0:
            if not cfg.core.allow_root:
                raise ConfigError(f"{cfg.source}: refusing to run as root (set "
                                  "core_settings.allow_root = true to allow it)")
            log.warning("running as root: for local development only; deploy as a dedicated user")
        self.state = build_state(cfg, self.stores)
        try:
            activated = systemd_socket()
            sock = activated or bind_socket(cfg.listener.socket_path, cfg.listener.socket_mode)
        except BaseException:  # e.g. a socket directory others may write to: stop cleanly
            self._current().close()
            self.stores.close()
            raise
        self.listener = Listener(Dispatcher(self._current, self.max_operations),
                                 cfg.listener.timeout / 1000.0, cfg.core.body_len_limit,
                                 cfg.core.max_connections)
        # Connections are served by the listener's threads; this event loop only handles signals
        # (stop, SIGHUP reload) and systemd notification.
        self.listener.start(sock)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload()))
        names = ", ".join(p.name for p in self._current().providers.values())
        log.info("pqparsec listening on %s (providers: %s; authenticator: %s)",
                 cfg.listener.socket_path, names, cfg.authenticator.auth_type)
        sd_notify("READY=1")
        await self._stop.wait()
        sd_notify("STOPPING=1")
        log.info("stopping: finishing in-flight requests")
        await asyncio.to_thread(self.listener.stop, 5.0)
        self._current().close()
        self.stores.close()
        if activated is None:  # a socket systemd passed is systemd's to keep
            try:
                os.unlink(cfg.listener.socket_path)
            except OSError:
                pass
        log.info("stopped")

    async def reload(self) -> None:
        """SIGHUP: rebuild authenticator and providers from the config file. A bad config is
        logged and the running one kept. Listener path changes need a restart."""
        if self.reload_from is None:
            log.info("SIGHUP: no config file (embedded default); nothing to reload")
            return
        sd_notify("RELOADING=1")
        from pqparsec.service import config as config_mod
        try:
            new_cfg = config_mod.load(self.reload_from)
            new_state = await asyncio.get_running_loop().run_in_executor(
                None, build_state, new_cfg, self.stores)
        except (ConfigError, ParsecError, OSError) as exc:
            log.error("reload failed, keeping the running configuration: %s", exc)
            sd_notify("READY=1")
            return
        if new_cfg.listener.socket_path != self.config.listener.socket_path:
            log.warning("reload: listener.socket_path changes take effect on restart only")
        old = self.state
        self.state = new_state
        self.config = new_cfg
        setup_logging(new_cfg)
        assert self.listener is not None
        self.listener.configure(new_cfg.listener.timeout / 1000.0, new_cfg.core.body_len_limit)
        if old is not None:
            # Requests already dispatched hold their own reference; give them time to finish.
            asyncio.get_running_loop().call_later(30.0, old.close)
        log.info("configuration reloaded from %s", self.reload_from)
        sd_notify("READY=1")


def serve(config: Config, reload_from: str | None = None) -> None:
    check_backends(config)
    setup_logging(config)
    asyncio.run(Service(config, reload_from).run())
