"""Client-side errors: every service status becomes a `ServiceError` carrying it."""

from __future__ import annotations

from pqparsec.protocol.status import ResponseStatus


class ParsecClientError(Exception):
    """Anything that went wrong talking to the service."""


class ServiceError(ParsecClientError):
    """The service answered with a non-success status."""

    def __init__(self, status: ResponseStatus, operation: str) -> None:
        self.status = status
        self.operation = operation
        super().__init__(f"{operation}: {status.parsec_name} ({status.description})")


class TransportError(ParsecClientError):
    """The service could not be reached or the connection broke."""
