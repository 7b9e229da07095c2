"""Endpoint discovery and the one-request-per-connection exchange."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

from pqparsec.client.errors import TransportError, UnsupportedEndpoint
from pqparsec.protocol.framing import read_response
from pqparsec.protocol.header import RawHeader, request_header
from pqparsec.protocol.status import ParsecError

DEFAULT_ENDPOINT = "unix:/run/parsec/parsec.sock"


def default_endpoint() -> str:
    return os.environ.get("PARSEC_SERVICE_ENDPOINT") or DEFAULT_ENDPOINT


def socket_path(endpoint: str) -> str:
    """The socket path of a `unix:/path` (or `unix:///path`) endpoint URI."""
    uri = urlparse(endpoint)
    if uri.scheme == "unix" and uri.path:
        return uri.path
    if uri.scheme == "unix":
        reason = f"unsupported endpoint {endpoint!r}: it names no socket path"
    elif uri.scheme:
        reason = (f"unsupported endpoint {endpoint!r}: the {uri.scheme}: scheme is not supported, "
                  "only unix:/path/to/socket")
    else:
        reason = f"unsupported endpoint {endpoint!r}: it has no scheme, expected unix:/path/to/socket"
    hint = (f"did you mean unix:{endpoint}?" if endpoint.startswith("/") else
            "a Parsec service listens on a Unix socket: give its path as unix:/path/to/socket")
    raise UnsupportedEndpoint(f"{reason} ({hint})", reason, endpoint, hint)


# The socket's directory and mode decide who may connect; a system service lets the members of
# one group in (docs/deploy.md).
PERMISSION_HINT = ("this user may not reach the socket: is the user in the group allowed to "
                   "connect (parsec-clients for the system service)? A new group membership "
                   "takes effect at the next login")


class Transport:
    def __init__(self, endpoint: str | None = None, timeout: float | None = 60.0) -> None:
        self.endpoint = endpoint or default_endpoint()
        self.path = socket_path(self.endpoint)
        self.timeout = timeout

    def _error(self, reason: str, hint: str = "") -> TransportError:
        return TransportError(f"{reason} ({hint})" if hint else reason, reason, self.endpoint, hint)

    def exchange(self, opcode: int, provider: int, body: bytes, auth_type: int, auth: bytes,
                 session: int = 0) -> tuple[RawHeader, bytes]:
        request = request_header(opcode, provider, len(body), auth_type, len(auth), session) + \
            body + auth
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.path)
                sock.sendall(request)
                return read_response(sock)
        except FileNotFoundError:
            raise self._error(f"no service socket at {self.path}",
                              "is the service running? set PARSEC_SERVICE_ENDPOINT=unix:/path"
                              ) from None
        except ConnectionRefusedError:
            raise self._error(f"nothing listens on {self.path}",
                              "is the service running?") from None
        except PermissionError:
            raise self._error(f"no permission to connect to {self.path}", PERMISSION_HINT) from None
        except TimeoutError:
            raise self._error(f"no answer from {self.path} within {self.timeout} s") from None
        except ParsecError as exc:
            raise self._error(f"bad response from {self.path}: {exc}") from None
        except OSError as exc:
            raise self._error(f"talking to {self.path}: {exc.strerror or exc}") from None
