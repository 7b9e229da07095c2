"""The connection to a PKCS#11 token: library loading, token selection, login and a session pool.

Three things python-pkcs11 does not do the way a multi-threaded service needs, done here:

* It calls ``C_Initialize(NULL)``, which tells the module the application will never call it from
  two threads at once (SoftHSM then switches its own locking off). We initialise the module
  ourselves with ``CKF_OS_LOCKING_OK`` so that sessions really can be used in parallel. Should
  python-pkcs11 ever stop letting us do that, we notice and serialise every call instead.
* Closing a session it logged in with calls ``C_Logout``, which logs out *every* session of the
  process. We open all sessions without a PIN and log in once, ourselves, through the module's
  function list; the login lasts until the token is released.
* A module is process-global: on a configuration reload the new provider and the old one share
  it. Libraries and tokens are reference-counted so that the old provider's close() neither
  finalises the module nor logs the new one out.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pkcs11
from pkcs11 import _pkcs11
from pkcs11 import exceptions as p11e

from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.config import ConfigError

log = logging.getLogger(__name__)

CKF_OS_LOCKING_OK = 0x2
CKU_USER = 1
CKR_OK = 0x0
CKR_CANT_LOCK = 0xA
CKR_PIN_INCORRECT = 0xA0
CKR_PIN_INVALID = 0xA1
CKR_PIN_LEN_RANGE = 0xA2
CKR_PIN_EXPIRED = 0xA3
CKR_PIN_LOCKED = 0xA4
CKR_USER_ALREADY_LOGGED_IN = 0x100
CKR_USER_NOT_LOGGED_IN = 0x101
CKR_USER_PIN_NOT_INITIALIZED = 0x102
CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191

_LOGIN_ERRORS = {
    CKR_PIN_INCORRECT: "the PIN is incorrect (CKR_PIN_INCORRECT)",
    CKR_PIN_INVALID: "the PIN has invalid characters (CKR_PIN_INVALID)",
    CKR_PIN_LEN_RANGE: "the PIN has the wrong length (CKR_PIN_LEN_RANGE)",
    CKR_PIN_EXPIRED: "the PIN has expired (CKR_PIN_EXPIRED)",
    CKR_PIN_LOCKED: "the user PIN is locked (CKR_PIN_LOCKED)",
    CKR_USER_PIN_NOT_INITIALIZED: "the token's user PIN is not initialised",
}

# The front of CK_FUNCTION_LIST (PKCS#11 2.40, section 5.16): version, then function pointers in
# this order. We only call the ones up to C_Logout.
_FUNCTIONS = ("C_Initialize", "C_Finalize", "C_GetInfo", "C_GetFunctionList", "C_GetSlotList",
              "C_GetSlotInfo", "C_GetTokenInfo", "C_GetMechanismList", "C_GetMechanismInfo",
              "C_InitToken", "C_InitPIN", "C_SetPIN", "C_OpenSession", "C_CloseSession",
              "C_CloseAllSessions", "C_GetSessionInfo", "C_GetOperationState",
              "C_SetOperationState", "C_Login", "C_Logout")


class _FunctionList(ctypes.Structure):
    _fields_ = [("major", ctypes.c_ubyte), ("minor", ctypes.c_ubyte),
                *((name, ctypes.c_void_p) for name in _FUNCTIONS)]


class _InitArgs(ctypes.Structure):
    _fields_ = [("CreateMutex", ctypes.c_void_p), ("DestroyMutex", ctypes.c_void_p),
                ("LockMutex", ctypes.c_void_p), ("UnlockMutex", ctypes.c_void_p),
                ("flags", ctypes.c_ulong), ("pReserved", ctypes.c_void_p)]


_CK_RV = ctypes.c_ulong
_InitFn = ctypes.CFUNCTYPE(_CK_RV, ctypes.c_void_p)
_LoginFn = ctypes.CFUNCTYPE(_CK_RV, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_char_p,
                            ctypes.c_ulong)
_LogoutFn = ctypes.CFUNCTYPE(_CK_RV, ctypes.c_ulong)


class Pkcs11Failure(Exception):
    """A CK_RV from a call we make through the function list ourselves."""

    def __init__(self, function: str, rv: int) -> None:
        super().__init__(f"{function} returned CK_RV 0x{rv:X}")
        self.function = function
        self.rv = rv


# -------------------------------------------------------------------------------------------------
# Error mapping: python-pkcs11 raises one exception class per CK_RV.

_STATUS_BY_ERROR: tuple[tuple[type[Exception], ResponseStatus], ...] = (
    (p11e.HostMemory, ResponseStatus.PSA_ERROR_INSUFFICIENT_MEMORY),
    (p11e.DeviceMemory, ResponseStatus.PSA_ERROR_INSUFFICIENT_STORAGE),
    (p11e.DeviceError, ResponseStatus.PSA_ERROR_HARDWARE_FAILURE),
    (p11e.DeviceRemoved, ResponseStatus.PSA_ERROR_HARDWARE_FAILURE),
    (p11e.TokenNotPresent, ResponseStatus.PSA_ERROR_HARDWARE_FAILURE),
    (p11e.TokenNotRecognised, ResponseStatus.PSA_ERROR_HARDWARE_FAILURE),
    (p11e.SignatureInvalid, ResponseStatus.PSA_ERROR_INVALID_SIGNATURE),
    (p11e.SignatureLenRange, ResponseStatus.PSA_ERROR_INVALID_SIGNATURE),
    (p11e.RandomNoRNG, ResponseStatus.PSA_ERROR_INSUFFICIENT_ENTROPY),
    (p11e.MechanismInvalid, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (p11e.MechanismParamInvalid, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (p11e.FunctionNotSupported, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (p11e.DomainParamsInvalid, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (p11e.KeySizeRange, ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
    (p11e.DataLenRange, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (p11e.EncryptedDataLenRange, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (p11e.AttributeValueInvalid, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (p11e.TemplateInconsistent, ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (p11e.UserNotLoggedIn, ResponseStatus.PSA_ERROR_NOT_PERMITTED),
    (p11e.ObjectHandleInvalid, ResponseStatus.PSA_ERROR_DOES_NOT_EXIST),
    (p11e.KeyHandleInvalid, ResponseStatus.PSA_ERROR_DOES_NOT_EXIST),
)

# Errors after which a session is not worth keeping.
_SESSION_FATAL: tuple[type[Exception], ...] = (
    p11e.SessionHandleInvalid, p11e.SessionClosed, p11e.DeviceRemoved, p11e.TokenNotPresent,
    p11e.DeviceError, p11e.OperationActive,
)


def to_parsec_error(exc: Exception, what: str) -> ParsecError:
    """A token error as a Parsec status. Anything we do not recognise is a failure to talk to the
    token (PsaErrorCommunicationFailure), as in Parsec: our requests are well formed, so an
    unexpected error is the token's."""
    if isinstance(exc, ParsecError):
        return exc
    name = type(exc).__name__
    for cls, status in _STATUS_BY_ERROR:
        if isinstance(exc, cls):
            return ParsecError(status, f"{what}: token error {name}")
    if "0x68" in str(exc):  # CKR_KEY_FUNCTION_NOT_PERMITTED, which python-pkcs11 does not name
        return ParsecError(ResponseStatus.PSA_ERROR_NOT_PERMITTED,
                           f"{what}: the token key does not permit this function")
    return ParsecError(ResponseStatus.PSA_ERROR_COMMUNICATION_FAILURE, f"{what}: token error {name}")


# -------------------------------------------------------------------------------------------------
# Libraries


class Library:
    """One loaded PKCS#11 module. Shared (reference-counted) by the providers of this process."""

    _registry: dict[str, Library] = {}
    _registry_lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self.refs = 0
        try:
            self._cdll = ctypes.CDLL(path)
        except OSError as exc:
            raise ConfigError(f"cannot load the PKCS#11 module {path}: {exc}") from None
        get_list = getattr(self._cdll, "C_GetFunctionList", None)
        if get_list is None:
            raise ConfigError(f"{path} is not a PKCS#11 module (no C_GetFunctionList)")
        fl_ptr = ctypes.POINTER(_FunctionList)()
        get_list.restype, get_list.argtypes = _CK_RV, [ctypes.c_void_p]
        rv = get_list(ctypes.byref(fl_ptr))
        if rv != CKR_OK or not fl_ptr:
            raise ConfigError(f"{path}: C_GetFunctionList failed (CK_RV 0x{rv:X})")
        fl = fl_ptr.contents
        self._initialize = _InitFn(fl.C_Initialize)
        self._finalize = _InitFn(fl.C_Finalize)
        self._login = _LoginFn(fl.C_Login)
        self._logout = _LogoutFn(fl.C_Logout)
        # Without OS locking the module must never see two calls at once: then this lock is held
        # around every use of a session.
        self.serialised = False
        self._serial_lock = threading.RLock()
        self._initialised_by_us = False  # our initialize() ran (else python-pkcs11's did)
        self._owns_init = False  # ... and the module was not initialised before: we finalise it
        self.lib = self._load()

    def _load(self) -> Any:
        owner = self

        class _Lib(_pkcs11.lib):
            def initialize(self) -> None:  # replaces C_Initialize(NULL): see the module docstring
                owner._initialise_with_locking()

        try:
            lib = _Lib(self.path)
        except p11e.PKCS11Error as exc:
            raise ConfigError(f"{self.path}: the PKCS#11 module failed to initialise "
                              f"({type(exc).__name__})") from None
        if not self._initialised_by_us:
            # python-pkcs11 initialised the module itself, without locking: serialise.
            self.serialised = True
            log.warning("%s: initialised without OS locking; PKCS#11 calls are serialised",
                        self.path)
        return lib

    def _initialise_with_locking(self) -> None:
        args = _InitArgs(None, None, None, None, CKF_OS_LOCKING_OK, None)
        rv = self._initialize(ctypes.byref(args))
        if rv == CKR_CANT_LOCK:
            rv = self._initialize(None)
            self.serialised = True
            log.warning("%s cannot use OS locking; PKCS#11 calls are serialised", self.path)
        if rv == CKR_CRYPTOKI_ALREADY_INITIALIZED:
            # Someone else in this process initialised it, with locking or not: be careful, and
            # leave finalising to them.
            self.serialised = True
            log.warning("%s was already initialised in this process; PKCS#11 calls are "
                        "serialised", self.path)
        elif rv != CKR_OK:
            raise ConfigError(f"{self.path}: C_Initialize failed (CK_RV 0x{rv:X})")
        self._initialised_by_us = True
        self._owns_init = rv == CKR_OK

    @classmethod
    def acquire(cls, path: str) -> Library:
        with cls._registry_lock:
            lib = cls._registry.get(path)
            if lib is None:
                lib = cls(path)
                cls._registry[path] = lib
            lib.refs += 1
            return lib

    def release(self) -> None:
        with self._registry_lock:
            self.refs -= 1
            if self.refs > 0:
                return
            del self._registry[self.path]
            if self._owns_init:
                self._finalize(None)
            elif not self._initialised_by_us:
                with contextlib.suppress(p11e.PKCS11Error):
                    self.lib.finalize()

    def guard(self) -> contextlib.AbstractContextManager[Any]:
        return self._serial_lock if self.serialised else contextlib.nullcontext()

    def login(self, session_handle: int, pin: bytes) -> int:
        return int(self._login(session_handle, CKU_USER, pin, len(pin)))

    def logout(self, session_handle: int) -> int:
        return int(self._logout(session_handle))


# -------------------------------------------------------------------------------------------------
# Tokens


def describe_token(token: Any) -> str:
    serial = token.serial.decode("ascii", "replace").strip() if token.serial else "?"
    return f"token {token.label.strip()!r} (serial {serial}, slot {token.slot.slot_id})"


def _serial(token: Any) -> str:
    return bytes(token.serial).decode("ascii", "replace").strip()


def select_token(lib: Any, path: str, slot_number: int | None, serial_number: str | None) -> Any:
    """The token a configuration names: by serial number (preferred), by slot number, or the
    first initialised token."""
    try:
        slots = lib.get_slots(token_present=True)
        tokens = []
        for slot in slots:
            try:
                tokens.append(slot.get_token())
            except p11e.PKCS11Error:
                continue
    except p11e.PKCS11Error as exc:
        raise ConfigError(f"{path}: cannot list the slots ({type(exc).__name__})") from None
    initialised = [t for t in tokens if t.flags & pkcs11.TokenFlag.TOKEN_INITIALIZED]
    found = ", ".join(describe_token(t) for t in initialised) or "none"
    if serial_number is not None:
        for t in initialised:
            if _serial(t) == serial_number:
                if slot_number is not None and t.slot.slot_id != slot_number:
                    log.warning("serial_number %s is in slot %d, not slot_number %d: using the "
                                "serial number", serial_number, t.slot.slot_id, slot_number)
                return t
        raise ConfigError(f"{path}: no initialised token with serial_number {serial_number!r} "
                          f"(found: {found})")
    if slot_number is not None:
        for t in tokens:
            if t.slot.slot_id == slot_number:
                if t not in initialised:
                    raise ConfigError(f"{path}: the token in slot {slot_number} is not initialised")
                return t
        raise ConfigError(f"{path}: no token in slot_number {slot_number} (found: {found})")
    if not initialised:
        raise ConfigError(f"{path}: no initialised token found")
    if len(initialised) > 1:
        log.warning("%s: several tokens and no serial_number/slot_number: using the first, %s",
                    path, describe_token(initialised[0]))
    return initialised[0]


class Token:
    """A token in use: its login and a pool of read/write sessions. Shared (reference-counted)
    by the providers of this process that name the same module and slot."""

    _registry: dict[tuple[str, int], Token] = {}
    _registry_lock = threading.Lock()

    def __init__(self, library: Library, token: Any, pool_size: int) -> None:
        self.library = library
        self.token = token
        self.description = describe_token(token)
        self.refs = 0
        self._pool_size = pool_size
        self._idle: list[Any] = []
        self._open = 0
        self._cond = threading.Condition()  # the pool; never held while calling the module
        self._login_lock = threading.Lock()
        self._closed = False
        self._pin: bytes | None = None
        self._anchor: Any = None  # keeps the login alive; never used for operations

    # -- registry ------------------------------------------------------------------------------

    @classmethod
    def acquire(cls, library_path: str, slot_number: int | None, serial_number: str | None,
                pin: bytes | None, pool_size: int) -> Token:
        library = Library.acquire(library_path)
        try:
            found = select_token(library.lib, library_path, slot_number, serial_number)
            key = (library_path, int(found.slot.slot_id))
            with cls._registry_lock:
                tok = cls._registry.get(key)
                if tok is None:  # a new token keeps our library reference
                    tok = cls(library, found, pool_size)
                    cls._registry[key] = tok
                else:
                    library.release()
                tok.refs += 1
        except BaseException:
            library.release()
            raise
        try:
            if pin is not None:
                tok.login(pin)
        except BaseException:
            tok.release()
            raise
        return tok

    def release(self) -> None:
        with self._registry_lock:
            self.refs -= 1
            if self.refs > 0:
                return
            key = (self.library.path, int(self.token.slot.slot_id))
            self._registry.pop(key, None)
        self._close_all()
        self.library.release()

    # -- login ---------------------------------------------------------------------------------

    def login(self, pin: bytes) -> None:
        """Log the process in. A wrong PIN is a start-up error naming the token; it is never
        retried (a real token locks after a few wrong PINs)."""
        with self._login_lock:
            if self._pin == pin:
                return
            with self.library.guard():
                if self._anchor is None:
                    try:
                        self._anchor = self.token.open(rw=True)
                    except p11e.PKCS11Error as exc:
                        raise ConfigError(f"{self.description}: cannot open a session "
                                          f"({type(exc).__name__})") from None
                if self._pin is not None:
                    # Another provider of this process logged in with another PIN (reload).
                    self.library.logout(self._anchor.handle)
                rv = self.library.login(self._anchor.handle, pin)
                if rv == CKR_USER_ALREADY_LOGGED_IN and self._pin is None:
                    rv = CKR_OK
                if rv != CKR_OK:
                    previous, self._pin = self._pin, None
                    if previous is not None:
                        self.library.login(self._anchor.handle, previous)
                        self._pin = previous
                    reason = _LOGIN_ERRORS.get(rv, f"C_Login returned CK_RV 0x{rv:X}")
                    raise ConfigError(f"{self.description}: login with user_pin failed: {reason}")
            self._pin = pin
            log.info("logged in to %s", self.description)

    # -- sessions ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def session(self) -> Iterator[Any]:
        """A session for this thread alone, for the length of the block."""
        s = self._checkout()
        broken = False
        try:
            with self.library.guard():
                yield s
        except _SESSION_FATAL:
            broken = True
            raise
        finally:
            self._checkin(s, broken)

    def _checkout(self) -> Any:
        with self._cond:
            while True:
                if self._idle:
                    return self._idle.pop()
                if self._open < self._pool_size:
                    self._open += 1
                    break
                self._cond.wait()
        try:
            with self.library.guard():
                return self.token.open(rw=True)
        except BaseException:
            with self._cond:
                self._open -= 1
                self._cond.notify()
            raise

    def _checkin(self, s: Any, broken: bool) -> None:
        drop = broken or self._closed  # a session that outlived its token is closed too
        if drop:
            if broken:
                log.warning("%s: dropping a session after a session-level error",
                            self.description)
            with contextlib.suppress(Exception), self.library.guard():
                s.close()
        with self._cond:
            if drop:
                self._open -= 1
            else:
                self._idle.append(s)
            self._cond.notify()

    def _close_all(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        with self._login_lock:
            anchor, self._anchor = self._anchor, None
            pin, self._pin = self._pin, None
        with self.library.guard():
            for s in idle:
                with contextlib.suppress(Exception):
                    s.close()
            if anchor is not None:
                if pin is not None:
                    self.library.logout(anchor.handle)
                with contextlib.suppress(Exception):
                    anchor.close()

    @property
    def logged_in(self) -> bool:
        return self._pin is not None

    def mechanisms(self) -> set[Any]:
        with self.library.guard():
            return set(self.token.slot.get_mechanisms())

    def mechanism_info(self, mechanism: Any) -> Any:
        with self.library.guard():
            return self.token.slot.get_mechanism_info(mechanism)
