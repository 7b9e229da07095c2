"""The supervisor of a multi-process service (core_settings.workers > 1).

It binds the socket (or takes systemd's), forks the workers, which all accept on that one socket,
and then only watches: it restarts a worker that dies (with back-off: a crash costs that worker's
in-flight requests, nothing else), forwards SIGHUP and tells systemd RELOADING/READY around the
workers' reloads, tells systemd READY once every worker serves, and on SIGTERM/SIGINT stops the
workers gracefully and then itself. It never serves a request and never opens a back-end.

Each worker is an `app.Worker` in a forked child (see app.py). A worker reports to the supervisor
on a pipe of its own, one line per event: "R <provider ids>" once it serves, "H" after each
reload. With a Tpm provider, worker 0 owns the TPM and the others relay to it (relay.py); worker 0
is then started first, so that the others know whether it runs a TPM provider at all.

The supervisor's main loop waits, in one select, for signals (through signal.set_wakeup_fd), the
workers' pipes and the time of the next restart.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import selectors
import signal
import socket
import sys
import time
from dataclasses import dataclass, field

from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.status import ParsecError
from pqparsec.service import app
from pqparsec.service.config import Config, ConfigError

log = logging.getLogger("pqparsec.supervisor")

HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD)
RESTART_DELAY_S = 0.1  # after a worker's first crash; doubled for each crash in a row
RESTART_DELAY_MAX_S = 10.0
STABLE_AFTER_S = 30.0  # a worker up this long has its crash count reset
RELOAD_WAIT_S = 60.0  # longest wait for the workers' reloads before telling systemd READY
STOP_WAIT_S = 15.0  # workers finish in-flight requests within 10 s (app.Worker.stop)
PR_SET_PDEATHSIG = 1


@dataclass
class WorkerSlot:
    index: int
    pid: int = 0
    pipe: int = -1  # read end of the worker's report pipe
    buffer: bytes = b""
    ready: bool = False
    started_at: float = 0.0
    crashes: int = 0  # in a row
    restart_at: float | None = None
    reloading: bool = False
    reload_when_ready: bool = False  # a SIGHUP came while it was starting
    providers: frozenset[ProviderId] = field(default_factory=frozenset)


class Supervisor:
    def __init__(self, config: Config, reload_from: str | None = None) -> None:
        self.config = config
        self.reload_from = reload_from
        self.slots = [WorkerSlot(i) for i in range(config.core.worker_count)]
        self.sel = selectors.DefaultSelector()
        self.sock: socket.socket | None = None
        self.relay_dir: str | None = None
        self.owner_providers: frozenset[ProviderId] = frozenset()
        self.stopping = False
        self.started = False  # every worker has served once
        self.reload_deadline: float | None = None
        self._wake_r, self._wake_w = socket.socketpair()

    @property
    def has_tpm(self) -> bool:
        return any(pc.provider_type == "Tpm" for pc in self.config.providers)

    # -- the supervisor's life ------------------------------------------------------------------

    def run(self) -> None:
        cfg = self.config
        self.sock, activated = app.listening_socket(cfg)
        if self.has_tpm:
            import tempfile  # here: only a TPM needs it (with shutil, below), and every worker
            self.relay_dir = tempfile.mkdtemp(prefix="pqparsec-relay-")  # inherits imports
        self._install_signals()
        self.sel.register(self._wake_r, selectors.EVENT_READ)
        self._preload()
        try:
            code = self._start_all()
            if code is None:
                log.info("pqparsec listening on %s (%d workers; providers: %s; authenticator: "
                         "%s)", cfg.listener.socket_path, len(self.slots),
                         ", ".join(self._provider_names()), cfg.authenticator.auth_type)
                app.sd_notify("READY=1")
                self._loop()
                app.sd_notify("STOPPING=1")
                log.info("stopping: the workers finish their in-flight requests")
        finally:
            self._stop_workers()
            self.sock.close()
            if not activated:
                with contextlib.suppress(OSError):
                    os.unlink(cfg.listener.socket_path)
            if self.relay_dir is not None:
                import shutil
                shutil.rmtree(self.relay_dir, ignore_errors=True)
        if code is not None:
            sys.exit(code)
        log.info("stopped")

    def _preload(self) -> None:
        """Import, before forking, the Python modules every worker will import anyway, so that
        their memory is shared by the workers (copy-on-write) instead of loaded once per worker;
        and move everything allocated so far out of the garbage collector's reach (gc.freeze),
        so that collections in the workers do not write to, and so copy, those shared pages.
        Back-end libraries (PKCS#11, TPM) are left to the workers: the TPM's to worker 0 alone."""
        if any(pc.provider_type in ("MbedCrypto", "Software") for pc in self.config.providers):
            import pqparsec.service.providers.software  # noqa: F401
        gc.freeze()

    def _provider_names(self) -> list[str]:
        names = []
        for pc in self.config.providers:
            if pc.provider_type == "Tpm" and ProviderId.TPM not in self.owner_providers:
                continue
            names.append(pc.name or pc.provider_type)
        return names

    def _install_signals(self) -> None:
        self._wake_w.setblocking(False)
        self._wake_r.setblocking(False)
        for sig in HANDLED:
            signal.signal(sig, lambda signum, frame: None)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)

    def _start_all(self) -> int | None:
        """Start every worker and wait until all serve. The exit code of a worker that could not
        start (its reason is in the log), or None."""
        order = [self.slots[:1], self.slots[1:]] if self.has_tpm else [self.slots]
        for group in order:
            for slot in group:
                self._spawn(slot)
            while not all(s.ready for s in group):
                self._wait_events(None)
                if self.stopping:
                    return 0
                for s in group:
                    if s.pid == 0 and not s.ready:  # died before it served
                        return s.crashes or 1
            if self.has_tpm and group is order[0]:
                self.owner_providers = group[0].providers
        self.started = True
        return None

    def _loop(self) -> None:
        while not self.stopping:
            now = time.monotonic()
            due = [s.restart_at for s in self.slots if s.restart_at is not None]
            if self.reload_deadline is not None:
                due.append(self.reload_deadline)
            timeout = max(0.0, min(due) - now) if due else None
            self._wait_events(timeout)
            now = time.monotonic()
            for slot in self.slots:
                if slot.restart_at is not None and slot.restart_at <= now and not self.stopping:
                    slot.restart_at = None
                    self._spawn(slot)
            self._check_reload_done(now)

    # -- events ---------------------------------------------------------------------------------

    def _wait_events(self, timeout: float | None) -> None:
        for key, _ in self.sel.select(timeout):
            if key.fileobj is self._wake_r:
                self._on_signals()
            else:
                slot = key.data
                assert isinstance(slot, WorkerSlot)
                self._on_report(slot)
        self._reap()

    def _on_signals(self) -> None:
        try:
            data = self._wake_r.recv(64)
        except BlockingIOError:
            return
        for signum in data:
            if signum in (signal.SIGTERM, signal.SIGINT):
                self.stopping = True
            elif signum == signal.SIGHUP:
                self._reload()
            # SIGCHLD: _reap runs after every wake-up

    def _on_report(self, slot: WorkerSlot) -> None:
        try:
            data = os.read(slot.pipe, 4096)
        except OSError:
            data = b""
        if not data:  # the worker has exited; _reap collects it
            self._close_pipe(slot)
            return
        slot.buffer += data
        while b"\n" in slot.buffer:
            line, slot.buffer = slot.buffer.split(b"\n", 1)
            if line.startswith(b"R"):
                slot.ready = True
                if slot.reload_when_ready:  # it may have read the file before it changed
                    slot.reload_when_ready = False
                    slot.reloading = True
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(slot.pid, signal.SIGHUP)
                slot.providers = frozenset(ProviderId(int(p)) for p in line[1:].split(b",")
                                           if p.strip())
                if slot.crashes:
                    log.info("worker %d (pid %d) serves again", slot.index, slot.pid)
            elif line == b"H":
                slot.reloading = False

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for slot in self.slots:
                if slot.pid == pid:
                    self._worker_exited(slot, status)

    def _worker_exited(self, slot: WorkerSlot, status: int) -> None:
        self._close_pipe(slot)
        pid, slot.pid = slot.pid, 0
        slot.reloading = False
        was_ready, slot.ready = slot.ready, False
        if self.stopping:
            return
        how = (f"was killed by signal {signal.Signals(-code).name}"
               if (code := os.waitstatus_to_exitcode(status)) < 0 else f"exited with status {code}")
        if not self.started:
            # Start-up: _start_all stops the service with this status.
            slot.crashes = code if code > 0 else 1
            return
        if time.monotonic() - slot.started_at >= STABLE_AFTER_S:
            slot.crashes = 0
        delay = min(RESTART_DELAY_MAX_S, RESTART_DELAY_S * (2 ** slot.crashes))
        slot.crashes += 1
        slot.restart_at = time.monotonic() + delay
        log.error("worker %d (pid %d) %s%s; restarting it in %.1f s", slot.index, pid, how,
                  "" if was_ready else " before it served", delay)

    def _close_pipe(self, slot: WorkerSlot) -> None:
        if slot.pipe >= 0:
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(slot.pipe)
            os.close(slot.pipe)
            slot.pipe = -1
            slot.buffer = b""

    def _reload(self) -> None:
        if self.reload_from is not None:
            from pqparsec.service import config as config_mod
            try:
                new_cfg = config_mod.load(self.reload_from)
            except ConfigError as exc:  # the workers log it too, and keep their configuration
                log.error("reload failed, keeping the running configuration: %s", exc)
            else:
                self.config = new_cfg
                app.setup_logging(new_cfg)
        if self.started:
            app.sd_notify("RELOADING=1")
        for slot in self.slots:
            if slot.pid and slot.ready:
                slot.reloading = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.pid, signal.SIGHUP)
            elif slot.pid:
                slot.reload_when_ready = True
        if not self.started:  # READY=1 follows once all serve
            return
        self.reload_deadline = time.monotonic() + RELOAD_WAIT_S
        self._check_reload_done(time.monotonic())

    def _check_reload_done(self, now: float) -> None:
        if self.reload_deadline is None:
            return
        if any(s.reloading for s in self.slots) and now < self.reload_deadline:
            return
        self.reload_deadline = None
        app.sd_notify("READY=1")

    # -- workers --------------------------------------------------------------------------------

    def _spawn(self, slot: WorkerSlot) -> None:
        read_end, write_end = os.pipe()
        supervisor_pid = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                os.close(read_end)
                code = self._worker_main(slot.index, write_end, supervisor_pid)
            except BaseException:
                with contextlib.suppress(BaseException):
                    log.exception("worker %d failed", slot.index)
            finally:
                with contextlib.suppress(BaseException):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        os.close(write_end)
        slot.pid, slot.pipe, slot.ready = pid, read_end, False
        slot.reload_when_ready = False  # it reads the configuration the supervisor holds now
        slot.started_at = time.monotonic()
        slot.buffer = b""
        self.sel.register(read_end, selectors.EVENT_READ, slot)

    def _worker_main(self, index: int, report: int, supervisor_pid: int) -> int:
        signal.set_wakeup_fd(-1)
        for sig in HANDLED:
            signal.signal(sig, signal.SIG_DFL)
        app.block_worker_signals()
        self.sel.close()
        self._wake_r.close()
        self._wake_w.close()
        for other in self.slots:
            if other.index != index and other.pipe >= 0:
                os.close(other.pipe)
        _die_with_parent()
        if os.getppid() != supervisor_pid:  # it died before the request took effect
            return 0
        cfg = self.config
        app.setup_logging(cfg, f"worker {index}")
        tpm = None
        if self.relay_dir is not None:
            tpm = app.TpmOwnership(self.relay_dir, owner=index == 0,
                                   owner_providers=self.owner_providers)
        worker = app.Worker(cfg, self.reload_from, tpm)
        try:
            worker.build()
            assert self.sock is not None
            worker.start(self.sock)
        except (ConfigError, ParsecError, OSError) as exc:
            print(f"pqparsec: cannot start: {exc}", file=sys.stderr)
            worker.stop(0.0)
            return 2
        assert worker.state is not None
        ids = ",".join(str(int(pid)) for pid in worker.state.providers)
        os.write(report, f"R{ids}\n".encode())

        def notify(message: str) -> None:
            if message == "READY=1":
                with contextlib.suppress(OSError):
                    os.write(report, b"H\n")

        app.wait_for_signals(worker, notify)
        worker.stop(5.0)
        return 0

    def _stop_workers(self) -> None:
        self.stopping = True
        live = [s for s in self.slots if s.pid]
        for slot in live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(slot.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        while any(s.pid for s in self.slots) and time.monotonic() < deadline:
            with contextlib.suppress(InterruptedError):
                self.sel.select(0.05)
            self._reap()
        for slot in self.slots:
            if slot.pid:
                log.error("worker %d (pid %d) did not stop; killing it", slot.index, slot.pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.pid, signal.SIGKILL)
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(slot.pid, 0)
                slot.pid = 0
        for slot in self.slots:
            self._close_pipe(slot)


def _die_with_parent() -> None:
    """Ask the kernel to send this worker SIGTERM if the supervisor dies (even by kill -9), so
    no worker outlives it holding the socket."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols: libc's prctl
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
