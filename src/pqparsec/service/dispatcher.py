"""From a checked request header, body and auth to a response, in the Rust service's order:
authentication, provider routing, admin check, body decoding, identity check, the operation
(which the provider must declare, and which `contract.call` runs)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from pqparsec.protocol.header import RequestHeader
from pqparsec.protocol.ids import DEFAULT_PROVIDER_NAMES, AuthType, ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.operations import decode_request, encode_result
from pqparsec.protocol.status import ParsecError, ResponseStatus
from pqparsec.service.authenticators import Authenticator, PeerCredentials
from pqparsec.service.identity import Identity
from pqparsec.service.providers import contract
from pqparsec.service.providers.base import Provider
from pqparsec.service.relay import RelayProvider

log = logging.getLogger("pqparsec.requests")

# Bytes of protobuf framing (tags, lengths) a result may add to an output of buffer_size_limit.
RESULT_FRAMING_ALLOWANCE = 64


@dataclass
class ServiceState:
    """Everything a request needs; replaced whole on reload, so a request sees one config."""

    authenticator: Authenticator
    providers: dict[ProviderId, Provider]
    buffer_size_limit: int
    log_error_details: bool = False

    def close(self) -> None:
        for p in self.providers.values():
            try:
                p.close()
            except Exception:
                log.exception("provider %s did not close cleanly", p.name)


class Dispatcher:
    """Runs in the listener's connection threads, one request per call.

    An operation runs in the thread that read its request, after taking one of `max_operations`
    slots (core_settings.thread_pool_size), which bound how many operations that may block or
    take time run at once. Cheap ones (Provider.runs_inline) need no slot, so they are never
    queued behind slow ones. A provider with its own executor (a TPM) gets the operation
    submitted there, and the connection thread waits for it without holding a slot.
    """

    def __init__(self, state: Callable[[], ServiceState], max_operations: int) -> None:
        self._state = state
        self._slots = threading.BoundedSemaphore(max_operations)

    def dispatch(self, header: RequestHeader, body: bytes, auth: bytes,
                 peer: PeerCredentials | None,
                 waiting: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
                 ) -> bytes:
        """The response to a request. An operation that may block or take time runs inside
        waiting() (the listener then knows that this thread may be away for long)."""
        state = self._state()
        t0 = time.perf_counter()
        app: Identity | None = None
        # Until routing finds the provider: its default name (a log names providers by name).
        provider_name = DEFAULT_PROVIDER_NAMES[header.provider]
        try:
            app = self._authenticate(state, header, auth, peer)
            provider = self._route(state, header)
            provider_name = provider.name
            if isinstance(provider, RelayProvider):  # served by another worker: see relay.py
                with waiting():
                    response = provider.forward(header, body, app)
                if log.isEnabledFor(logging.DEBUG):
                    log.debug("app=%s provider=%s opcode=%s relayed to the owner", app.name
                              if app else "-", provider_name, header.opcode.name)
                return response
            self._check_admin(state, header.opcode, app)
            request = decode_request(header.opcode, body)
            if header.opcode.needs_identity and app is None:
                raise ParsecError(ResponseStatus.NOT_AUTHENTICATED,
                                  f"{header.opcode.name} needs an authenticated application")
            # What the provider declares (contract.py), not which methods it happens to have.
            if not provider.serves(header.opcode):
                raise provider.not_served(header.opcode)
            # Keys bound to PCRs (an extension attribute) need a provider that can enforce the
            # binding: refused before the provider does any work, and so answered by CanDoCrypto
            # too. KeyProvider.create refuses them on every other path that creates a key.
            provider.refuse_pcr_binding(getattr(request, "attributes", None))
            result = self._run(provider, header.opcode, app, request, waiting)
            out = encode_result(header.opcode, result)
            # buffer_size_limit caps an operation's output (Parsec: e.g. GenerateRandom's size);
            # the protobuf framing around that output may add a few bytes.
            if len(out) > state.buffer_size_limit + RESULT_FRAMING_ALLOWANCE:
                raise ParsecError(ResponseStatus.RESPONSE_TOO_LARGE,
                                  f"response of {len(out)} bytes exceeds buffer_size_limit")
            status = ResponseStatus.SUCCESS
        except ParsecError as exc:
            status, out = exc.status, b""
            self._log_failure(state, header, app, provider_name, exc)
        except Exception:
            log.exception("internal error in %s on provider %s", header.opcode.name, provider_name)
            status, out = ResponseStatus.PSA_ERROR_GENERIC_ERROR, b""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("app=%s provider=%s opcode=%s status=%s duration_ms=%.2f",
                      app.name if app else "-", provider_name, header.opcode.name,
                      status.parsec_name, (time.perf_counter() - t0) * 1000)
        return header.response(status, len(out)) + out

    @staticmethod
    def _authenticate(state: ServiceState, header: RequestHeader, auth: bytes,
                      peer: PeerCredentials | None) -> Identity | None:
        if header.auth_type == AuthType.NO_AUTH:
            return None
        authn = state.authenticator
        if header.auth_type != authn.auth_type:
            raise ParsecError(ResponseStatus.AUTHENTICATOR_NOT_REGISTERED,
                              f"authenticator {header.auth_type.name} is not configured")
        return authn.authenticate(auth, peer)

    @staticmethod
    def _route(state: ServiceState, header: RequestHeader) -> Provider:
        provider = state.providers.get(header.provider)
        if provider is None:
            raise ParsecError(ResponseStatus.PROVIDER_NOT_REGISTERED,
                              f"provider {header.provider.name} is not configured")
        if header.opcode.is_core != (header.provider == ProviderId.CORE):
            raise ParsecError(ResponseStatus.PSA_ERROR_NOT_SUPPORTED,
                              f"{header.opcode.name} is not served by provider {provider.name}")
        return provider

    @staticmethod
    def _check_admin(state: ServiceState, opcode: Opcode, app: Identity | None) -> None:
        if not opcode.is_admin:
            return
        if app is None:
            raise ParsecError(ResponseStatus.NOT_AUTHENTICATED,
                              f"{opcode.name} needs an authenticated admin")
        if not state.authenticator.is_admin(app):
            raise ParsecError(ResponseStatus.ADMIN_OPERATION,
                              f"{opcode.name} is an admin operation and {app.name!r} is no admin")

    def _run(self, provider: Provider, opcode: Opcode, app: Identity | None, request: Any,
             waiting: Callable[[], AbstractContextManager[object]]) -> Any:
        """The operation (contract.call: the opcode's method on the provider), inline, on the
        provider's executor, or in one of the operation slots."""
        if provider.runs_inline(opcode, app, request):
            return contract.call(provider, opcode, app, request)
        with waiting():
            if provider.executor is not None:
                return provider.executor.submit(contract.call, provider, opcode, app,
                                                request).result()
            with self._slots:
                return contract.call(provider, opcode, app, request)

    @staticmethod
    def _log_failure(state: ServiceState, header: RequestHeader, app: Identity | None,
                     provider: str, exc: ParsecError) -> None:
        if state.log_error_details:
            log.info("%s by %s on %s failed: %s", header.opcode.name, app.name if app else "-",
                     provider, exc)
        else:
            log.info("%s on %s failed: %s", header.opcode.name, provider, exc.status.parsec_name)


class RelayedDispatcher(Dispatcher):
    """The TPM owner's dispatcher for requests another worker relays (relay.py): the identity is
    the one that worker established, carried in the authentication field; everything after
    authentication is as for any request. Only the service's own processes can reach the relay
    socket (a 0700 directory of the service's user); a peer of another uid is refused."""

    def dispatch(self, header: RequestHeader, body: bytes, auth: bytes,
                 peer: PeerCredentials | None,
                 waiting: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
                 ) -> bytes:
        if peer is not None and peer.uid != os.geteuid():
            log.warning("relay socket: refused a connection from uid %d", peer.uid)
            return header.response(ResponseStatus.CONNECTION_ERROR)
        return super().dispatch(header, body, auth, peer, waiting)

    @staticmethod
    def _authenticate(state: ServiceState, header: RequestHeader, auth: bytes,
                      peer: PeerCredentials | None) -> Identity | None:
        if header.auth_type == AuthType.NO_AUTH:
            return None
        return Identity(header.auth_type, auth.decode())
