"""Raw-wire negative cases over a real socket (Parsec's e2e basic.rs and the Rust service's
processing order, as in docs/compatibility.md and Parsec's wire_protocol.md).

Header-level failures (steps 1-3: preamble, constant fields, limits, short reads, typed header
fields) are answered like Parsec's Response::from_status: provider 0, session 0, opcode Ping, empty
body. Later failures echo the request header (provider, session, opcode). The requests use a
non-zero session and, where it matters, an opcode other than Ping, so the two are told apart. After
every case the service must still answer.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import pytest
from pqptest.service import ServiceProcess
from pqptest.wire import (
    WIRE_HEADER_LEN,
    WIRE_MAGIC,
    RawReply,
    pack_wire_header,
    read_until_eof,
    send_raw,
    unpack_wire_header,
    wire_request,
)

from pqparsec.protocol import operations as ops
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.status import ResponseStatus as S

SESSION = 0x1122334455667788
TIMEOUT_MS = 700
LIMIT = 1 << 20  # the default body_len_limit
MANGLED = bytes([0x11, 0x22, 0x33, 0x44, 0x55])


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    s = ServiceProcess(str(tmp_path_factory.mktemp("neg")), auth_type="Direct", admins=["admin"],
                       listener={"timeout": TIMEOUT_MS})
    s.start()
    yield s
    assert s.proc is not None and s.proc.poll() is None, "service died during the module"
    s.stop()


def assert_still_serving(svc: ServiceProcess) -> None:
    assert svc.proc is not None and svc.proc.poll() is None, svc.log()[-2000:]
    r = send_raw(svc.socket_path, wire_request(Opcode.PING))
    assert r.status == 0 and r.body == b"\x08\x01"


def assert_clean_response(r: RawReply) -> dict[str, int]:
    h = r.header
    assert h is not None, f"no response, connection closed ({r})"
    assert (h["magic"], h["header_size"], h["version_maj"], h["version_min"]) == (WIRE_MAGIC, 30, 1, 0)
    # request-only and reserved fields are zero in responses; one response, then EOF
    assert h["auth_type"] == h["auth_len"] == h["flags"] == h["content_type"] == h["accept_type"] == 0
    assert h["reserved1"] == h["reserved2"] == 0
    assert len(r.body) == h["body_len"]
    return h


def assert_header_level(r: RawReply, status: int) -> None:
    h = assert_clean_response(r)
    assert h["status"] == status, f"status {h['status']}, expected {status}"
    assert (h["provider"], h["session"], h["opcode"]) == (0, 0, Opcode.PING), h
    assert h["body_len"] == 0 and r.body == b""


def assert_echoed(r: RawReply, status: int, opcode: int, provider: int,
                  session: int = SESSION) -> None:
    h = assert_clean_response(r)
    assert h["status"] == status, f"status {h['status']}, expected {status}"
    assert (h["provider"], h["session"], h["opcode"]) == (provider, session, opcode), h
    if status != 0:
        assert h["body_len"] == 0 and r.body == b""


def hdr(**over: int) -> bytes:
    fields = dict(opcode=Opcode.LIST_PROVIDERS, session=SESSION, auth_type=0)
    fields.update(over)
    return pack_wire_header(**fields)


VALID_REST = hdr()[6:]

HEADER_LEVEL: list[tuple[str, bytes, int]] = [
    ("bad_magic", hdr(magic=0xDEADBEEF), S.INVALID_HEADER),
    ("bad_magic_byte_swapped", hdr(magic=0x10A7C05E), S.INVALID_HEADER),
    ("header_size_0", struct.pack("<IH", WIRE_MAGIC, 0), S.INVALID_HEADER),
    ("header_size_29", struct.pack("<IH", WIRE_MAGIC, 29) + VALID_REST[:29], S.INVALID_HEADER),
    ("header_size_31", struct.pack("<IH", WIRE_MAGIC, 31) + VALID_REST + b"\0", S.INVALID_HEADER),
    ("version_2_0", hdr(version_maj=2), S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED),
    ("version_1_1", hdr(version_min=1), S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED),
    ("version_0_0", hdr(version_maj=0), S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED),
    ("reserved1", hdr(reserved1=56), S.INVALID_HEADER),
    ("reserved2", hdr(reserved2=56), S.INVALID_HEADER),
    ("body_len_over_limit", hdr(body_len=LIMIT + 1), S.BODY_SIZE_EXCEEDS_LIMIT),
    ("body_len_ffffffff", hdr(body_len=0xFFFFFFFF), S.BODY_SIZE_EXCEEDS_LIMIT),
    ("content_type_1", hdr(content_type=1), S.CONTENT_TYPE_NOT_SUPPORTED),
    ("content_type_ff", hdr(content_type=0xFF), S.CONTENT_TYPE_NOT_SUPPORTED),
    ("accept_type_ff", hdr(accept_type=0xFF), S.ACCEPT_TYPE_NOT_SUPPORTED),
    ("auth_type_ff", hdr(auth_type=0xFF), S.AUTHENTICATOR_DOES_NOT_EXIST),
    ("auth_type_5", hdr(auth_type=5), S.AUTHENTICATOR_DOES_NOT_EXIST),
    ("opcode_0", hdr(opcode=0), S.OPCODE_DOES_NOT_EXIST),
    ("opcode_1d_unassigned", hdr(opcode=0x1D), S.OPCODE_DOES_NOT_EXIST),
    ("opcode_ffff", hdr(opcode=0xFFFF), S.OPCODE_DOES_NOT_EXIST),
    ("opcode_10001", hdr(opcode=0x10001), S.OPCODE_DOES_NOT_EXIST),
    ("provider_6", hdr(provider=6), S.PROVIDER_DOES_NOT_EXIST),
    ("provider_ff", hdr(provider=0xFF), S.PROVIDER_DOES_NOT_EXIST),
    # precedence: the first failing step wins
    ("magic_before_size", struct.pack("<IH", 0x12345678, 29) + VALID_REST[:29], S.INVALID_HEADER),
    ("size_before_version", struct.pack("<IH", WIRE_MAGIC, 31) + hdr(version_maj=2)[6:] + b"\0",
     S.INVALID_HEADER),
    ("magic_before_version", hdr(magic=0x12345678, version_maj=2), S.INVALID_HEADER),
    ("version_before_reserved", hdr(version_maj=2, reserved1=1),
     S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED),
    ("version_before_body_limit", hdr(version_min=9, body_len=LIMIT + 1),
     S.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED),
    ("reserved_before_body_limit", hdr(reserved2=1, body_len=LIMIT + 1), S.INVALID_HEADER),
    ("body_limit_before_content_type", hdr(body_len=LIMIT + 1, content_type=0xFF),
     S.BODY_SIZE_EXCEEDS_LIMIT),
    ("body_limit_before_opcode", hdr(body_len=LIMIT + 1, opcode=0xFFFF), S.BODY_SIZE_EXCEEDS_LIMIT),
    ("content_before_accept", hdr(content_type=0xFF, accept_type=0xFF),
     S.CONTENT_TYPE_NOT_SUPPORTED),
    ("accept_before_auth_type", hdr(accept_type=0xFF, auth_type=0xFF), S.ACCEPT_TYPE_NOT_SUPPORTED),
    ("auth_type_before_opcode", hdr(auth_type=0xFF, opcode=0xFFFF), S.AUTHENTICATOR_DOES_NOT_EXIST),
    ("opcode_before_provider", hdr(opcode=0xFFFF, provider=0xFF), S.OPCODE_DOES_NOT_EXIST),
    ("provider_exists_before_auth_registered", hdr(provider=0xFF, auth_type=2),
     S.PROVIDER_DOES_NOT_EXIST),
    ("typed_fields_after_body_and_auth",
     hdr(content_type=1, body_len=3, auth_len=2) + b"abc" + b"xy", S.CONTENT_TYPE_NOT_SUPPORTED),
]


@pytest.mark.parametrize("data,status", [c[1:] for c in HEADER_LEVEL], ids=[c[0] for c in HEADER_LEVEL])
def test_header_level_failure(svc: ServiceProcess, data: bytes, status: int) -> None:
    r = send_raw(svc.socket_path, data)
    assert_header_level(r, status)
    assert_still_serving(svc)


def test_body_over_limit_answered_before_the_body_is_read(svc: ServiceProcess) -> None:
    """The body is never sent and the socket stays open: had the service waited for it, the answer
    would be ConnectionError after the listener timeout, not BodySizeExceedsLimit."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(TIMEOUT_MS / 1000 + 5)
        s.connect(svc.socket_path)
        s.sendall(hdr(opcode=Opcode.PING, body_len=LIMIT + 1) + b"partial body")
        r = RawReply(read_until_eof(s), 0.0)
    assert_header_level(r, S.BODY_SIZE_EXCEEDS_LIMIT)
    assert_still_serving(svc)


@pytest.mark.parametrize("over", [{"body_len": 0xFFFF}, {"auth_len": 0xFFFF},
                                  {"body_len": 10, "auth_len": 10}],
                         ids=["body_len", "auth_len", "both"])
def test_promised_bytes_never_come(svc: ServiceProcess, over: dict[str, int]) -> None:
    """e2e invalid_body_len / invalid_auth_len: ConnectionError after the listener timeout."""
    r = send_raw(svc.socket_path, hdr(opcode=Opcode.PING, **over), timeout=TIMEOUT_MS / 1000 + 5)
    assert_header_level(r, S.CONNECTION_ERROR)
    assert TIMEOUT_MS / 1000 * 0.7 <= r.elapsed <= TIMEOUT_MS / 1000 + 3, r.elapsed
    assert_still_serving(svc)


def test_partial_body_then_silence(svc: ServiceProcess) -> None:
    r = send_raw(svc.socket_path, hdr(opcode=Opcode.PING, body_len=100) + b"x" * 50,
                 timeout=TIMEOUT_MS / 1000 + 5)
    assert_header_level(r, S.CONNECTION_ERROR)
    assert_still_serving(svc)


# -- failures after the header was accepted: the response echoes the request header ------------

def req(opcode: int, body: bytes = b"", auth: bytes = b"", auth_type: int = 0,
        provider: int = 0) -> bytes:
    return wire_request(opcode, body, auth, auth_type=auth_type, provider=provider, session=SESSION)


ATTEST = ops.encode_request(Opcode.ATTEST_KEY, ops.AttestKeyRequest(
    "k", ops.AttestationMechanismParams(ops.ActivateCredentialParams(b"b", b"s"))))
GEN_NO_ATTRS = ops.encode_request(Opcode.PSA_DESTROY_KEY, ops.KeyNameRequest("k"))  # no attributes

ECHOED: list[tuple[str, bytes, int, int, int]] = [
    # (name, request, status, echoed opcode, echoed provider)
    ("auth_jwt_not_registered", req(Opcode.PING, auth_type=2), S.AUTHENTICATOR_NOT_REGISTERED, 1, 0),
    ("auth_peer_creds_not_registered", req(Opcode.PING, auth_type=3, auth=b"\0\0\0\0"),
     S.AUTHENTICATOR_NOT_REGISTERED, 1, 0),
    ("auth_jwt_svid_not_registered", req(Opcode.LIST_KEYS, auth_type=4, auth=b"x"),
     S.AUTHENTICATOR_NOT_REGISTERED, Opcode.LIST_KEYS, 0),
    ("direct_empty_name", req(Opcode.LIST_KEYS, auth_type=1), S.AUTHENTICATION_ERROR,
     Opcode.LIST_KEYS, 0),
    ("direct_non_utf8_name", req(Opcode.LIST_KEYS, auth_type=1, auth=b"\xff\xfe\xfd"),
     S.AUTHENTICATION_ERROR, Opcode.LIST_KEYS, 0),
    ("provider_not_registered", req(Opcode.PING, provider=2), S.PROVIDER_NOT_REGISTERED, 1, 2),
    ("provider_not_registered_5", req(Opcode.PSA_GENERATE_RANDOM, provider=5),
     S.PROVIDER_NOT_REGISTERED, Opcode.PSA_GENERATE_RANDOM, 5),
    ("core_opcode_on_crypto_provider", req(Opcode.LIST_PROVIDERS, provider=1),
     S.PSA_ERROR_NOT_SUPPORTED, Opcode.LIST_PROVIDERS, 1),
    ("list_keys_on_crypto_provider", req(Opcode.LIST_KEYS, auth_type=1, auth=b"a", provider=1),
     S.PSA_ERROR_NOT_SUPPORTED, Opcode.LIST_KEYS, 1),
    ("crypto_opcode_on_core", req(Opcode.PSA_GENERATE_RANDOM, b"\x08\x08", provider=0),
     S.PSA_ERROR_NOT_SUPPORTED, Opcode.PSA_GENERATE_RANDOM, 0),
    ("mangled_list_providers", req(Opcode.LIST_PROVIDERS, MANGLED), S.DESERIALIZING_BODY_FAILED,
     Opcode.LIST_PROVIDERS, 0),
    ("mangled_ping_direct", req(Opcode.PING, MANGLED, auth_type=1, auth=b"root"),
     S.DESERIALIZING_BODY_FAILED, 1, 0),
    ("list_opcodes_provider_6", req(Opcode.LIST_OPCODES, b"\x08\x06"), S.PROVIDER_DOES_NOT_EXIST,
     Opcode.LIST_OPCODES, 0),
    ("list_opcodes_provider_unregistered", req(Opcode.LIST_OPCODES, b"\x08\x03"),
     S.PROVIDER_NOT_REGISTERED, Opcode.LIST_OPCODES, 0),
    ("noauth_list_keys", req(Opcode.LIST_KEYS), S.NOT_AUTHENTICATED, Opcode.LIST_KEYS, 0),
    ("noauth_destroy_key", req(Opcode.PSA_DESTROY_KEY, GEN_NO_ATTRS, provider=1),
     S.NOT_AUTHENTICATED, Opcode.PSA_DESTROY_KEY, 1),
    ("generate_key_without_attributes", req(Opcode.PSA_GENERATE_KEY, GEN_NO_ATTRS, auth_type=1,
                                            auth=b"a", provider=1),
     S.INVALID_ENCODING, Opcode.PSA_GENERATE_KEY, 1),
    ("unimplemented_opcode", req(Opcode.ATTEST_KEY, ATTEST, auth_type=1, auth=b"a", provider=1),
     S.PSA_ERROR_NOT_SUPPORTED, Opcode.ATTEST_KEY, 1),
    # precedence among the later steps
    ("authn_before_provider_registration", req(Opcode.PING, auth_type=2, provider=3),
     S.AUTHENTICATOR_NOT_REGISTERED, 1, 3),
    ("authn_error_before_provider_registration", req(Opcode.PING, auth_type=1, provider=3),
     S.AUTHENTICATION_ERROR, 1, 3),
    ("registration_before_admin", req(Opcode.LIST_CLIENTS, auth_type=1, auth=b"bob", provider=2),
     S.PROVIDER_NOT_REGISTERED, Opcode.LIST_CLIENTS, 2),
    ("routing_before_admin", req(Opcode.LIST_CLIENTS, auth_type=1, auth=b"bob", provider=1),
     S.PSA_ERROR_NOT_SUPPORTED, Opcode.LIST_CLIENTS, 1),
    ("admin_before_body", req(Opcode.LIST_CLIENTS, MANGLED, auth_type=1, auth=b"bob"),
     S.ADMIN_OPERATION, Opcode.LIST_CLIENTS, 0),
    ("admin_noauth_before_body", req(Opcode.DELETE_CLIENT, MANGLED), S.NOT_AUTHENTICATED,
     Opcode.DELETE_CLIENT, 0),
    ("body_before_identity", req(Opcode.LIST_KEYS, MANGLED), S.DESERIALIZING_BODY_FAILED,
     Opcode.LIST_KEYS, 0),
    ("encoding_before_identity", req(Opcode.PSA_GENERATE_KEY, GEN_NO_ATTRS, provider=1),
     S.INVALID_ENCODING, Opcode.PSA_GENERATE_KEY, 1),
    ("identity_before_provider_support", req(Opcode.ATTEST_KEY, ATTEST, provider=1),
     S.NOT_AUTHENTICATED, Opcode.ATTEST_KEY, 1),
]


@pytest.mark.parametrize("data,status,opcode,provider", [c[1:] for c in ECHOED],
                         ids=[c[0] for c in ECHOED])
def test_later_failure_echoes_header(svc: ServiceProcess, data: bytes, status: int, opcode: int,
                                     provider: int) -> None:
    r = send_raw(svc.socket_path, data)
    assert_echoed(r, status, opcode, provider)
    assert_still_serving(svc)


# -- what the service ignores or echoes -----------------------------------------------------------

@pytest.mark.parametrize("field,value", [("flags", 56), ("flags", 0xFFFF), ("status", 0xFFFF),
                                         ("status", 1140)])
def test_flags_and_status_ignored(svc: ServiceProcess, field: str, value: int) -> None:
    r = send_raw(svc.socket_path, wire_request(Opcode.PING, session=SESSION, **{field: value}))
    assert_echoed(r, 0, Opcode.PING, 0)
    assert r.body == b"\x08\x01"
    assert r.header is not None and r.header["flags"] == 0 and r.header["status"] == 0


def test_noauth_auth_bytes_ignored(svc: ServiceProcess) -> None:
    r = send_raw(svc.socket_path, req(Opcode.PING, auth=b"whatever"))
    assert_echoed(r, 0, Opcode.PING, 0)
    assert r.body == b"\x08\x01"


def test_session_echoed_on_success(svc: ServiceProcess) -> None:
    for session in (1, SESSION, 2**64 - 1):
        r = send_raw(svc.socket_path, wire_request(Opcode.LIST_AUTHENTICATORS, session=session))
        assert_echoed(r, 0, Opcode.LIST_AUTHENTICATORS, 0, session=session)
        res = ops.decode_result(Opcode.LIST_AUTHENTICATORS, r.body)
        assert [a.id for a in res.authenticators] == [1]


def test_one_request_per_connection(svc: ServiceProcess) -> None:
    """Two requests in one write: exactly one response, then the service closes."""
    ping = wire_request(Opcode.PING)
    r = send_raw(svc.socket_path, ping + wire_request(Opcode.LIST_PROVIDERS))
    assert len(r.data) == WIRE_HEADER_LEN + 2
    assert unpack_wire_header(r.data)["opcode"] == Opcode.PING and r.body == b"\x08\x01"


def test_connect_and_close_without_sending(svc: ServiceProcess) -> None:
    for _ in range(5):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(svc.socket_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(svc.socket_path)
        s.shutdown(socket.SHUT_WR)  # EOF before the header: nothing to answer, or ConnectionError
        data = read_until_eof(s)
    assert data == b"" or unpack_wire_header(data)["status"] == S.CONNECTION_ERROR
    assert_still_serving(svc)


def test_service_survived_everything(svc: ServiceProcess) -> None:
    assert_still_serving(svc)
    client = svc.client("survivor")
    assert client.ping() == (1, 0)
    assert "Traceback" not in svc.log()
