"""The `py_C_*` functions the C library calls: C memory in, `token.Module` calls, C memory out.

Loaded by the library's embedded interpreter (see `builder.init_code`). Nothing raises into C: a
PKCS#11 error becomes its CKR_ value and anything unexpected CKR_GENERAL_ERROR (printed to
stderr only when PQPARSEC_P11_DEBUG is set; no key material or data is ever printed)."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

from pqparsec.p11module import constants as c
from pqparsec.p11module.mapping import P11Error, ckr_for
from pqparsec.p11module.token import Module, oaep_params, pss_hash

MODULE = Module()
ALIVE = 0x5150  # what pqp11_alive answers once this file is loaded
_DEBUG = bool(os.environ.get("PQPARSEC_P11_DEBUG"))


def _blank(ffi: Any, field: Any, text: str) -> None:
    """Fill a fixed-size, blank-padded PKCS#11 character field."""
    size = ffi.sizeof(field)
    raw = text.encode("utf-8")[:size]
    ffi.memmove(field, raw.ljust(size, b" "), size)


def _version(v: Any, pair: tuple[int, int]) -> None:
    v.major, v.minor = pair[0] & 0xFF, pair[1] & 0xFF


def _bytes(ffi: Any, ptr: Any, n: int) -> bytes:
    if n == 0:
        return b""
    if ptr == ffi.NULL:
        raise P11Error(c.CKR_ARGUMENTS_BAD)
    return bytes(ffi.buffer(ptr, n))


def _template(ffi: Any, ptr: Any, count: int) -> dict[int, bytes]:
    if count and ptr == ffi.NULL:
        raise P11Error(c.CKR_ARGUMENTS_BAD)
    out = {}
    for i in range(count):
        a = ptr[i]
        out[int(a.type)] = _bytes(ffi, ffi.cast("CK_BYTE_PTR", a.pValue), int(a.ulValueLen))
    return out


def _output(ffi: Any, out: Any, out_len: Any, size: int) -> bool:
    """The PKCS#11 length convention: False (with *out_len set) when `out` is NULL (a length
    query); P11Error(BUFFER_TOO_SMALL) when it is too small; True when `size` bytes fit."""
    if out_len == ffi.NULL:
        raise P11Error(c.CKR_ARGUMENTS_BAD)
    if out == ffi.NULL:
        out_len[0] = size
        return False
    if out_len[0] < size:
        out_len[0] = size
        raise P11Error(c.CKR_BUFFER_TOO_SMALL)
    return True


def _put(ffi: Any, out: Any, out_len: Any, data: bytes) -> None:
    ffi.memmove(out, data, len(data))
    out_len[0] = len(data)


def bind(ffi: Any) -> None:
    """Register every py_C_* function with cffi."""

    def export(data_call: bool = False) -> Callable[[Callable[..., int]], Callable[..., int]]:
        def wrap(fn: Callable[..., int]) -> Callable[..., int]:
            @functools.wraps(fn)
            def run(*args: Any) -> int:
                try:
                    return fn(*args)
                except BaseException as exc:  # nothing may reach the C host
                    rv = ckr_for(exc, data_call=data_call)
                    if _DEBUG:
                        print(f"pqparsec-pkcs11: {fn.__name__}: CKR 0x{rv:x}: "
                              f"{type(exc).__name__}: {exc}", file=sys.stderr)
                        if rv == c.CKR_GENERAL_ERROR:
                            traceback.print_exc()
                    return rv
            ffi.def_extern(name="py_" + fn.__name__, error=c.CKR_GENERAL_ERROR)(run)
            return run
        return wrap

    def _alive() -> int:
        return ALIVE

    ffi.def_extern(name="pqp11_alive")(_alive)

    # -- library, slots, tokens -----------------------------------------------------------------

    @export()
    def C_Initialize(args: Any) -> int:
        if args != ffi.NULL:
            ia = ffi.cast("CK_C_INITIALIZE_ARGS *", args)
            if ia.pReserved != ffi.NULL:
                return c.CKR_ARGUMENTS_BAD
            given = [ia.CreateMutex, ia.DestroyMutex, ia.LockMutex, ia.UnlockMutex]
            some = sum(1 for f in given if f != ffi.NULL)
            if some not in (0, 4):
                return c.CKR_ARGUMENTS_BAD
            if some == 4 and not ia.flags & c.CKF_OS_LOCKING_OK:
                return c.CKR_CANT_LOCK  # the module's locks are the OS's
        MODULE.initialize()
        return c.CKR_OK

    @export()
    def C_Finalize(reserved: Any) -> int:
        if reserved != ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        MODULE.finalize()
        return c.CKR_OK

    @export()
    def C_GetInfo(info: Any) -> int:
        if info == ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        d = MODULE.info()
        _version(info.cryptokiVersion, (2, 40))
        _blank(ffi, info.manufacturerID, d["manufacturer"])
        info.flags = 0
        _blank(ffi, info.libraryDescription, d["description"])
        _version(info.libraryVersion, d["version"])
        return c.CKR_OK

    @export()
    def C_GetSlotList(present: int, slots: Any, count: Any) -> int:
        ids = MODULE.slots()
        if not _output(ffi, slots, count, len(ids)):
            return c.CKR_OK
        for i, s in enumerate(ids):
            slots[i] = s
        count[0] = len(ids)
        return c.CKR_OK

    @export()
    def C_GetSlotInfo(slot: int, info: Any) -> int:
        if info == ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        d = MODULE.slot_info(slot)
        _blank(ffi, info.slotDescription, d["description"])
        _blank(ffi, info.manufacturerID, d["manufacturer"])
        info.flags = d["flags"]
        _version(info.hardwareVersion, d["hw"])
        _version(info.firmwareVersion, d["fw"])
        return c.CKR_OK

    @export()
    def C_GetTokenInfo(slot: int, info: Any) -> int:
        if info == ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        d = MODULE.token_info(slot)
        _blank(ffi, info.label, d["label"])
        _blank(ffi, info.manufacturerID, d["manufacturer"])
        _blank(ffi, info.model, d["model"])
        _blank(ffi, info.serialNumber, d["serial"])
        info.flags = d["flags"]
        info.ulMaxSessionCount = 0  # CK_EFFECTIVELY_INFINITE
        info.ulSessionCount = d["sessions"]
        info.ulMaxRwSessionCount = 0
        info.ulRwSessionCount = d["rw_sessions"]
        info.ulMaxPinLen = 256
        info.ulMinPinLen = 0
        for f in ("ulTotalPublicMemory", "ulFreePublicMemory", "ulTotalPrivateMemory",
                  "ulFreePrivateMemory"):
            setattr(info, f, c.CK_UNAVAILABLE_INFORMATION)
        _version(info.hardwareVersion, d["version"])
        _version(info.firmwareVersion, d["version"])
        _blank(ffi, info.utcTime, "")
        return c.CKR_OK

    @export()
    def C_GetMechanismList(slot: int, mechs: Any, count: Any) -> int:
        found = sorted(MODULE.mechanisms(slot))
        if not _output(ffi, mechs, count, len(found)):
            return c.CKR_OK
        for i, m in enumerate(found):
            mechs[i] = m
        count[0] = len(found)
        return c.CKR_OK

    @export()
    def C_GetMechanismInfo(slot: int, mech: int, info: Any) -> int:
        if info == ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        m = MODULE.mechanisms(slot).get(mech)
        if m is None:
            return c.CKR_MECHANISM_INVALID
        info.ulMinKeySize, info.ulMaxKeySize, info.flags = m.min_size, m.max_size, m.flags
        return c.CKR_OK

    # -- sessions -------------------------------------------------------------------------------

    @export()
    def C_OpenSession(slot: int, flags: int, app: Any, notify: Any, out: Any) -> int:
        if out == ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        out[0] = MODULE.open_session(slot, flags)
        return c.CKR_OK

    @export()
    def C_CloseSession(h: int) -> int:
        MODULE.close_session(h)
        return c.CKR_OK

    @export()
    def C_CloseAllSessions(slot: int) -> int:
        MODULE.close_all(slot)
        return c.CKR_OK

    @export()
    def C_GetSessionInfo(h: int, info: Any) -> int:
        if info == ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        info.slotID, info.state, info.flags = MODULE.session_info(h)
        info.ulDeviceError = 0
        return c.CKR_OK

    @export()
    def C_Login(h: int, user: int, pin: Any, pin_len: int) -> int:
        MODULE.login(h, user)  # the PIN is not read: the service authenticates the caller
        return c.CKR_OK

    @export()
    def C_Logout(h: int) -> int:
        MODULE.logout(h)
        return c.CKR_OK

    # -- objects ----------------------------------------------------------------------------------

    @export()
    def C_DestroyObject(h: int, obj: int) -> int:
        MODULE.destroy(h, obj)
        return c.CKR_OK

    @export()
    def C_GetAttributeValue(h: int, obj: int, template: Any, count: int) -> int:
        s = MODULE.session(h)
        o = MODULE.obj(s, obj)
        if count and template == ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        rv = c.CKR_OK
        for i in range(count):
            a = template[i]
            value = MODULE.attribute(o, int(a.type))
            if value is None or not isinstance(value, bytes):
                a.ulValueLen = c.CK_UNAVAILABLE_INFORMATION
                rv = c.CKR_ATTRIBUTE_TYPE_INVALID if value is None else c.CKR_ATTRIBUTE_SENSITIVE
            elif a.pValue == ffi.NULL:
                a.ulValueLen = len(value)
            elif a.ulValueLen >= len(value):
                ffi.memmove(a.pValue, value, len(value))
                a.ulValueLen = len(value)
            else:
                a.ulValueLen = c.CK_UNAVAILABLE_INFORMATION
                rv = c.CKR_BUFFER_TOO_SMALL
        return rv

    @export()
    def C_FindObjectsInit(h: int, template: Any, count: int) -> int:
        MODULE.find_init(h, _template(ffi, template, count))
        return c.CKR_OK

    @export()
    def C_FindObjects(h: int, out: Any, max_count: int, count: Any) -> int:
        if count == ffi.NULL or (max_count and out == ffi.NULL):
            return c.CKR_ARGUMENTS_BAD
        found = MODULE.find(h, max_count)
        for i, handle in enumerate(found):
            out[i] = handle
        count[0] = len(found)
        return c.CKR_OK

    @export()
    def C_FindObjectsFinal(h: int) -> int:
        MODULE.find_final(h)
        return c.CKR_OK

    @export()
    def C_GenerateKeyPair(h: int, mech: Any, pub: Any, pub_n: int, priv: Any, priv_n: int,
                          pub_out: Any, priv_out: Any) -> int:
        if mech == ffi.NULL or pub_out == ffi.NULL or priv_out == ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        pub_h, priv_h = MODULE.generate_key_pair(h, int(mech.mechanism),
                                                 _template(ffi, pub, pub_n),
                                                 _template(ffi, priv, priv_n))
        pub_out[0], priv_out[0] = pub_h, priv_h
        return c.CKR_OK

    # -- signatures -------------------------------------------------------------------------------

    def sign_init(kind: str, h: int, mech: Any, key: int) -> int:
        if mech == ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        m = int(mech.mechanism)
        param = None
        if m in (c.CKM_RSA_PKCS_PSS, c.CKM_SHA1_RSA_PKCS_PSS, c.CKM_SHA224_RSA_PKCS_PSS,
                 c.CKM_SHA256_RSA_PKCS_PSS, c.CKM_SHA384_RSA_PKCS_PSS, c.CKM_SHA512_RSA_PKCS_PSS):
            if mech.pParameter == ffi.NULL or \
                    mech.ulParameterLen != ffi.sizeof("CK_RSA_PKCS_PSS_PARAMS"):
                return c.CKR_MECHANISM_PARAM_INVALID
            p = ffi.cast("CK_RSA_PKCS_PSS_PARAMS *", mech.pParameter)
            param = pss_hash(int(p.hashAlg), int(p.mgf), int(p.sLen))
        elif m == c.CKM_EDDSA and mech.ulParameterLen:
            return c.CKR_MECHANISM_PARAM_INVALID  # no Ed25519ph / context: pure EdDSA only
        MODULE.sign_init(h, kind, m, param, key)
        return c.CKR_OK

    @export()
    def C_SignInit(h: int, mech: Any, key: int) -> int:
        return sign_init("sign", h, mech, key)

    @export(data_call=True)
    def C_Sign(h: int, data: Any, data_len: int, sig: Any, sig_len: Any) -> int:
        try:
            size = MODULE.signature_length(h, "sign")
            if not _output(ffi, sig, sig_len, size):
                return c.CKR_OK
        except P11Error as exc:
            if exc.rv != c.CKR_BUFFER_TOO_SMALL:
                MODULE.end(h, "sign")
            raise
        _put(ffi, sig, sig_len, MODULE.sign(h, _bytes(ffi, data, data_len)))
        return c.CKR_OK

    @export()
    def C_SignUpdate(h: int, part: Any, part_len: int) -> int:
        try:
            MODULE.update(h, "sign", _bytes(ffi, part, part_len))
        except P11Error as exc:
            if exc.rv != c.CKR_OPERATION_NOT_INITIALIZED:
                MODULE.end(h, "sign")
            raise
        return c.CKR_OK

    @export(data_call=True)
    def C_SignFinal(h: int, sig: Any, sig_len: Any) -> int:
        try:
            size = MODULE.signature_length(h, "sign")
            if not _output(ffi, sig, sig_len, size):
                return c.CKR_OK
        except P11Error as exc:
            if exc.rv != c.CKR_BUFFER_TOO_SMALL:
                MODULE.end(h, "sign")
            raise
        _put(ffi, sig, sig_len, MODULE.sign(h))
        return c.CKR_OK

    @export()
    def C_VerifyInit(h: int, mech: Any, key: int) -> int:
        return sign_init("verify", h, mech, key)

    @export(data_call=True)
    def C_Verify(h: int, data: Any, data_len: int, sig: Any, sig_len: int) -> int:
        MODULE.op(h, "verify")
        MODULE.verify(h, _bytes(ffi, data, data_len), _bytes(ffi, sig, sig_len))
        return c.CKR_OK

    @export()
    def C_VerifyUpdate(h: int, part: Any, part_len: int) -> int:
        MODULE.update(h, "verify", _bytes(ffi, part, part_len))
        return c.CKR_OK

    @export(data_call=True)
    def C_VerifyFinal(h: int, sig: Any, sig_len: int) -> int:
        MODULE.op(h, "verify")
        MODULE.verify(h, None, _bytes(ffi, sig, sig_len))
        return c.CKR_OK

    # -- encryption -------------------------------------------------------------------------------

    def crypt_init(kind: str, h: int, mech: Any, key: int) -> int:
        if mech == ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        m = int(mech.mechanism)
        oaep = None
        if m == c.CKM_RSA_PKCS_OAEP:
            if mech.pParameter == ffi.NULL or \
                    mech.ulParameterLen != ffi.sizeof("CK_RSA_PKCS_OAEP_PARAMS"):
                return c.CKR_MECHANISM_PARAM_INVALID
            p = ffi.cast("CK_RSA_PKCS_OAEP_PARAMS *", mech.pParameter)
            label = _bytes(ffi, ffi.cast("CK_BYTE_PTR", p.pSourceData), int(p.ulSourceDataLen))
            oaep = oaep_params(int(p.hashAlg), int(p.mgf), int(p.source), label)
        MODULE.crypt_init(h, kind, m, oaep, key)
        return c.CKR_OK

    def crypt(kind: str, h: int, data: Any, data_len: int, out: Any, out_len: Any) -> int:
        raw = _bytes(ffi, data, data_len)
        try:
            size = MODULE.crypt_length(h, kind, raw)
            if not _output(ffi, out, out_len, size):
                return c.CKR_OK
        except P11Error as exc:
            if exc.rv != c.CKR_BUFFER_TOO_SMALL:
                MODULE.end(h, kind)
            raise
        except Exception:
            MODULE.end(h, kind)
            raise
        _put(ffi, out, out_len, MODULE.crypt(h, kind, raw))
        return c.CKR_OK

    @export()
    def C_EncryptInit(h: int, mech: Any, key: int) -> int:
        return crypt_init("encrypt", h, mech, key)

    @export(data_call=True)
    def C_Encrypt(h: int, data: Any, data_len: int, out: Any, out_len: Any) -> int:
        return crypt("encrypt", h, data, data_len, out, out_len)

    @export()
    def C_DecryptInit(h: int, mech: Any, key: int) -> int:
        return crypt_init("decrypt", h, mech, key)

    @export(data_call=True)
    def C_Decrypt(h: int, data: Any, data_len: int, out: Any, out_len: Any) -> int:
        return crypt("decrypt", h, data, data_len, out, out_len)

    # -- random -----------------------------------------------------------------------------------

    @export()
    def C_GenerateRandom(h: int, out: Any, size: int) -> int:
        if size and out == ffi.NULL:
            return c.CKR_ARGUMENTS_BAD
        data = MODULE.random(h, size)
        ffi.memmove(out, data, len(data))
        return c.CKR_OK
