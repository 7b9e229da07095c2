"""Builds the PKCS#11 module: a shared library whose C_* functions run Python (cffi embedding).

The C part is small: the PKCS#11 2.40 types (written here, not taken from a header), the
function list with its 68 entries in the standard order, stubs that answer
CKR_FUNCTION_NOT_SUPPORTED, and a start-up that initialises the embedded interpreter with this
Python's home and then imports `pqparsec.p11module.glue` with the build-time `sys.path`. The
Python functions are `py_C_*`; each exported `C_*` checks the start-up succeeded and calls its
`py_` twin. Needs cffi, a C compiler and the Python headers (python3-dev)."""

from __future__ import annotations

import importlib
import os
import shutil
import site
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

LIBRARY_NAME = "libpqparsec-pkcs11.so"

# PKCS#11 2.40 CK_FUNCTION_LIST, in order: (name, parameters, implemented in Python).
FUNCTIONS: list[tuple[str, str, bool]] = [
    ("C_Initialize", "CK_VOID_PTR pInitArgs", True),
    ("C_Finalize", "CK_VOID_PTR pReserved", True),
    ("C_GetInfo", "CK_INFO_PTR pInfo", True),
    ("C_GetFunctionList", "CK_FUNCTION_LIST_PTR_PTR ppFunctionList", False),
    ("C_GetSlotList", "CK_BBOOL tokenPresent, CK_SLOT_ID_PTR pSlotList, CK_ULONG_PTR pulCount",
     True),
    ("C_GetSlotInfo", "CK_SLOT_ID slotID, CK_SLOT_INFO_PTR pInfo", True),
    ("C_GetTokenInfo", "CK_SLOT_ID slotID, CK_TOKEN_INFO_PTR pInfo", True),
    ("C_GetMechanismList", "CK_SLOT_ID slotID, CK_MECHANISM_TYPE_PTR pMechanismList, "
                           "CK_ULONG_PTR pulCount", True),
    ("C_GetMechanismInfo", "CK_SLOT_ID slotID, CK_MECHANISM_TYPE type, "
                           "CK_MECHANISM_INFO_PTR pInfo", True),
    ("C_InitToken", "CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, "
                    "CK_UTF8CHAR_PTR pLabel", False),
    ("C_InitPIN", "CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen", False),
    ("C_SetPIN", "CK_SESSION_HANDLE hSession, CK_UTF8CHAR_PTR pOldPin, CK_ULONG ulOldLen, "
                 "CK_UTF8CHAR_PTR pNewPin, CK_ULONG ulNewLen", False),
    ("C_OpenSession", "CK_SLOT_ID slotID, CK_FLAGS flags, CK_VOID_PTR pApplication, "
                      "CK_VOID_PTR Notify, CK_SESSION_HANDLE_PTR phSession", True),
    ("C_CloseSession", "CK_SESSION_HANDLE hSession", True),
    ("C_CloseAllSessions", "CK_SLOT_ID slotID", True),
    ("C_GetSessionInfo", "CK_SESSION_HANDLE hSession, CK_SESSION_INFO_PTR pInfo", True),
    ("C_GetOperationState", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState, "
                            "CK_ULONG_PTR pulOperationStateLen", False),
    ("C_SetOperationState", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState, "
                            "CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey, "
                            "CK_OBJECT_HANDLE hAuthenticationKey", False),
    ("C_Login", "CK_SESSION_HANDLE hSession, CK_USER_TYPE userType, CK_UTF8CHAR_PTR pPin, "
                "CK_ULONG ulPinLen", True),
    ("C_Logout", "CK_SESSION_HANDLE hSession", True),
    ("C_CreateObject", "CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, "
                       "CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phObject", False),
    ("C_CopyObject", "CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, "
                     "CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, "
                     "CK_OBJECT_HANDLE_PTR phNewObject", False),
    ("C_DestroyObject", "CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject", True),
    ("C_GetObjectSize", "CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, "
                        "CK_ULONG_PTR pulSize", False),
    ("C_GetAttributeValue", "CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, "
                            "CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount", True),
    ("C_SetAttributeValue", "CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, "
                            "CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount", False),
    ("C_FindObjectsInit", "CK_SESSION_HANDLE hSession, CK_ATTRIBUTE_PTR pTemplate, "
                          "CK_ULONG ulCount", True),
    ("C_FindObjects", "CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE_PTR phObject, "
                      "CK_ULONG ulMaxObjectCount, CK_ULONG_PTR pulObjectCount", True),
    ("C_FindObjectsFinal", "CK_SESSION_HANDLE hSession", True),
    ("C_EncryptInit", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, "
                      "CK_OBJECT_HANDLE hKey", True),
    ("C_Encrypt", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, "
                  "CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen", True),
    ("C_EncryptUpdate", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen, "
                        "CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen", False),
    ("C_EncryptFinal", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart, "
                       "CK_ULONG_PTR pulLastEncryptedPartLen", False),
    ("C_DecryptInit", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, "
                      "CK_OBJECT_HANDLE hKey", True),
    ("C_Decrypt", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedData, "
                  "CK_ULONG ulEncryptedDataLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen",
     True),
    ("C_DecryptUpdate", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, "
                        "CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, "
                        "CK_ULONG_PTR pulPartLen", False),
    ("C_DecryptFinal", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastPart, "
                       "CK_ULONG_PTR pulLastPartLen", False),
    ("C_DigestInit", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism", False),
    ("C_Digest", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, "
                 "CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen", False),
    ("C_DigestUpdate", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen",
     False),
    ("C_DigestKey", "CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey", False),
    ("C_DigestFinal", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, "
                      "CK_ULONG_PTR pulDigestLen", False),
    ("C_SignInit", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, "
                   "CK_OBJECT_HANDLE hKey", True),
    ("C_Sign", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, "
               "CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen", True),
    ("C_SignUpdate", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen", True),
    ("C_SignFinal", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, "
                    "CK_ULONG_PTR pulSignatureLen", True),
    ("C_SignRecoverInit", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, "
                          "CK_OBJECT_HANDLE hKey", False),
    ("C_SignRecover", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, "
                      "CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen", False),
    ("C_VerifyInit", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, "
                     "CK_OBJECT_HANDLE hKey", True),
    ("C_Verify", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen, "
                 "CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen", True),
    ("C_VerifyUpdate", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen",
     True),
    ("C_VerifyFinal", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, "
                      "CK_ULONG ulSignatureLen", True),
    ("C_VerifyRecoverInit", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, "
                            "CK_OBJECT_HANDLE hKey", False),
    ("C_VerifyRecover", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, "
                        "CK_ULONG ulSignatureLen, CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen",
     False),
    ("C_DigestEncryptUpdate", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, "
                              "CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart, "
                              "CK_ULONG_PTR pulEncryptedPartLen", False),
    ("C_DecryptDigestUpdate", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, "
                              "CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, "
                              "CK_ULONG_PTR pulPartLen", False),
    ("C_SignEncryptUpdate", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, "
                            "CK_ULONG ulPartLen, CK_BYTE_PTR pEncryptedPart, "
                            "CK_ULONG_PTR pulEncryptedPartLen", False),
    ("C_DecryptVerifyUpdate", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart, "
                              "CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, "
                              "CK_ULONG_PTR pulPartLen", False),
    ("C_GenerateKey", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, "
                      "CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey",
     False),
    ("C_GenerateKeyPair", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, "
                          "CK_ATTRIBUTE_PTR pPublicKeyTemplate, CK_ULONG ulPublicKeyAttributeCount, "
                          "CK_ATTRIBUTE_PTR pPrivateKeyTemplate, "
                          "CK_ULONG ulPrivateKeyAttributeCount, "
                          "CK_OBJECT_HANDLE_PTR phPublicKey, CK_OBJECT_HANDLE_PTR phPrivateKey",
     True),
    ("C_WrapKey", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, "
                  "CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, "
                  "CK_BYTE_PTR pWrappedKey, CK_ULONG_PTR pulWrappedKeyLen", False),
    ("C_UnwrapKey", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, "
                    "CK_OBJECT_HANDLE hUnwrappingKey, CK_BYTE_PTR pWrappedKey, "
                    "CK_ULONG ulWrappedKeyLen, CK_ATTRIBUTE_PTR pTemplate, "
                    "CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey", False),
    ("C_DeriveKey", "CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, "
                    "CK_OBJECT_HANDLE hBaseKey, CK_ATTRIBUTE_PTR pTemplate, "
                    "CK_ULONG ulAttributeCount, CK_OBJECT_HANDLE_PTR phKey", False),
    ("C_SeedRandom", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen", False),
    ("C_GenerateRandom", "CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, "
                         "CK_ULONG ulRandomLen", True),
    ("C_GetFunctionStatus", "CK_SESSION_HANDLE hSession", False),
    ("C_CancelFunction", "CK_SESSION_HANDLE hSession", False),
    ("C_WaitForSlotEvent", "CK_FLAGS flags, CK_SLOT_ID_PTR pSlot, CK_VOID_PTR pReserved", False),
]
assert len(FUNCTIONS) == 68

# What a C stub answers (the functions the module does not implement).
STUB_RESULTS = {"C_SeedRandom": "0x120UL",  # CKR_RANDOM_SEED_NOT_SUPPORTED
                "C_GetFunctionStatus": "0x51UL", "C_CancelFunction": "0x51UL"}  # NOT_PARALLEL

# The PKCS#11 2.40 types, for both the C compiler and cffi's parser (LP64 Linux: CK_ULONG is
# unsigned long; structures are not packed).
TYPES = """
typedef unsigned char CK_BYTE;
typedef CK_BYTE CK_CHAR;
typedef CK_BYTE CK_UTF8CHAR;
typedef CK_BYTE CK_BBOOL;
typedef unsigned long CK_ULONG;
typedef long CK_LONG;
typedef CK_ULONG CK_FLAGS;
typedef CK_BYTE *CK_BYTE_PTR;
typedef CK_UTF8CHAR *CK_UTF8CHAR_PTR;
typedef CK_ULONG *CK_ULONG_PTR;
typedef void *CK_VOID_PTR;
typedef CK_ULONG CK_SLOT_ID;
typedef CK_SLOT_ID *CK_SLOT_ID_PTR;
typedef CK_ULONG CK_SESSION_HANDLE;
typedef CK_SESSION_HANDLE *CK_SESSION_HANDLE_PTR;
typedef CK_ULONG CK_OBJECT_HANDLE;
typedef CK_OBJECT_HANDLE *CK_OBJECT_HANDLE_PTR;
typedef CK_ULONG CK_OBJECT_CLASS;
typedef CK_ULONG CK_KEY_TYPE;
typedef CK_ULONG CK_ATTRIBUTE_TYPE;
typedef CK_ULONG CK_MECHANISM_TYPE;
typedef CK_MECHANISM_TYPE *CK_MECHANISM_TYPE_PTR;
typedef CK_ULONG CK_RV;
typedef CK_ULONG CK_USER_TYPE;
typedef CK_ULONG CK_STATE;
typedef CK_ULONG CK_RSA_PKCS_MGF_TYPE;
typedef CK_ULONG CK_RSA_PKCS_OAEP_SOURCE_TYPE;

typedef struct CK_VERSION { CK_BYTE major; CK_BYTE minor; } CK_VERSION;
typedef struct CK_INFO {
    CK_VERSION cryptokiVersion; CK_UTF8CHAR manufacturerID[32]; CK_FLAGS flags;
    CK_UTF8CHAR libraryDescription[32]; CK_VERSION libraryVersion;
} CK_INFO;
typedef CK_INFO *CK_INFO_PTR;
typedef struct CK_SLOT_INFO {
    CK_UTF8CHAR slotDescription[64]; CK_UTF8CHAR manufacturerID[32]; CK_FLAGS flags;
    CK_VERSION hardwareVersion; CK_VERSION firmwareVersion;
} CK_SLOT_INFO;
typedef CK_SLOT_INFO *CK_SLOT_INFO_PTR;
typedef struct CK_TOKEN_INFO {
    CK_UTF8CHAR label[32]; CK_UTF8CHAR manufacturerID[32]; CK_UTF8CHAR model[16];
    CK_CHAR serialNumber[16]; CK_FLAGS flags;
    CK_ULONG ulMaxSessionCount; CK_ULONG ulSessionCount;
    CK_ULONG ulMaxRwSessionCount; CK_ULONG ulRwSessionCount;
    CK_ULONG ulMaxPinLen; CK_ULONG ulMinPinLen;
    CK_ULONG ulTotalPublicMemory; CK_ULONG ulFreePublicMemory;
    CK_ULONG ulTotalPrivateMemory; CK_ULONG ulFreePrivateMemory;
    CK_VERSION hardwareVersion; CK_VERSION firmwareVersion; CK_CHAR utcTime[16];
} CK_TOKEN_INFO;
typedef CK_TOKEN_INFO *CK_TOKEN_INFO_PTR;
typedef struct CK_SESSION_INFO {
    CK_SLOT_ID slotID; CK_STATE state; CK_FLAGS flags; CK_ULONG ulDeviceError;
} CK_SESSION_INFO;
typedef CK_SESSION_INFO *CK_SESSION_INFO_PTR;
typedef struct CK_ATTRIBUTE {
    CK_ATTRIBUTE_TYPE type; CK_VOID_PTR pValue; CK_ULONG ulValueLen;
} CK_ATTRIBUTE;
typedef CK_ATTRIBUTE *CK_ATTRIBUTE_PTR;
typedef struct CK_MECHANISM {
    CK_MECHANISM_TYPE mechanism; CK_VOID_PTR pParameter; CK_ULONG ulParameterLen;
} CK_MECHANISM;
typedef CK_MECHANISM *CK_MECHANISM_PTR;
typedef struct CK_MECHANISM_INFO {
    CK_ULONG ulMinKeySize; CK_ULONG ulMaxKeySize; CK_FLAGS flags;
} CK_MECHANISM_INFO;
typedef CK_MECHANISM_INFO *CK_MECHANISM_INFO_PTR;
typedef struct CK_RSA_PKCS_PSS_PARAMS {
    CK_MECHANISM_TYPE hashAlg; CK_RSA_PKCS_MGF_TYPE mgf; CK_ULONG sLen;
} CK_RSA_PKCS_PSS_PARAMS;
typedef struct CK_RSA_PKCS_OAEP_PARAMS {
    CK_MECHANISM_TYPE hashAlg; CK_RSA_PKCS_MGF_TYPE mgf; CK_RSA_PKCS_OAEP_SOURCE_TYPE source;
    CK_VOID_PTR pSourceData; CK_ULONG ulSourceDataLen;
} CK_RSA_PKCS_OAEP_PARAMS;
typedef struct CK_C_INITIALIZE_ARGS {
    CK_VOID_PTR CreateMutex; CK_VOID_PTR DestroyMutex; CK_VOID_PTR LockMutex;
    CK_VOID_PTR UnlockMutex; CK_FLAGS flags; CK_VOID_PTR pReserved;
} CK_C_INITIALIZE_ARGS;
"""


def _function_list_c() -> str:
    members = "\n".join(f"    CK_RV (*{name})({params});" for name, params, _ in FUNCTIONS)
    return ("struct CK_FUNCTION_LIST;\n"
            "typedef struct CK_FUNCTION_LIST *CK_FUNCTION_LIST_PTR;\n"
            "typedef CK_FUNCTION_LIST_PTR *CK_FUNCTION_LIST_PTR_PTR;\n"
            f"struct CK_FUNCTION_LIST {{\n    CK_VERSION version;\n{members}\n}};\n")


def _args(params: str) -> str:
    return ", ".join(p.split()[-1] for p in params.split(","))


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def c_source(python_home: str, libpython: str, paths: list[str]) -> str:
    """The C prelude: types, start-up, exported functions and the function list."""
    home, lib = _c_string(python_home), _c_string(libpython)
    search = ", ".join(_c_string(p) for p in paths)
    out = ["#include <dlfcn.h>", "#include <pthread.h>", "#include <stddef.h>",
           "#include <Python.h>", TYPES,
           _function_list_c(),
           "#define EXPORT __attribute__((visibility(\"default\")))",
           "static int pqp11_state;  /* 1 ready, -1 failed */",
           "static pthread_once_t pqp11_once = PTHREAD_ONCE_INIT;",
           f"static const char *pqp11_path[] = {{{search}, NULL}};",
           "int pqp11_alive(void);"]
    out += [f"CK_RV py_{name}({params});" for name, params, py in FUNCTIONS if py]
    out.append(f"""
static void pqp11_start(void)
{{
    if (!Py_IsInitialized()) {{
        PyConfig config;
        PyStatus status;
        /* The host loaded us (and so libpython) with RTLD_LOCAL: extension modules need
           libpython's symbols global. */
        if ({lib}[0] != '\\0')
            dlopen({lib}, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
        /* This environment's Python, and its sys.path at build time, whatever the host's
           environment says: no PYTHON* variables, no site module (the init code adds the
           site directories), no signal handlers. */
        PyConfig_InitPythonConfig(&config);
        config.install_signal_handlers = 0;
        config.parse_argv = 0;
        config.use_environment = 0;
        config.user_site_directory = 0;
        config.site_import = 0;
        config.module_search_paths_set = 1;
        status = PyConfig_SetBytesString(&config, &config.home, {home});
        for (int i = 0; pqp11_path[i] != NULL && !PyStatus_Exception(status); i++) {{
            wchar_t *w = Py_DecodeLocale(pqp11_path[i], NULL);
            if (w == NULL) {{
                status = PyStatus_NoMemory();
                break;
            }}
            status = PyWideStringList_Append(&config.module_search_paths, w);
            PyMem_RawFree(w);
        }}
        if (!PyStatus_Exception(status))
            status = Py_InitializeFromConfig(&config);
        PyConfig_Clear(&config);
        if (PyStatus_Exception(status)) {{
            pqp11_state = -1;
            return;
        }}
        PyEval_SaveThread();  /* cffi takes the GIL for each call */
    }}
    pqp11_state = pqp11_alive() == 0x5150 ? 1 : -1;
}}

static int pqp11_ready(void)
{{
    pthread_once(&pqp11_once, pqp11_start);
    return pqp11_state == 1;
}}
""")
    for name, params, py in FUNCTIONS:
        if name == "C_GetFunctionList":
            continue
        if py:
            body = (f"    if (!pqp11_ready()) return 0x5UL;  /* CKR_GENERAL_ERROR */\n"
                    f"    return py_{name}({_args(params)});")
        else:
            body = "\n".join(f"    (void){a};" for a in _args(params).split(", "))
            body += f"\n    return {STUB_RESULTS.get(name, '0x54UL')};"
        out.append(f"EXPORT CK_RV {name}({params})\n{{\n{body}\n}}\n")
    out.append("EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList);")
    entries = ",\n".join(f"    {name}" for name, _, _ in FUNCTIONS)
    out.append(f"static struct CK_FUNCTION_LIST pqp11_functions = {{\n    {{2, 40}},\n{entries}\n}};")
    out.append("""
EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    if (ppFunctionList == NULL) return 0x7UL;  /* CKR_ARGUMENTS_BAD */
    if (!pqp11_ready()) return 0x5UL;  /* CKR_GENERAL_ERROR */
    *ppFunctionList = &pqp11_functions;
    return 0x0UL;
}
""")
    return "\n".join(out)


def embedding_api() -> str:
    lines = ["int pqp11_alive(void);"]
    lines += [f"CK_RV py_{name}({params});" for name, params, py in FUNCTIONS if py]
    return "\n".join(lines)


def baked_path() -> list[str]:
    """This interpreter's sys.path (the embedded one searches exactly these directories, in
    this order, so this environment's packages win over any other installation)."""
    out: list[str] = []
    for p in sys.path:
        if p and os.path.exists(p) and os.path.abspath(p) not in out:
            out.append(os.path.abspath(p))
    return out


def init_code() -> str:
    """Run once, in the embedded interpreter: process the site directories' .pth files (an
    editable install, coverage's hook), then register the py_C_* functions."""
    sites = [p for p in site.getsitepackages() if os.path.isdir(p)]
    return f"""
import site
for _d in {sites!r}:
    site.addsitedir(_d)
from _pqparsec_pkcs11 import ffi
from pqparsec.p11module import glue
glue.bind(ffi)
"""


def build(output_dir: str | os.PathLike[str], verbose: bool = False) -> Path:
    """Compile the module into `output_dir`; returns the library's path."""
    cffi: Any = importlib.import_module("cffi")  # the pkcs11-module extra (no type stubs)

    out_dir = Path(output_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    ffi = cffi.FFI()
    ffi.cdef(TYPES)
    ffi.embedding_api(embedding_api())
    link: list[str] = ["-Wl,-z,nodelete"]  # Python cannot be unloaded: neither can the module
    if libdir:
        link.append(f"-Wl,-rpath,{libdir}")
    soname = sysconfig.get_config_var("INSTSONAME") or ""
    libpython = os.path.join(libdir, soname) if libdir and soname else ""
    paths = baked_path()
    ffi.set_source("_pqparsec_pkcs11", c_source(sys.base_prefix, libpython, paths),
                   extra_link_args=link, libraries=["pthread", "dl"])
    ffi.embedding_init_code(init_code())
    with tempfile.TemporaryDirectory(prefix="pqp11-build-") as tmp:
        built = Path(tmp) / ffi.compile(tmpdir=tmp, target=LIBRARY_NAME, verbose=verbose)
        target = out_dir / LIBRARY_NAME
        partial = out_dir / (LIBRARY_NAME + ".partial")
        shutil.copyfile(built, partial)
        os.chmod(partial, 0o755)
        os.replace(partial, target)  # a running host keeps the old file it mapped
    return target


def default_dir() -> Path:
    """Where `pqparsec pkcs11-module build` puts the library by default."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pqparsec" / f"pkcs11-module-py{sys.version_info[0]}{sys.version_info[1]}"


def c_header() -> str:
    """The module's PKCS#11 types and function list as a C header (for C test programs)."""
    return "#pragma once\n" + TYPES + _function_list_c()
