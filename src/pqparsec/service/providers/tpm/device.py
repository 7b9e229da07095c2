"""One TPM, one worker thread: every TPM command of the service runs on it, in turn.

ESAPI contexts are not thread-safe and a TPM without a resource manager has only a few object
slots (3 on swtpm), so TPM access is serialised here while the service's worker pool keeps
serving other providers. The worker owns the connection and the storage key: it re-connects and
re-creates the storage key when the TPM went away (a restarted swtpm, a TPM reset), then runs
the interrupted command once more.

Devices are shared by TCTI and owner authorisation, so a reload that keeps the same TPM keeps
its connection (a second context on the same TPM would take object slots the first needs).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from tpm2_pytss import ESAPI, TSS2_Exception
from tpm2_pytss.constants import (
    ESYS_TR,
    TPM2_CAP,
    TPM2_HC,
    TPM2_RC,
    TPM2_SU,
    TSS2_RC,
)

from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.providers.tpm import objects
from pqparsec.service.providers.tpm.blob import TpmKeyBlob
from pqparsec.service.providers.tpm.config import TpmSettings

log = logging.getLogger(__name__)

__all__ = ["TSS2_Exception", "TpmDevice", "TpmUnavailable", "acquire", "parsec_error", "release",
           "tpm_error"]

T = TypeVar("T")

_LAYER_MASK = int(TSS2_RC.RC_LAYER_MASK)
_TCTI_LAYER = int(TSS2_RC.TCTI_RC_LAYER)
_ESAPI_BAD_SEQUENCE = int(TSS2_RC.ESYS_RC_BAD_SEQUENCE)


class TpmUnavailable(Exception):
    """The TPM cannot be reached (or refuses the storage key): start-up decides what that means."""


def _rc(exc: TSS2_Exception) -> int:
    return int(exc.rc)


def is_connection_error(exc: TSS2_Exception) -> bool:
    rc = _rc(exc)
    return (rc & _LAYER_MASK) == _TCTI_LAYER or rc == _ESAPI_BAD_SEQUENCE


def tpm_error(exc: TSS2_Exception) -> int:
    """The TPM response code without its handle/parameter/session number (0 if not a TPM rc)."""
    if (_rc(exc) & _LAYER_MASK) != 0:
        return 0
    return int(exc.error)


class TpmDevice:
    def __init__(self, settings: TpmSettings) -> None:
        self.settings = settings
        self.tcti = settings.tcti
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pqparsec-tpm")
        self._thread: threading.Thread | None = None
        self._ctx: Any = None
        self._primary: Any = None
        self.primary_name = b""
        self.primary_public: Any = None
        self._refs = 0
        self._down = False
        self._up_once = False

    # -- the worker -----------------------------------------------------------------------------

    def run(self, job: Callable[[TpmDevice], T]) -> T:
        """Run `job(self)` on the TPM thread and return its result (or raise its exception)."""
        try:
            if threading.current_thread() is self._thread:
                return self._attempt(job)
            return self._executor.submit(self._attempt, job).result()
        except TpmUnavailable as exc:
            raise ParsecError(ResponseStatus.PSA_ERROR_COMMUNICATION_FAILURE, str(exc)) from None

    def _attempt(self, job: Callable[[TpmDevice], T]) -> T:
        self._thread = threading.current_thread()
        if self._ctx is None:
            self._connect()
        try:
            return job(self)
        except TSS2_Exception as exc:
            if is_connection_error(exc) or tpm_error(exc) == int(TPM2_RC.INITIALIZE):
                log.warning("TPM at %s: connection lost (%s); reconnecting", self.tcti, exc)
                self._disconnect()
                self._connect()
            elif tpm_error(exc) == int(TPM2_RC.REFERENCE_H0) or (
                    tpm_error(exc) == int(TPM2_RC.HANDLE) and exc.handle == 1):
                log.warning("TPM at %s: the storage key is gone (%s; was the TPM reset?); "
                            "re-creating it", self.tcti, exc)
                self._forget_primary()
                self._make_primary()
            elif tpm_error(exc) == int(TPM2_RC.OBJECT_MEMORY) and \
                    not self.settings.resource_managed:
                if not self._flush_strays():
                    raise
            else:
                raise
        return job(self)

    # -- connection and storage key ---------------------------------------------------------------

    def _connect(self) -> None:
        try:
            self._ctx = ESAPI(self.tcti)
        except TSS2_Exception as exc:
            self._ctx = None
            if self._up_once and not self._down:  # once per outage, not once per request
                self._down = True
                log.error("TPM at %s is unreachable (%s); TPM operations fail until it is back",
                          self.tcti, exc)
            raise TpmUnavailable(f"cannot reach the TPM at TCTI {self.tcti!r}: {exc}") from None
        if self._down:
            self._down = False
            log.warning("TPM at %s is reachable again", self.tcti)
        self._up_once = True
        try:
            self._startup_if_needed()
            self._make_primary()
        except TSS2_Exception as exc:
            self._disconnect()
            if tpm_error(exc) in (int(TPM2_RC.BAD_AUTH), int(TPM2_RC.AUTH_FAIL)):
                raise TpmUnavailable(f"the TPM at TCTI {self.tcti!r} refused "
                                     "owner_hierarchy_auth") from None
            raise TpmUnavailable(f"the TPM at TCTI {self.tcti!r} failed to start: {exc}") from None

    def _startup_if_needed(self) -> None:
        try:
            self._ctx.get_random(1)
        except TSS2_Exception as exc:
            if tpm_error(exc) != int(TPM2_RC.INITIALIZE):
                raise
            log.info("TPM at %s was not started; sending TPM2_Startup(CLEAR)", self.tcti)
            self._ctx.startup(TPM2_SU.CLEAR)

    def _make_primary(self) -> None:
        ctx = self._ctx
        ctx.tr_set_auth(ESYS_TR.OWNER, self.settings.owner_auth)
        try:
            handle, public, *_ = ctx.create_primary(None, objects.storage_key_template(),
                                                    ESYS_TR.OWNER)
        except TSS2_Exception as exc:
            if tpm_error(exc) != int(TPM2_RC.OBJECT_MEMORY) or self.settings.resource_managed \
                    or not self._flush_strays():
                raise
            handle, public, *_ = ctx.create_primary(None, objects.storage_key_template(),
                                                    ESYS_TR.OWNER)
        self._primary = handle
        self.primary_public = public
        self.primary_name = bytes(ctx.tr_get_name(handle).marshal())

    def _forget_primary(self) -> None:
        primary, self._primary = self._primary, None
        if primary is not None:
            try:
                self._ctx.tr_close(primary)
            except TSS2_Exception:
                pass

    def _disconnect(self) -> None:
        ctx, self._ctx, self._primary = self._ctx, None, None
        if ctx is None:
            return
        try:
            ctx.close()
        except Exception:  # a broken connection: nothing more to release
            log.debug("TPM at %s: closing the context failed", self.tcti, exc_info=True)

    def _flush_strays(self) -> bool:
        """No resource manager and no free object slot: transient objects not ours were left
        by a process that died holding them. Flush them (they are unusable by anyone now)."""
        ours = int(self._ctx.tr_get_tpm_handle(self._primary)) if self._primary else None
        _, data = self._ctx.get_capability(TPM2_CAP.HANDLES, int(TPM2_HC.TRANSIENT_FIRST), 64)
        stray = [int(h) for h in data.data.handles if int(h) != ours]
        for h in stray:
            tr = self._ctx.tr_from_tpmpublic(h)
            self._ctx.flush_context(tr)
        if stray:
            log.warning("TPM at %s: flushed %d transient object(s) left behind by another "
                        "client", self.tcti, len(stray))
        return bool(stray)

    def open(self) -> None:
        """Connect now (start-up), so an absent TPM is reported before the service answers.
        Raises TpmUnavailable."""
        self._executor.submit(self._attempt, lambda dev: None).result()

    def shutdown(self) -> None:
        def close(dev: TpmDevice) -> None:
            if dev._ctx is not None and dev._primary is not None:
                try:
                    dev._ctx.flush_context(dev._primary)
                except TSS2_Exception:
                    pass
            dev._disconnect()
        try:
            self._executor.submit(close, self).result()
        finally:
            self._executor.shutdown(wait=True)

    # -- helpers for jobs (run on the TPM thread) -------------------------------------------------

    @property
    def ctx(self) -> Any:
        return self._ctx

    @property
    def primary(self) -> Any:
        return self._primary

    def responsive(self) -> bool:
        """Whether the TPM still executes commands (it does not in failure mode)."""
        try:
            self._ctx.get_random(1)
        except TSS2_Exception:
            return False
        return True

    @contextmanager
    def transient(self, handle: Any) -> Iterator[Any]:
        """Flush `handle` (an object or session) when done, whatever happens."""
        try:
            yield handle
        finally:
            try:
                self._ctx.flush_context(handle)
            except TSS2_Exception as exc:  # the TPM lost it (reset) or the connection is gone
                log.debug("TPM at %s: flush failed: %s", self.tcti, exc)
                try:
                    self._ctx.tr_close(handle)
                except TSS2_Exception:
                    pass

    @contextmanager
    def endorsement_key(self) -> Iterator[tuple[Any, Any]]:
        """The default RSA endorsement key (re-created from its template) and its public part."""
        self._ctx.tr_set_auth(ESYS_TR.ENDORSEMENT, self.settings.endorsement_auth)
        handle, public, *_ = self._ctx.create_primary(None, objects.endorsement_key_template(),
                                                      ESYS_TR.ENDORSEMENT)
        with self.transient(handle):
            yield handle, public

    @contextmanager
    def attestation_key(self) -> Iterator[tuple[Any, Any]]:
        """The service's ECC attestation key (a primary re-created from its template in the
        endorsement hierarchy) and its public part; always flushed."""
        self._ctx.tr_set_auth(ESYS_TR.ENDORSEMENT, self.settings.endorsement_auth)
        handle, public, *_ = self._ctx.create_primary(None, objects.attestation_key_template(),
                                                      ESYS_TR.ENDORSEMENT)
        with self.transient(handle):
            yield handle, public

    @contextmanager
    def loaded(self, key: TpmKeyBlob) -> Iterator[Any]:
        """The key loaded under the storage key with its authorisation set; always flushed."""
        if key.parent_name != self.primary_name:
            raise ParsecError(ResponseStatus.PSA_ERROR_DATA_INVALID,
                              "the key was created by another TPM, or before this TPM's "
                              "owner hierarchy was cleared; this TPM cannot load it")
        private = objects.unmarshal_private(key.private)
        public = objects.unmarshal_public(key.public)
        handle = self._ctx.load(self._primary, private, public)
        with self.transient(handle):
            self._ctx.tr_set_auth(handle, key.auth)
            yield handle


# -- sharing across reloads -----------------------------------------------------------------------

_devices: dict[TpmSettings, TpmDevice] = {}
_devices_lock = threading.Lock()


def acquire(settings: TpmSettings) -> TpmDevice:
    """The device for these settings, connected; shared with earlier holders."""
    key = TpmSettings(settings.tcti, settings.owner_auth, settings.endorsement_auth)
    with _devices_lock:
        dev = _devices.get(key)
        if dev is None:
            dev = TpmDevice(settings)
            try:
                dev.open()
            except BaseException:
                dev.shutdown()
                raise
            _devices[key] = dev
        dev._refs += 1
        return dev


def release(dev: TpmDevice) -> None:
    with _devices_lock:
        dev._refs -= 1
        if dev._refs > 0:
            return
        for k, v in list(_devices.items()):
            if v is dev:
                del _devices[k]
    dev.shutdown()


# -- errors ---------------------------------------------------------------------------------------

_NOT_SUPPORTED = {int(getattr(TPM2_RC, n)) for n in ("KEY_SIZE", "CURVE", "HASH", "SCHEME", "KDF",
                                                     "ASYMMETRIC", "SYMMETRIC", "MODE")}
_CORRUPT = {int(getattr(TPM2_RC, n)) for n in ("INTEGRITY", "BINDING", "KEY", "INSUFFICIENT")}


def parsec_error(exc: TSS2_Exception, tcti: str, what: str) -> ParsecError:
    """A TSS or TPM error as the PSA status a client can act on."""
    if is_connection_error(exc):
        return ParsecError(ResponseStatus.PSA_ERROR_COMMUNICATION_FAILURE,
                           f"{what}: lost the TPM at TCTI {tcti!r}: {exc}")
    err = tpm_error(exc)
    if err in (int(TPM2_RC.BAD_AUTH), int(TPM2_RC.AUTH_FAIL)):
        return ParsecError(ResponseStatus.PSA_ERROR_DATA_CORRUPT,
                           f"{what}: the stored authorisation value does not match the key")
    if err in _CORRUPT:
        return ParsecError(ResponseStatus.PSA_ERROR_DATA_CORRUPT,
                           f"{what}: the TPM rejects the stored key ({exc})")
    if err in _NOT_SUPPORTED:
        return ParsecError(ResponseStatus.PSA_ERROR_NOT_SUPPORTED,
                           f"{what}: not supported by this TPM ({exc})")
    if err == int(TPM2_RC.OBJECT_MEMORY):
        return ParsecError(ResponseStatus.PSA_ERROR_INSUFFICIENT_MEMORY,
                           f"{what}: the TPM has no free object slot ({exc})")
    if err == int(TPM2_RC.LOCKOUT):
        return ParsecError(ResponseStatus.PSA_ERROR_NOT_PERMITTED,
                           f"{what}: the TPM is in dictionary-attack lockout")
    return ParsecError(ResponseStatus.PSA_ERROR_HARDWARE_FAILURE, f"{what}: TPM error: {exc}")
