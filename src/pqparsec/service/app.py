"""The composition root: builds the service from a config, runs it, reloads it on SIGHUP and
stops it gracefully on SIGTERM/SIGINT.

With `core_settings.workers` = 1 the service is this one process. With more, `serve` binds the
socket and hands over to the supervisor (supervisor.py), which forks the workers; each worker is a
`Worker` built here, as in the one-process case.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.status import ParsecError
from pqparsec.service import authenticators, memory
from pqparsec.service.config import Config, ConfigError, ProviderConfig
from pqparsec.service.dispatcher import Dispatcher, RelayedDispatcher, ServiceState
from pqparsec.service.key_store import KeyStore
from pqparsec.service.listener import Listener, bind_socket, systemd_socket
from pqparsec.service.providers.base import Provider, ServiceLimits
from pqparsec.service.providers.core import CoreProvider
from pqparsec.service.relay import RELAY_SOCKET, RelayProvider

log = logging.getLogger("pqparsec")

_LEVELS = {"error": logging.ERROR, "warn": logging.WARNING, "info": logging.INFO,
           "debug": logging.DEBUG, "trace": logging.DEBUG}


_log_tag = ""


def setup_logging(config: Config, tag: str | None = None) -> None:
    """Log lines to stderr; `tag` (e.g. "worker 1") names the process when there are several
    (None: keep this process's tag)."""
    global _log_tag
    if tag is not None:
        _log_tag = tag
    tag = _log_tag
    fmt = f"%(levelname)s [{tag}] %(name)s: %(message)s" if tag else \
        "%(levelname)s %(name)s: %(message)s"
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


@dataclass(frozen=True)
class TpmOwnership:
    """Which worker owns the TPM (relay.py). `owner`: this worker builds the TPM provider and
    serves the relay socket; otherwise it relays to the owner. `owner_providers`: the providers
    the owner runs (a Tpm provider with skip_if_no_tpm may be absent), for the other workers."""

    directory: str
    owner: bool
    owner_providers: frozenset[ProviderId] = field(default_factory=frozenset)

    @property
    def socket_path(self) -> str:
        return os.path.join(self.directory, RELAY_SOCKET)


def build_state(config: Config, stores: KeyStores,
                tpm: TpmOwnership | None = None) -> ServiceState:
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
            provider: Provider | None
            if pc.provider_type == "Tpm" and tpm is not None and not tpm.owner:
                if ProviderId.TPM not in tpm.owner_providers:
                    continue
                provider = RelayProvider(ProviderId.TPM, pc.name, store, tpm.socket_path)
            else:
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


def refuse_root(cfg: Config) -> None:
    if os.geteuid() == 0:
        if not cfg.core.allow_root:
            raise ConfigError(f"{cfg.source}: refusing to run as root (set "
                              "core_settings.allow_root = true to allow it)")
        log.warning("running as root: for local development only; deploy as a dedicated user")


def listening_socket(cfg: Config) -> tuple[socket.socket, bool]:
    """The socket systemd passed (True), or one bound at listener.socket_path (False)."""
    activated = systemd_socket()
    if activated is not None:
        return activated, True
    return bind_socket(cfg.listener.socket_path, cfg.listener.socket_mode), False


class Worker:
    """A process's share of the service: key stores, providers, the listener threads on the
    shared socket and, in the TPM owner, the relay listener. Runs as the only process
    (workers = 1) or as one of the supervisor's workers."""

    def __init__(self, config: Config, reload_from: str | None = None,
                 tpm: TpmOwnership | None = None) -> None:
        self.config = config
        self.reload_from = reload_from
        self.tpm = tpm
        self.stores = KeyStores()
        self.state: ServiceState | None = None
        # How many operations that may block or take time run at once (see Dispatcher).
        self.max_operations = config.core.thread_pool_size or os.cpu_count() or 2
        self.listener: Listener | None = None
        self.relay_listener: Listener | None = None

    def _current(self) -> ServiceState:
        assert self.state is not None
        return self.state

    def _listener(self, dispatcher: Dispatcher, cfg: Config, relay: bool = False) -> Listener:
        # Every client of the relay listener is one of the service's workers (one uid): no
        # per-client share there.
        return Listener(dispatcher, cfg.listener.timeout / 1000.0, cfg.core.body_len_limit,
                        cfg.core.max_connections,
                        client_share=cfg.core.max_connections if relay else cfg.core.client_share,
                        max_parked=cfg.core.max_parked_per_client)

    def build(self) -> None:
        """Providers and key stores (may raise ConfigError, e.g. a TPM that cannot be reached)."""
        self.state = build_state(self.config, self.stores, self.tpm)

    def start(self, sock: socket.socket) -> None:
        """Serve `sock` (after build)."""
        cfg = self.config
        if self.tpm is not None and self.tpm.owner and ProviderId.TPM in self._current().providers:
            relay_sock = bind_socket(self.tpm.socket_path, 0o600)
            self.relay_listener = self._listener(
                RelayedDispatcher(self._current, self.max_operations), cfg, relay=True)
            self.relay_listener.start(relay_sock)
        self.listener = self._listener(Dispatcher(self._current, self.max_operations), cfg)
        self.listener.start(sock)

    def provider_names(self) -> str:
        return ", ".join(p.name for p in self._current().providers.values())

    def reload(self) -> bool:
        """SIGHUP: rebuild authenticator and providers from the config file. A bad config is
        logged and the running one kept. Listener path changes and workers need a restart."""
        if self.reload_from is None:
            log.info("SIGHUP: no config file (embedded default); nothing to reload")
            return True
        from pqparsec.service import config as config_mod
        try:
            new_cfg = config_mod.load(self.reload_from)
            new_state = build_state(new_cfg, self.stores, self.tpm)
        except (ConfigError, ParsecError, OSError) as exc:
            log.error("reload failed, keeping the running configuration: %s", exc)
            return False
        if new_cfg.listener.socket_path != self.config.listener.socket_path:
            log.warning("reload: listener.socket_path changes take effect on restart only")
        if new_cfg.core.worker_count != self.config.core.worker_count:
            log.warning("reload: core_settings.workers changes take effect on restart only")
        old = self.state
        self.state = new_state
        self.config = new_cfg
        assert self.listener is not None
        for listener in (self.listener, self.relay_listener):
            if listener is not None:
                listener.configure(new_cfg.listener.timeout / 1000.0, new_cfg.core.body_len_limit)
        if old is not None:
            # Requests already dispatched hold their own reference; give them time to finish.
            timer = threading.Timer(30.0, old.close)
            timer.daemon = True
            timer.start()
        log.info("configuration reloaded from %s", self.reload_from)
        return True

    def stop(self, grace_s: float = 5.0) -> None:
        """Finish in-flight requests (up to grace_s), then release providers and stores."""
        for listener in (self.listener, self.relay_listener):
            if listener is not None:
                listener.stop(grace_s)
        if self.state is not None:
            self.state.close()
        self.stores.close()


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
WORKER_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def block_worker_signals() -> None:
    """Before any thread starts: the main thread takes SIGTERM/SIGINT/SIGHUP with sigwait, and
    every thread started afterwards inherits the mask, so none of them is interrupted."""
    signal.pthread_sigmask(signal.SIG_BLOCK, WORKER_SIGNALS)


def wait_for_signals(worker: Worker, notify: Callable[[str], None]) -> None:
    """The main thread of a worker: reload on SIGHUP until SIGTERM or SIGINT."""
    while True:
        sig = signal.sigwait(WORKER_SIGNALS)
        if sig != signal.SIGHUP:
            return
        notify("RELOADING=1")
        if worker.reload():
            setup_logging(worker.config)
        notify("READY=1")


def run_single(cfg: Config, reload_from: str | None) -> None:
    """workers = 1: the service is this process."""
    block_worker_signals()
    worker = Worker(cfg, reload_from)
    worker.build()
    try:
        sock, activated = listening_socket(cfg)
    except BaseException:  # e.g. a socket directory others may write to: stop cleanly
        worker.stop()
        raise
    worker.start(sock)
    log.info("pqparsec listening on %s (providers: %s; authenticator: %s)",
             cfg.listener.socket_path, worker.provider_names(), cfg.authenticator.auth_type)
    sd_notify("READY=1")
    wait_for_signals(worker, sd_notify)
    sd_notify("STOPPING=1")
    log.info("stopping: finishing in-flight requests")
    worker.stop(5.0)
    if not activated:  # a socket systemd passed is systemd's to keep
        try:
            os.unlink(cfg.listener.socket_path)
        except OSError:
            pass
    log.info("stopped")


def serve(config: Config, reload_from: str | None = None) -> None:
    memory.configure()  # before any thread or worker: the workers inherit it
    check_backends(config)
    setup_logging(config)
    refuse_root(config)
    if config.core.worker_count == 1:
        run_single(config, reload_from)
    else:
        from pqparsec.service.supervisor import Supervisor
        Supervisor(config, reload_from).run()
