"""The request handler in-process: the service's own ServiceState (software provider, a
temporary SQLite key store, the Direct authenticator) behind its Dispatcher, fed raw requests the
way the listener feeds it: read off a socket with `read_request` (a socketpair here), the header's
typed fields checked, then dispatched, or answered with a header-level error response.

`check_response` is the oracle: every answer is a well-formed Parsec response whose status is a
known ResponseStatus, whose body length is what its header says, that echoes the request's
provider, session and opcode, and whose success body decodes; and no request made the service
log an internal error (the dispatcher turns an unhandled exception into PsaErrorGenericError and
a logged traceback, which is what a fuzzer must find).
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path

from pqparsec.client import BasicClient
from pqparsec.client.transport import Transport
from pqparsec.protocol.framing import read_request
from pqparsec.protocol.header import (
    HEADER_LEN,
    RawHeader,
    RequestHeader,
    error_response,
    request_header,
    unpack_response,
)
from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import decode_result
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service import config
from pqparsec.service.app import KeyStores, build_state
from pqparsec.service.authenticators import PeerCredentials
from pqparsec.service.dispatcher import Dispatcher, ServiceState

ADMIN = "admin"
# Statuses of a request refused before its header could be trusted (the listener's answers).
HEADER_STATUSES = frozenset({
    ResponseStatus.INVALID_HEADER, ResponseStatus.WIRE_PROTOCOL_VERSION_NOT_SUPPORTED,
    ResponseStatus.BODY_SIZE_EXCEEDS_LIMIT, ResponseStatus.CONNECTION_ERROR,
    ResponseStatus.CONTENT_TYPE_NOT_SUPPORTED, ResponseStatus.ACCEPT_TYPE_NOT_SUPPORTED,
    ResponseStatus.AUTHENTICATOR_DOES_NOT_EXIST, ResponseStatus.OPCODE_DOES_NOT_EXIST,
    ResponseStatus.PROVIDER_DOES_NOT_EXIST,
})


class ErrorLog(logging.Handler):
    """Collects what the service logs at ERROR or above (an internal error's traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        out = [self.format(r) for r in self.records]
        self.records.clear()
        return out


@dataclass
class Handled:
    response: bytes
    header: RequestHeader | None  # None: refused before dispatch


class InProcessService:
    def __init__(self, tmp: Path, body_len_limit: int = 1 << 20) -> None:
        data = {
            "core_settings": {"allow_root": True, "log_level": "error", "allow_deprecated": True,
                              "body_len_limit": body_len_limit},
            "listener": {"timeout": 1000, "socket_path": str(tmp / "unused.sock")},
            "authenticator": {"auth_type": "Direct", "admins": [{"name": ADMIN}]},
            "key_manager": [{"name": "sqlite-manager", "manager_type": "SQLite",
                             "sqlite_db_path": str(tmp / "kim.sqlite3")}],
            "provider": [{"provider_type": "MbedCrypto"}],
        }
        self.config = config.parse(data, "<fuzz>", str(tmp))
        self.stores = KeyStores()
        self.state: ServiceState = build_state(self.config, self.stores)
        self.dispatcher = Dispatcher(lambda: self.state, 2)
        self.errors = ErrorLog()
        logging.getLogger("pqparsec").addHandler(self.errors)

    def close(self) -> None:
        logging.getLogger("pqparsec").removeHandler(self.errors)
        self.state.close()
        self.stores.close()

    def handle(self, raw: bytes) -> Handled:
        """What the listener answers to a connection that sends `raw` and then shuts down its
        sending side."""
        a, b = socket.socketpair()
        with a, b:
            a.sendall(raw)
            a.shutdown(socket.SHUT_WR)
            try:
                request = read_request(b, self.config.core.body_len_limit, 5.0)
                header = request.header.check_fields()
            except ParsecError as exc:
                return Handled(error_response(exc.status), None)
        peer = PeerCredentials(os.getpid(), os.getuid(), os.getgid()) \
            if header.auth_type == AuthType.UNIX_PEER_CREDENTIALS else None
        return Handled(self.dispatcher.dispatch(header, request.body, request.auth, peer), header)

    def check_no_internal_error(self, raw: bytes) -> None:
        errors = self.errors.take()
        assert not errors, f"request {raw.hex()} made the service log:\n" + "\n".join(errors)

    def client(self, app_name: str, record: list[bytes] | None = None) -> BasicClient:
        """A BasicClient whose requests go to this service (recorded into `record`)."""
        c = BasicClient(app_name, "unix:/in-process/parsec.sock", provider=ProviderId.MBED_CRYPTO,
                        auth_type=AuthType.DIRECT)
        c.transport = InProcessTransport(self, record)
        return c


@dataclass
class FuzzEnv:
    """The fuzz targets' service, and the seed corpus recorded against it."""

    service: InProcessService
    client_seeds: list[bytes]
    vector_seeds: list[bytes]

    @property
    def seeds(self) -> list[bytes]:
        return self.vector_seeds + self.client_seeds


class InProcessTransport(Transport):
    """The client library's transport, with the socket round trip replaced by
    InProcessService.handle (the request bytes are built as Transport.exchange builds them)."""

    def __init__(self, service: InProcessService, record: list[bytes] | None) -> None:
        super().__init__("unix:/in-process/parsec.sock", None)
        self.service = service
        self.record = record

    def exchange(self, opcode: int, provider: int, body: bytes, auth_type: int, auth: bytes,
                 session: int = 0) -> tuple[RawHeader, bytes]:
        raw = request_header(opcode, provider, len(body), auth_type, len(auth), session) + body + auth
        if self.record is not None:
            self.record.append(raw)
        handled = self.service.handle(raw)
        check_response(handled)
        self.service.check_no_internal_error(raw)
        return unpack_response(handled.response), handled.response[HEADER_LEN:]


def check_response(handled: Handled) -> RawHeader:
    """Assert that `handled` is a well-formed Parsec response to its request."""
    response, header = handled.response, handled.header
    hdr = unpack_response(response)  # magic, header size, version 1.0, reserved bytes zero
    status = ResponseStatus(hdr.status)  # ValueError on an unknown status
    assert len(response) == HEADER_LEN + hdr.body_len, (len(response), hdr)
    assert hdr.auth_len == 0 and hdr.content_type == 0 and hdr.accept_type == 0, hdr
    body = response[HEADER_LEN:]
    if header is None:
        assert status in HEADER_STATUSES, status
        assert (hdr.provider, hdr.session, hdr.opcode, body) == (0, 0, Opcode.PING, b""), hdr
        return hdr
    assert (hdr.provider, hdr.session, hdr.opcode) == \
        (header.provider, header.session, header.opcode), (hdr, header)
    if status == ResponseStatus.SUCCESS:
        decode_result(header.opcode, body)  # what the service answers, its clients can decode
    else:
        assert body == b"", (status, body)
    return hdr
