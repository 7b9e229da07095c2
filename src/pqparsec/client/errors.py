"""Client-side errors: every service status becomes a `ServiceError` carrying it.

`ServiceError` is the base of all status errors; the statuses an application commonly handles get
their own subclass (`KeyNotFound`, `NotPermitted`, ...) so that ``except KeyNotFound:`` reads
naturally. `service_error()` picks the most specific class for a status.
"""

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

    @property
    def code(self) -> int:
        """The numeric status code, e.g. 1140."""
        return int(self.status)

    @property
    def status_name(self) -> str:
        """The name Parsec's clients print, e.g. ``PsaErrorDoesNotExist``."""
        return self.status.parsec_name

    @property
    def description(self) -> str:
        return self.status.description


class KeyNotFound(ServiceError):
    """PsaErrorDoesNotExist (1140): no key of that name for this application."""


class AlreadyExists(ServiceError):
    """PsaErrorAlreadyExists (1139): the application already has a key of that name."""


class NotPermitted(ServiceError):
    """PsaErrorNotPermitted (1133): the key's policy does not allow the operation."""


class PlatformStateChanged(NotPermitted):
    """PsaErrorNotPermitted from a key bound to PCRs (a pqparsec extension) whose policy allows
    what was asked: the PCRs no longer hold the values the key was bound to. Raised by the
    conveniences that know the key's attributes (`sign`, `decrypt`, ...)."""

    def __init__(self, status: ResponseStatus, operation: str, binding: str) -> None:
        super().__init__(status, operation)
        self.binding = binding  # e.g. "sha256:7,16"
        self.args = (f"{operation}: {status.parsec_name} ({self.description})",)

    @property
    def description(self) -> str:
        return (f"platform state changed: the key is bound to PCRs {self.binding}, which no "
                "longer hold the values it was bound to")


class NotSupported(ServiceError):
    """The provider or service does not support the operation or one of its parameters."""


class InvalidArgument(ServiceError):
    """The request was understood but a parameter is not valid (or not validly encoded)."""


class InvalidSignature(ServiceError):
    """PsaErrorInvalidSignature (1149): a signature, MAC or hash did not verify."""


class InvalidPadding(ServiceError):
    """PsaErrorInvalidPadding (1150): decryption failed (wrong key or corrupted ciphertext)."""


class AuthenticationFailed(ServiceError):
    """The service could not establish, or refused, the caller's identity."""


class AdminRequired(ServiceError):
    """AdminOperation (21): only the administrators named in the service config may do this."""


class ProviderUnavailable(ServiceError):
    """The requested provider does not exist or is not configured in this service."""


class TransportError(ParsecClientError):
    """The service could not be reached or the connection broke.

    `reason` is the short cause ("no service socket at /run/parsec/parsec.sock"), `endpoint` the
    endpoint URI that was used, `hint` what to check for that cause; `str()` adds the hint.
    """

    def __init__(self, message: str, reason: str | None = None,
                 endpoint: str | None = None, hint: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message
        self.endpoint = endpoint
        self.hint = hint


class UnsupportedEndpoint(TransportError):
    """The endpoint URI is not one this client can use: only ``unix:/path/to/socket`` is."""


class ClientConfigError(ParsecClientError, ValueError):
    """The client is missing something it needs, e.g. an application name for Direct auth."""


class KeyTypeError(ParsecClientError, TypeError):
    """A client-side helper cannot handle this key (its type or policy does not fit)."""


_CLASSES: dict[ResponseStatus, type[ServiceError]] = {
    ResponseStatus.PSA_ERROR_DOES_NOT_EXIST: KeyNotFound,
    ResponseStatus.PSA_ERROR_ALREADY_EXISTS: AlreadyExists,
    ResponseStatus.PSA_ERROR_NOT_PERMITTED: NotPermitted,
    ResponseStatus.PSA_ERROR_NOT_SUPPORTED: NotSupported,
    ResponseStatus.OPCODE_DOES_NOT_EXIST: NotSupported,
    ResponseStatus.PSA_ERROR_INVALID_ARGUMENT: InvalidArgument,
    ResponseStatus.INVALID_ENCODING: InvalidArgument,
    ResponseStatus.DESERIALIZING_BODY_FAILED: InvalidArgument,
    ResponseStatus.PSA_ERROR_INVALID_SIGNATURE: InvalidSignature,
    ResponseStatus.PSA_ERROR_INVALID_PADDING: InvalidPadding,
    ResponseStatus.AUTHENTICATION_ERROR: AuthenticationFailed,
    ResponseStatus.NOT_AUTHENTICATED: AuthenticationFailed,
    ResponseStatus.AUTHENTICATOR_DOES_NOT_EXIST: AuthenticationFailed,
    ResponseStatus.AUTHENTICATOR_NOT_REGISTERED: AuthenticationFailed,
    ResponseStatus.ADMIN_OPERATION: AdminRequired,
    ResponseStatus.PROVIDER_DOES_NOT_EXIST: ProviderUnavailable,
    ResponseStatus.PROVIDER_NOT_REGISTERED: ProviderUnavailable,
    ResponseStatus.WRONG_PROVIDER_ID: ProviderUnavailable,
}


def service_error(status: ResponseStatus | int, operation: str) -> ServiceError:
    """The most specific `ServiceError` for a status (unknown codes become GenericError)."""
    try:
        st = ResponseStatus(status)
    except ValueError:
        st = ResponseStatus.PSA_ERROR_GENERIC_ERROR
    return _CLASSES.get(st, ServiceError)(st, operation)
