"""The PKCS#11 module driven by a C program (tests/p11module/p11caller.c), a host that is not
Python: return values of calls made to fail, a service that is down, several threads signing
at once, and two uids that see only their own keys."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from p11helpers import run
from pqptest.service import ServiceProcess

from pqparsec.client import BasicClient
from pqparsec.p11module import constants as c
from pqparsec.p11module.mapping import STATUS_TO_CKR
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

SIGN_USAGE = UsageFlags(sign_hash=True, verify_hash=True, sign_message=True, verify_message=True)
ECDSA_ANY_HASH = SignAlg(SignKind.ECDSA, ANY_HASH)


def ec_attrs(alg: SignAlg = ECDSA_ANY_HASH) -> KeyAttributes:
    return KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256, KeyPolicy(SIGN_USAGE, alg))


def caller(exe: Path, lib: Path, env: dict[str, str], *args: str,
           uid: int | None = None) -> dict[str, str]:
    if uid is not None:
        env = {**env, "P11_UID": str(uid)}
    res = run([str(exe), str(lib), *args], env, check=False)
    out = res.stdout.decode()
    assert res.returncode in (0, 1), f"the C host died ({res.returncode}):\n{out}\n" \
                                     f"{res.stderr.decode(errors='replace')}"
    assert out.startswith("version 2.40\n"), out
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def test_every_status_has_a_ckr_value() -> None:
    assert set(STATUS_TO_CKR) == set(ResponseStatus)
    assert STATUS_TO_CKR[ResponseStatus.PSA_ERROR_NOT_PERMITTED] == c.CKR_KEY_FUNCTION_NOT_PERMITTED
    assert STATUS_TO_CKR[ResponseStatus.PSA_ERROR_INVALID_SIGNATURE] == c.CKR_SIGNATURE_INVALID
    assert STATUS_TO_CKR[ResponseStatus.PSA_ERROR_DOES_NOT_EXIST] == c.CKR_KEY_HANDLE_INVALID


def test_return_values(p11lib: Path, p11caller: Path, p11env: dict[str, str],
                       p11client: BasicClient) -> None:
    p11client.generate_key("p11-errors", ec_attrs())
    try:
        rv = caller(p11caller, p11lib, p11env, "errors", "p11-errors")
    finally:
        p11client.destroy_key("p11-errors")
    expected = {
        "before_init": c.CKR_CRYPTOKI_NOT_INITIALIZED, "init": c.CKR_OK,
        "init_again": c.CKR_CRYPTOKI_ALREADY_INITIALIZED,
        "slot_list_null_count": c.CKR_ARGUMENTS_BAD, "first_slot": c.CKR_OK,
        "open_bad_slot": c.CKR_SLOT_ID_INVALID,
        "open_not_serial": c.CKR_SESSION_PARALLEL_NOT_SUPPORTED,
        "session_info_bad": c.CKR_SESSION_HANDLE_INVALID, "open": c.CKR_OK,
        "attr_bad_object": c.CKR_OBJECT_HANDLE_INVALID,
        "attr_sensitive": c.CKR_ATTRIBUTE_SENSITIVE, "attr_unknown": c.CKR_ATTRIBUTE_TYPE_INVALID,
        "attr_small": c.CKR_BUFFER_TOO_SMALL, "attr_class": c.CKR_OK,
        "sign_not_initialized": c.CKR_OPERATION_NOT_INITIALIZED,
        "sign_init_bad_key": c.CKR_KEY_HANDLE_INVALID,
        "sign_init_bad_mech": c.CKR_MECHANISM_INVALID,
        "sign_init_public_key": c.CKR_KEY_TYPE_INCONSISTENT, "sign_init": c.CKR_OK,
        "sign_init_active": c.CKR_OPERATION_ACTIVE, "sign_length": c.CKR_OK,
        "sign_small": c.CKR_BUFFER_TOO_SMALL, "sign": c.CKR_OK,
        "sign_after_end": c.CKR_OPERATION_NOT_INITIALIZED, "verify_init": c.CKR_OK,
        "verify": c.CKR_OK, "verify_bad": c.CKR_SIGNATURE_INVALID,
        "verify_short": c.CKR_SIGNATURE_LEN_RANGE, "sign_final": c.CKR_OK,
        "verify_one_part_of_multi": c.CKR_OK, "destroy_ro": c.CKR_SESSION_READ_ONLY,
        "login": c.CKR_OK, "login_again": c.CKR_USER_ALREADY_LOGGED_IN, "logout": c.CKR_OK,
        "logout_again": c.CKR_USER_NOT_LOGGED_IN, "seed": c.CKR_RANDOM_SEED_NOT_SUPPORTED,
        "random": c.CKR_OK, "digest_init": c.CKR_FUNCTION_NOT_SUPPORTED, "open_rw": c.CKR_OK,
        "close": c.CKR_OK, "close_again": c.CKR_SESSION_HANDLE_INVALID,
        "find_closed": c.CKR_SESSION_HANDLE_INVALID,
        "find_objects_not_init": c.CKR_OPERATION_NOT_INITIALIZED, "finalize": c.CKR_OK,
        "finalize_again": c.CKR_CRYPTOKI_NOT_INITIALIZED,
        "slot_list_after_finalize": c.CKR_CRYPTOKI_NOT_INITIALIZED,
    }
    assert {k: int(rv[k], 16) for k in expected} == expected
    assert rv["found"] == "1" and rv["class"] == str(c.CKO_PRIVATE_KEY)
    assert int(rv["attr_sensitive_len"], 16) == c.CK_UNAVAILABLE_INFORMATION
    assert rv["sign_length_value"] == "64"  # P-256: r || s


def test_service_down_is_device_removed(p11lib: Path, p11caller: Path, p11env: dict[str, str],
                                        tmp_path: Path) -> None:
    env = {**p11env, "PARSEC_SERVICE_ENDPOINT": f"unix:{tmp_path}/no-service.sock"}
    rv = caller(p11caller, p11lib, env, "down")
    assert int(rv["slot_list"], 16) == c.CKR_DEVICE_REMOVED
    assert int(rv["finalize"], 16) == c.CKR_OK


def test_service_stopped_under_a_session(p11lib: Path, p11caller: Path,
                                         p11env: dict[str, str], tmp_path: Path) -> None:
    """The service goes away while a host has the module loaded: CKR_DEVICE_REMOVED, no crash
    (the host is killed by nothing and exits normally)."""
    svc = ServiceProcess(str(tmp_path / "svc"), auth_type="UnixPeerCredentials")
    os.makedirs(svc.tmp, exist_ok=True)
    svc.start()
    try:
        svc.client().generate_key("p11-going", ec_attrs())
        env = {**p11env, "PARSEC_SERVICE_ENDPOINT": svc.endpoint}
        assert caller(p11caller, p11lib, env, "sign", "p11-going", "1", "2")["signatures"] \
            .startswith("2 failures 0")
    finally:
        svc.stop()
    rv = caller(p11caller, p11lib, env, "sign", "p11-going", "1", "2")
    assert int(rv["C_GetSlotList"], 16) == c.CKR_DEVICE_REMOVED


def test_threads_sign_at_once(p11lib: Path, p11caller: Path, p11env: dict[str, str],
                              p11client: BasicClient) -> None:
    """8 threads of one C process, each with its own session, sign and verify through the
    module at the same time; a signature is checked here with the exported public key."""
    p11client.generate_key("p11-threads", ec_attrs(SignAlg(SignKind.ECDSA, ANY_HASH)))
    try:
        rv = caller(p11caller, p11lib, p11env, "sign", "p11-threads", "8", "10")
        pub = p11client.public_key("p11-threads")
    finally:
        p11client.destroy_key("p11-threads")
    assert rv["signatures"].startswith("80 failures 0 "), rv["signatures"]
    msg_hex, sig_hex = rv["sample"].split()
    sig = bytes.fromhex(sig_hex)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    pub.verify(der, bytes.fromhex(msg_hex), ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        pub.verify(der, bytes.fromhex(msg_hex) + b"x", ec.ECDSA(hashes.SHA256()))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the C host as two other uids")
def test_two_uids_see_only_their_own_keys(p11lib: Path, p11caller: Path,
                                          p11env: dict[str, str], p11svc: ServiceProcess) -> None:
    """The C host drops to uid A or B before C_Initialize: each sees and uses its own keys."""
    uid_a, uid_b = 43101, 43102
    made = []
    for uid, name in ((uid_a, "key-of-a"), (uid_b, "key-of-b")):
        # the key is made through the Python client as that uid: fork, setuid, generate
        pid = os.fork()
        if pid == 0:  # child
            code = 1
            try:
                os.setgid(uid)
                os.setuid(uid)
                p11svc.client().generate_key(name, ec_attrs())
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        made.append(name)
    listed_a = subprocess.run([str(p11caller), str(p11lib), "list"], env={**p11env,
                              "P11_UID": str(uid_a)}, capture_output=True, text=True, timeout=60)
    listed_b = subprocess.run([str(p11caller), str(p11lib), "list"], env={**p11env,
                              "P11_UID": str(uid_b)}, capture_output=True, text=True, timeout=60)
    assert listed_a.stdout.splitlines()[1:] == ["3 key-of-a", "2 key-of-a"], listed_a.stdout
    assert listed_b.stdout.splitlines()[1:] == ["3 key-of-b", "2 key-of-b"], listed_b.stdout
    a_signs_b = caller(p11caller, p11lib, p11env, "sign", "key-of-b", "1", "1", uid=uid_a)
    assert a_signs_b["signatures"].startswith("0 failures 1"), a_signs_b
    b_signs_b = caller(p11caller, p11lib, p11env, "sign", "key-of-b", "1", "1", uid=uid_b)
    assert b_signs_b["signatures"].startswith("1 failures 0"), b_signs_b
    # root (this process) sees neither
    names = {k.name for k in p11svc.client().list_keys()}
    assert not names & {"key-of-a", "key-of-b"}
