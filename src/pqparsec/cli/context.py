"""The state the global options set up, and the small I/O helpers every command uses."""

from __future__ import annotations

import base64
import binascii
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

import click

from pqparsec.cli.errors import unknown_provider
from pqparsec.cli.format import provider_name
from pqparsec.client import BasicClient
from pqparsec.client.errors import ParsecClientError
from pqparsec.protocol.ids import AuthType, ProviderId

DEFAULT_APP_NAME = "parsec-tool"  # parsec-tool's fixed name: keys it made stay visible


@dataclass
class Tool:
    endpoint: str | None = None
    app_name: str = DEFAULT_APP_NAME
    provider: int | None = None
    timeout: float | None = None
    quiet: bool = False
    _client: BasicClient | None = None

    @property
    def client(self) -> BasicClient:
        if self._client is None:
            if self.provider is not None and self.provider not in {int(p) for p in ProviderId}:
                raise unknown_provider(self.provider, self.service_providers())
            self._client = BasicClient(app_name=self.app_name, endpoint=self.endpoint,
                                       timeout=60.0 if self.timeout is None else self.timeout,
                                       provider=self.provider)
        return self._client

    @property
    def provider_in_use(self) -> int | None:
        """The provider requests went to, if known (for error hints)."""
        if self.provider is not None:
            return self.provider
        return None if self._client is None else self._client.discovered_provider

    def service_providers(self) -> str:
        """The providers the service runs, e.g. "1 (Mbed Crypto provider), 0 (Core
        provider)"; empty if they cannot be listed. For error hints."""
        try:
            listing = BasicClient(endpoint=self.endpoint, timeout=5.0).list_providers()
        except ParsecClientError:
            return ""
        return ", ".join(f"{p.id} ({provider_name(p.id)})" for p in listing)

    @property
    def auth_type(self) -> AuthType | None:
        """The service's authenticator, if the client has learnt it or can learn it now."""
        if self._client is None:
            return None
        auth = self._client.discovered_auth_type
        if auth is None:
            try:
                auth = self._client.auth_type
            except ParsecClientError:
                return None
        return auth

    def identity(self) -> str:
        """How the service knows this caller, for hints: the application name under Direct
        authentication, the uid under Unix peer credentials."""
        auth = self.auth_type
        if auth == AuthType.DIRECT:
            return repr(self.app_name)
        if auth == AuthType.UNIX_PEER_CREDENTIALS:
            return f"uid {os.getuid()}"
        if auth == AuthType.NO_AUTH:
            return "anonymous: the service runs no authenticator"
        return (f"{self.app_name!r} under Direct authentication, uid {os.getuid()} under Unix "
                "peer credentials")

    def info(self, message: str) -> None:
        """A progress line on stderr, as parsec-tool logs them (silenced by --quiet)."""
        if not self.quiet:
            click.echo(f"[INFO ] {message}", err=True)


pass_tool = click.make_pass_decorator(Tool, ensure=True)


def read_input(text: str | None, path: str | None, what: str = "INPUT") -> bytes:
    """The data of a command: a UTF-8 string argument or the contents of --input-file."""
    if text is not None and path is not None:
        raise click.UsageError(f"give either {what} or --input-file, not both")
    if path is not None:
        with click.open_file(path, "rb") as f:
            data: bytes = f.read()
            return data
    if text is None:
        raise click.UsageError(f"missing {what} (a string) or --input-file FILE")
    return text.encode()


def read_file(path: str) -> bytes:
    with click.open_file(path, "rb") as f:
        data: bytes = f.read()
        return data


def b64decode(value: str, param: str) -> bytes:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise click.BadParameter("not valid base64", param_hint=param) from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False))


def emit_bytes(data: bytes) -> None:
    """Plaintext as text when it is UTF-8 (as parsec-tool prints it), else the raw bytes."""
    try:
        click.echo(data.decode("utf-8"))
    except UnicodeDecodeError:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
