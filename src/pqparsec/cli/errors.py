"""What the CLI prints when something fails, and its exit codes.

A failure prints, on stderr, the status name, a one-line explanation and a hint, never a
traceback, and exits with a code per class of error so that scripts can tell them apart.
"""

from __future__ import annotations

from enum import IntEnum
from typing import IO, Any

import click

from pqparsec.cli.format import PROVIDER_NAMES, camel
from pqparsec.client.errors import (
    AdminRequired,
    AlreadyExists,
    AuthenticationFailed,
    InvalidArgument,
    InvalidPadding,
    InvalidSignature,
    KeyNotFound,
    NotPermitted,
    NotSupported,
    ParsecClientError,
    PlatformStateChanged,
    ProviderUnavailable,
    ServiceError,
    TransportError,
    UnsupportedEndpoint,
)
from pqparsec.client.transport import PERMISSION_HINT
from pqparsec.protocol.ids import AuthType
from pqparsec.protocol.status import ResponseStatus


class Exit(IntEnum):
    OK = 0
    ERROR = 1             # anything else (including errors of the tool itself)
    USAGE = 2             # bad command line (click's own code)
    CONNECTION = 3        # the service could not be reached or answered garbage
    AUTHENTICATION = 4    # identity refused or missing, or an admin operation
    NOT_PERMITTED = 5     # the key's policy forbids it (or its type/algorithm does not fit)
    KEY_NOT_FOUND = 6     # no such key for this application
    ALREADY_EXISTS = 7    # the key name is taken
    NOT_SUPPORTED = 8     # provider/service cannot do this
    INVALID_ARGUMENT = 9  # the service rejected a parameter
    VERIFY_FAILED = 10    # signature/MAC/hash mismatch, or bad padding when decrypting


EXIT_HELP = """\b
Exit codes: 0 success, 1 other error, 2 usage error, 3 cannot reach the service,
4 authentication/admin refused, 5 not permitted by the key's policy or type
(WrongKeyAlgorithm included), 6 key not found, 7 key already exists, 8 not supported
(ProviderDoesNotExist included), 9 invalid argument, 10 verification failed.

\b
Shell completion: see `pqparsec completion --help`."""

_EXITS: tuple[tuple[type[ParsecClientError], Exit], ...] = (
    (TransportError, Exit.CONNECTION),
    (AuthenticationFailed, Exit.AUTHENTICATION),
    (AdminRequired, Exit.AUTHENTICATION),
    (NotPermitted, Exit.NOT_PERMITTED),
    (KeyNotFound, Exit.KEY_NOT_FOUND),
    (AlreadyExists, Exit.ALREADY_EXISTS),
    (NotSupported, Exit.NOT_SUPPORTED),
    (ProviderUnavailable, Exit.NOT_SUPPORTED),
    (InvalidArgument, Exit.INVALID_ARGUMENT),
    (InvalidSignature, Exit.VERIFY_FAILED),
    (InvalidPadding, Exit.VERIFY_FAILED),
)


class CliError(click.ClickException):
    """A failure shown as ``Error: <title>: <explanation>`` plus ``Hint: <hint>``."""

    def __init__(self, title: str, explanation: str, hint: str = "",
                 exit_code: int = Exit.ERROR) -> None:
        super().__init__(f"{title}: {explanation}")
        self.title = title
        self.explanation = explanation
        self.hint = hint
        self._exit_code = int(exit_code)

    @property  # click declares exit_code per class; ours varies per instance
    def exit_code(self) -> int:  # type: ignore[override]
        return self._exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Error: {self.title}: {self.explanation}", err=True, file=file)
        if self.hint:
            click.echo(f"Hint: {self.hint}", err=True, file=file)


def wrong_key_algorithm(message: str) -> CliError:
    """A key whose type or policy does not fit the command: refused by the key's policy."""
    return CliError("WrongKeyAlgorithm", message,
                    "`pqparsec list-keys` shows the key's type and permitted algorithm",
                    Exit.NOT_PERMITTED)


def unknown_provider(pid: int, service_providers: str) -> CliError:
    """-p names an ID Parsec does not define; `service_providers` lists the service's (or is
    empty when they could not be listed)."""
    ids = [int(p) for p in PROVIDER_NAMES]
    known = service_providers or ", ".join(f"{p} ({n})" for p, n in PROVIDER_NAMES.items())
    where = "this service runs" if service_providers else "Parsec's providers are"
    return CliError("ProviderDoesNotExist",
                    f"there is no provider with ID {pid} (Parsec defines IDs {min(ids)} to "
                    f"{max(ids)})", f"{where} {known}: choose one with -p ID",
                    Exit.NOT_SUPPORTED)


def exit_code(exc: ParsecClientError) -> Exit:
    for cls, code in _EXITS:
        if isinstance(exc, cls):
            return code
    return Exit.ERROR


def _admin_hint(who: str, auth: AuthType | None) -> str:
    start = f"only the admins named in the service's config may do this (you are {who})"
    if auth == AuthType.DIRECT:
        return f"{start}; pass an admin's name with --app-name"
    if auth == AuthType.UNIX_PEER_CREDENTIALS:
        return f"{start}; run the command as one of those users (admins are named by uid)"
    return f"{start}; with Direct authentication use --app-name"


def _service_hint(exc: ServiceError, app: str, provider: str, auth: AuthType | None = None,
                  service_providers: str = "") -> str:
    if isinstance(exc, PlatformStateChanged):
        return ("the key works again once the PCRs hold those values again (e.g. after a reboot "
                "into the state it was bound to); otherwise create a new key")
    st = exc.status
    hints = {
        ResponseStatus.PSA_ERROR_DOES_NOT_EXIST:
            f"keys belong to one application (here {app}); `pqparsec list-keys` lists its keys",
        ResponseStatus.PSA_ERROR_ALREADY_EXISTS:
            "choose another key name, or delete the old key with `pqparsec delete-key -k NAME`",
        ResponseStatus.PSA_ERROR_NOT_PERMITTED:
            "the key's policy does not allow this; `pqparsec list-keys` shows what it permits",
        ResponseStatus.PSA_ERROR_NOT_SUPPORTED:
            f"the {provider} cannot do this; `pqparsec list-opcodes` shows what it supports and "
            "`pqparsec -p ID ...` picks another provider",
        ResponseStatus.OPCODE_DOES_NOT_EXIST:
            "the service does not know this operation (an older Parsec service?)",
        ResponseStatus.PSA_ERROR_INVALID_SIGNATURE:
            "the signature (or MAC) does not match this data and key",
        ResponseStatus.PSA_ERROR_INVALID_PADDING:
            "wrong key, or the ciphertext was corrupted",
        ResponseStatus.PSA_ERROR_INVALID_ARGUMENT:
            "a parameter does not fit the key or operation; see `pqparsec COMMAND --help`",
        ResponseStatus.INVALID_ENCODING:
            "the service could not decode a value of the request",
        ResponseStatus.ADMIN_OPERATION: _admin_hint(app, auth),
        ResponseStatus.AUTHENTICATION_ERROR:
            "the service refused this identity: with Direct authentication pass --app-name, with "
            "Unix peer credentials run as the right user",
        ResponseStatus.NOT_AUTHENTICATED:
            "this operation needs an application identity",
        ResponseStatus.AUTHENTICATOR_NOT_REGISTERED:
            "the service does not run that authenticator; `pqparsec list-authenticators` shows it",
        ResponseStatus.PROVIDER_NOT_REGISTERED:
            "`pqparsec list-providers` shows the providers this service runs",
        ResponseStatus.PROVIDER_DOES_NOT_EXIST:
            "`pqparsec list-providers` shows the providers this service runs",
        ResponseStatus.DEPRECATED_PRIMITIVE:
            "the service refuses deprecated algorithms unless allow_deprecated is set",
        ResponseStatus.RESPONSE_TOO_LARGE:
            "ask for less data at once",
        ResponseStatus.BODY_SIZE_EXCEEDS_LIMIT:
            "the request is larger than the service's body_len_limit",
    }
    if service_providers and st in (ResponseStatus.PROVIDER_NOT_REGISTERED,
                                    ResponseStatus.PROVIDER_DOES_NOT_EXIST):
        return f"this service runs {service_providers}: choose one with -p ID"
    return hints.get(st, "the service log has the details")


def from_client_error(exc: ParsecClientError, app: str = "", provider: str = "provider",
                      endpoint: str = "", auth: AuthType | None = None,
                      service_providers: str = "") -> CliError:
    """The CliError for an error of the client library. `app` is how the service knows the
    caller (for hints), `auth` its authenticator if known, `service_providers` the service's
    providers as text (for a provider the service does not run)."""
    code = exit_code(exc)
    if isinstance(exc, ServiceError):
        op = camel(exc.operation.split(" ")[0]) if exc.operation.isupper() else exc.operation
        return CliError(f"{exc.status_name} ({int(exc.status)})",
                        f"{exc.description} [{op}]",
                        _service_hint(exc, app, provider, auth, service_providers), code)
    if isinstance(exc, UnsupportedEndpoint):
        return CliError("UnsupportedEndpoint", exc.reason,
                        f"{exc.hint} (set it with --endpoint or PARSEC_SERVICE_ENDPOINT; the "
                        "system service's is unix:/run/parsec/parsec.sock)", code)
    if isinstance(exc, TransportError):
        ep = exc.endpoint or endpoint
        if exc.hint == PERMISSION_HINT:
            return CliError("ConnectionError", exc.reason, exc.hint, code)
        return CliError("ConnectionError", exc.reason,
                        f"is the service running? the socket is {ep} (set it with --endpoint or "
                        "PARSEC_SERVICE_ENDPOINT=unix:/path/to/parsec.sock)", code)
    return CliError(type(exc).__name__, str(exc), "", code)
