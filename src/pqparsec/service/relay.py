"""One process owns the TPM; the service's other workers relay TPM requests to it.

A TPM without a resource manager (swtpm's socket, /dev/tpm0) takes one client at a time, and its
few object slots belong to one ESAPI context, so with several workers exactly one of them (the
first, "the TPM owner") builds the TPM provider. Every other worker has a `RelayProvider` in its
place. A request routed to it has already been authenticated by the worker that read it; that
worker forwards it to the owner over a private Unix socket, with the identity it established, and
hands the owner's response to its client unchanged. The owner serves the private socket with a
second listener whose dispatcher takes the identity from the forwarded request
(`dispatcher.RelayedDispatcher`) instead of authenticating again: only the service's own processes can reach
that socket (its directory is 0700 and owned by the service's user, and the owner checks the peer
uid).

The forwarded request is an ordinary Parsec request whose authentication field carries the
application name the first worker authenticated (empty for an unauthenticated request), under the
original authenticator type.
"""

from __future__ import annotations

import logging
import socket
import time

from pqparsec.protocol.header import HEADER_LEN, RequestHeader, request_header, unpack_response
from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import (
    KeyNameRequest,
    ListOpcodesRequest,
    ListProvidersRequest,
    ProviderInfo,
    decode_result,
    encode_request,
)
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.identity import Identity
from pqparsec.service.key_store import KeyRecord, KeyStore
from pqparsec.service.providers.base import Provider

log = logging.getLogger(__name__)

RELAY_SOCKET = "tpm-owner.sock"
# How long a relaying worker keeps trying to reach the owner (e.g. while the supervisor restarts
# it) before the request fails.
CONNECT_PATIENCE_S = 5.0
# A TPM operation may take long (RSA key generation on a slow TPM): the relay waits this long.
RESPONSE_TIMEOUT_S = 300.0


class RelayProvider(Provider):
    """Stands for a provider that lives in the owner process (the TPM provider)."""

    supports_pcr_binding = True  # the owner decides

    def __init__(self, provider_id: ProviderId, name: str | None, store: KeyStore,
                 socket_path: str) -> None:
        self.provider_id = provider_id
        super().__init__(name)
        self.store = store
        self.socket_path = socket_path
        self._info: ProviderInfo | None = None

    # -- forwarding -----------------------------------------------------------------------------

    def forward(self, header: RequestHeader, body: bytes, app: Identity | None) -> bytes:
        """The owner's whole response to this request, made by `app` (None: unauthenticated)."""
        name = app.name.encode() if app is not None else b""
        auth_type = app.auth_type if app is not None else AuthType.NO_AUTH
        request = request_header(header.opcode, header.provider, len(body), auth_type, len(name),
                                 header.session) + body + name
        return self._exchange(request)

    def _exchange(self, request: bytes) -> bytes:
        deadline = time.monotonic() + CONNECT_PATIENCE_S
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(RESPONSE_TIMEOUT_S)
                sock.connect(self.socket_path)
                break
            except (FileNotFoundError, ConnectionRefusedError) as exc:
                sock.close()
                if time.monotonic() >= deadline:
                    raise ParsecError(ResponseStatus.PSA_ERROR_COMMUNICATION_FAILURE,
                                      f"{self.name}: the worker owning it cannot be reached: "
                                      f"{exc}") from None
                time.sleep(0.05)
            except BaseException:
                sock.close()
                raise
        with sock:
            try:
                sock.sendall(request)
                chunks = []
                while True:
                    chunk = sock.recv(1 << 16)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except OSError as exc:
                raise ParsecError(ResponseStatus.PSA_ERROR_COMMUNICATION_FAILURE,
                                  f"{self.name}: relay to the owning worker failed: {exc}") from None
        response = b"".join(chunks)
        if len(response) < HEADER_LEN:
            raise ParsecError(ResponseStatus.PSA_ERROR_COMMUNICATION_FAILURE,
                              f"{self.name}: the owning worker closed without an answer")
        return response

    def _call_core(self, opcode: Opcode, request: object, app: Identity | None = None,
                   provider: ProviderId = ProviderId.CORE) -> object:
        """An operation run by the owner, decoded (for the core provider's questions)."""
        body = encode_request(opcode, request)
        header = RequestHeader(provider=provider, session=0,
                               auth_type=app.auth_type if app else AuthType.NO_AUTH,
                               opcode=opcode, body_len=len(body), auth_len=0)
        response = self.forward(header, body, app)
        raw = unpack_response(response)
        if raw.status != ResponseStatus.SUCCESS:
            status = ResponseStatus(raw.status)
            raise ParsecError(status, f"{self.name}: {opcode.name} answered {status.parsec_name}")
        return decode_result(opcode, response[HEADER_LEN:HEADER_LEN + raw.body_len])

    # -- what the core provider asks of every provider -------------------------------------------

    def info(self) -> ProviderInfo:
        if self._info is None:
            result = self._call_core(Opcode.LIST_PROVIDERS, ListProvidersRequest())
            for p in getattr(result, "providers", []):
                if p.id == int(self.provider_id):
                    self._info = p
                    break
            else:
                raise ParsecError(ResponseStatus.PSA_ERROR_COMMUNICATION_FAILURE,
                                  f"the owning worker does not run {self.name}")
        return self._info

    def listed_opcodes(self, include_extensions: bool = False) -> list[int]:
        result = self._call_core(Opcode.LIST_OPCODES,
                                 ListOpcodesRequest(int(self.provider_id), include_extensions))
        return list(getattr(result, "opcodes", []))

    def key_records(self, owner: Identity) -> list[KeyRecord]:
        return self.store.keys_of(owner, self.name)

    def key_names(self, owner: Identity) -> list[str]:
        return self.store.key_names(owner, self.name)

    def destroy_owned(self, owner: Identity, key_name: str) -> None:
        self._call_core(Opcode.PSA_DESTROY_KEY, KeyNameRequest(key_name), owner,
                        provider=self.provider_id)
