"""`pqparsec serve` runs the daemon; the other commands are a Parsec client (parsec-tool's)."""

from __future__ import annotations

import os
from typing import Any

import click
from click.shell_completion import get_completion_class

from pqparsec import __version__
from pqparsec.cli import (
    admin_commands,
    attest_commands,
    core_commands,
    crypto_commands,
    key_commands,
    p11module_cmd,
    pqc_commands,
)
from pqparsec.cli.context import DEFAULT_APP_NAME, Tool
from pqparsec.cli.errors import (
    EXIT_HELP,
    CliError,
    Exit,
    from_client_error,
    wrong_key_algorithm,
)
from pqparsec.cli.format import provider_name
from pqparsec.cli.serve import serve
from pqparsec.client.errors import (
    ClientConfigError,
    KeyTypeError,
    ParsecClientError,
    ProviderUnavailable,
    TransportError,
)


class ToolGroup(click.Group):
    """Turns client-library errors into one-screen messages with per-class exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyTypeError as exc:
            raise wrong_key_algorithm(str(exc)) from None
        except ClientConfigError as exc:
            raise CliError("ConfigurationError", str(exc),
                           "see `pqparsec --help` for --app-name and --endpoint") from None
        except ParsecClientError as exc:
            tool = ctx.find_object(Tool)
            if tool is None:
                raise from_client_error(exc) from None
            endpoint = tool.endpoint or os.environ.get("PARSEC_SERVICE_ENDPOINT", "")
            pid = tool.provider_in_use
            provider = "provider" if pid is None else provider_name(int(pid))
            if isinstance(exc, TransportError):
                raise from_client_error(exc, endpoint=endpoint) from None
            raise from_client_error(
                exc, tool.identity(), provider, endpoint, tool.auth_type,
                tool.service_providers() if isinstance(exc, ProviderUnavailable) else ""
            ) from None
        except ValueError as exc:  # malformed input caught by the client library
            raise CliError("InvalidInput", str(exc), "see `pqparsec COMMAND --help`",
                           Exit.INVALID_ARGUMENT) from None


@click.group(cls=ToolGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EXIT_HELP)
@click.version_option(__version__, prog_name="pqparsec")
@click.option("--endpoint", metavar="URI",
              help="The service endpoint, unix:/path/to/socket (default: $PARSEC_SERVICE_ENDPOINT, "
                   "else unix:/run/parsec/parsec.sock).")
@click.option("-a", "--app-name", envvar="PQPARSEC_APP_NAME", default=DEFAULT_APP_NAME,
              show_default=True,
              help="Application name, used when the service runs the Direct authenticator "
                   "(env PQPARSEC_APP_NAME).")
@click.option("-p", "--provider", type=click.IntRange(0, 255),
              help="Provider ID to use instead of the service's first (implicit) provider.")
@click.option("-t", "--timeout", type=click.FloatRange(min=0),
              help="Seconds to wait for each answer; 0 waits forever (default 60).")
@click.option("-q", "--quiet", is_flag=True, help="No [INFO ] progress lines on stderr.")
@click.pass_context
def cli(ctx: click.Context, endpoint: str | None, app_name: str, provider: int | None,
        timeout: float | None, quiet: bool) -> None:
    """pqparsec: a Parsec-compatible platform security service and its client.

    The client commands are parsec-tool's, with the same names, options and output. Keys
    belong to the calling application: with the Direct authenticator that is --app-name
    (default "parsec-tool", like parsec-tool), with Unix peer credentials your user ID.
    """
    ctx.obj = Tool(endpoint=endpoint, app_name=app_name, provider=provider, timeout=timeout,
                   quiet=quiet)


SHELLS = ("bash", "zsh", "fish")


@cli.command()
@click.argument("shell", type=click.Choice(SHELLS), required=False)
def completion(shell: str | None) -> None:
    """Print the shell completion script for bash, zsh or fish (default: from $SHELL).

    \b
    Enable it for your shell:
      bash:  eval "$(pqparsec completion bash)"          (add to ~/.bashrc)
      zsh:   eval "$(pqparsec completion zsh)"           (add to ~/.zshrc)
      fish:  pqparsec completion fish > ~/.config/fish/completions/pqparsec.fish
    The scripts are click's: the same as `_PQPARSEC_COMPLETE=bash_source pqparsec`.
    """
    if shell is None:
        shell = os.path.basename(os.environ.get("SHELL", ""))
        if shell not in SHELLS:
            raise click.UsageError("cannot tell your shell from $SHELL: name it (bash, zsh or "
                                   "fish)")
    cls = get_completion_class(shell)
    assert cls is not None
    root = click.get_current_context().find_root()
    script = cls(cli, {}, root.info_name or "pqparsec", "_PQPARSEC_COMPLETE").source()
    click.echo(script)


for _command in (
    core_commands.ping, core_commands.list_providers, core_commands.list_authenticators,
    core_commands.list_opcodes, core_commands.list_keys, core_commands.list_clients,
    core_commands.delete_client, core_commands.generate_random, core_commands.hash_cmd,
    core_commands.can_do_crypto,
    key_commands.create_rsa_key, key_commands.create_ecc_key, key_commands.create_symmetric_key,
    key_commands.import_key, key_commands.export_public_key, key_commands.export_key,
    key_commands.delete_key, key_commands.create_csr, key_commands.label,
    crypto_commands.sign, crypto_commands.verify, crypto_commands.encrypt,
    crypto_commands.decrypt, crypto_commands.aead_encrypt, crypto_commands.aead_decrypt,
    crypto_commands.mac, crypto_commands.key_agreement,
    pqc_commands.create_mlkem_key, pqc_commands.create_mldsa_key, pqc_commands.create_slhdsa_key,
    pqc_commands.create_ed25519_key, pqc_commands.encapsulate, pqc_commands.decapsulate,
):
    cli.add_command(_command)
cli.add_command(serve)
cli.add_command(admin_commands.adopt_key)  # pqparsec extension (admin)
cli.add_command(attest_commands.attest_key)  # pqparsec extension (TPM2_Certify)
cli.add_command(p11module_cmd.pkcs11_module)  # the PKCS#11 module: build / path / key-id


def main() -> None:
    cli(prog_name="pqparsec")
