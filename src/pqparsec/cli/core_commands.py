"""Service discovery and administration: ping, list-*, delete-client, generate-random, hash,
can-do-crypto."""

from __future__ import annotations

import click

from pqparsec.cli import format as fmt
from pqparsec.cli.context import Tool, b64, emit_json, pass_tool, read_input
from pqparsec.cli.errors import Exit
from pqparsec.cli.specs import HASHES, RECIPES
from pqparsec.protocol.operations import CheckType

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.command()
@pass_tool
def ping(tool: Tool) -> None:
    """Ping the Parsec service and print the wire protocol version."""
    maj, mnr = tool.client.ping()
    click.echo(f"Service wire protocol version is {maj}.{mnr}.")


@click.command("list-providers")
@json_option
@pass_tool
def list_providers(tool: Tool, as_json: bool) -> None:
    """List the providers of the service, the default (implicit) one first."""
    providers = tool.client.list_providers()
    if as_json:
        emit_json([fmt.provider_json(p) for p in providers])
        return
    tool.info("Available providers:")
    for p in providers:
        click.echo(fmt.provider_text(p))


@click.command("list-authenticators")
@json_option
@pass_tool
def list_authenticators(tool: Tool, as_json: bool) -> None:
    """List the authenticators of the service."""
    auths = tool.client.list_authenticators()
    if as_json:
        emit_json([fmt.authenticator_json(a) for a in auths])
        return
    tool.info("Available authenticators:")
    for a in auths:
        click.echo(fmt.authenticator_text(a))


@click.command("list-opcodes")
@click.option("-p", "--provider", "provider_id", type=click.IntRange(0, 255),
              help="Provider ID to query (default: the implicit provider, or the global -p).")
@click.option("--extensions", is_flag=True,
              help="Also list pqparsec's extension operations.")
@json_option
@pass_tool
def list_opcodes(tool: Tool, provider_id: int | None, extensions: bool, as_json: bool) -> None:
    """List the operations a provider supports."""
    client = tool.client
    pid = int(client.provider) if provider_id is None else provider_id
    opcodes = client.list_opcodes(pid, include_extensions=extensions)
    if as_json:
        emit_json({"provider": pid, "provider_name": fmt.provider_name(pid),
                   "opcodes": [{"code": op, "name": fmt.opcode_name(op)} for op in opcodes]})
        return
    tool.info(f"Available opcodes for provider {fmt.provider_name(pid)}:")
    for op in opcodes:
        click.echo(f"* {fmt.opcode_name(op)}")


def _parse_label(spec: str) -> tuple[str, str | None]:
    name, sep, value = spec.partition("=")
    return name, (value if sep else None)


@click.command("list-keys")
@click.option("-l", "--label", "label_spec", metavar="LABEL[=VALUE]",
              help="Only keys carrying this client-side label (see `pqparsec label`).")
@click.option("--extensions", is_flag=True,
              help="Also list keys only pqparsec's protocol extension can describe (ML-DSA, "
                   "ML-KEM, SLH-DSA, EdDSA...).")
@json_option
@pass_tool
def list_keys(tool: Tool, label_spec: str | None, extensions: bool, as_json: bool) -> None:
    """List the keys of this application, in every provider."""
    client = tool.client
    keys = client.list_keys(include_extensions=extensions)
    # Keys only the extension can describe are left out unless asked for (an old client could
    # not decode them); the text listing says how many, from a second listing that has them.
    every = None if extensions or as_json else client.list_keys(include_extensions=True)
    labelled: dict[str, dict[str, str]] | None = None
    if label_spec is not None or as_json:
        labelled = client.labels.all()
    if label_spec is not None:
        name, value = _parse_label(label_spec)
        wanted = set(client.labels.find(name, value))
        keys = [k for k in keys if k.name in wanted]
        every = None if every is None else [k for k in every if k.name in wanted]
    if as_json:
        emit_json([fmt.key_json(k, (labelled or {}).get(k.name, {})) for k in keys])
        return
    hidden = 0 if every is None else max(0, len(every) - len(keys))
    if not keys:
        tool.info("No keys currently available." if not hidden else
                  f"No keys a Parsec client can list; {_hidden_keys(hidden)}")
        return
    tool.info("Available keys:")
    for k in keys:
        click.echo(fmt.key_text(k))
    if hidden:
        tool.info(f"Not listed: {_hidden_keys(hidden)}")


def _hidden_keys(n: int) -> str:
    one = n == 1
    return (f"{n} post-quantum or EdDSA {'key' if one else 'keys'} (pqparsec protocol "
            f"extension) {'is' if one else 'are'} hidden: `pqparsec list-keys --extensions` "
            f"lists {'it' if one else 'them'}.")


@click.command("list-clients")
@json_option
@pass_tool
def list_clients(tool: Tool, as_json: bool) -> None:
    """List the applications that have keys in the service (admin operation)."""
    clients = tool.client.list_clients()
    if as_json:
        emit_json(clients)
        return
    if not clients:
        tool.info("No clients in the service.")
        return
    tool.info("Parsec clients:")
    for c in clients:
        click.echo(c)


@click.command("delete-client")
@click.option("-c", "--client", "client_name", required=True, help="The application to delete.")
@pass_tool
def delete_client(tool: Tool, client_name: str) -> None:
    """Delete every key of an application (admin operation)."""
    tool.info(f"Deleting client \"{client_name}\"...")
    tool.client.delete_client(client_name)
    tool.info(f"Client \"{client_name}\" deleted.")


@click.command("generate-random")
@click.option("-n", "--nbytes", type=click.IntRange(min=0), required=True,
              help="How many random bytes.")
@pass_tool
def generate_random(tool: Tool, nbytes: int) -> None:
    """Generate random bytes (printed as space-separated hex)."""
    tool.info(f"Generating {nbytes} random bytes...")
    data = tool.client.generate_random(nbytes)
    tool.info("Random bytes:")
    click.echo(" ".join(f"{b:02X}" for b in data))


@click.command("hash")
@click.argument("input_data", metavar="INPUT", required=False)
@click.option("-f", "--input-file", type=click.Path(dir_okay=False, allow_dash=True),
              help="Hash this file ('-' = stdin) instead of INPUT.")
@click.option("-a", "--alg", "alg_name", type=click.Choice(sorted(HASHES)), default="sha256",
              show_default=True)
@click.option("--base64", "as_base64", is_flag=True, help="Print base64 instead of hex.")
@pass_tool
def hash_cmd(tool: Tool, input_data: str | None, input_file: str | None, alg_name: str,
             as_base64: bool) -> None:
    """Hash data in the service (PsaHashCompute)."""
    data = read_input(input_data, input_file)
    digest = tool.client.hash_compute(HASHES[alg_name], data)
    click.echo(b64(digest) if as_base64 else digest.hex())


@click.command("can-do-crypto")
@click.option("-c", "--check", "check", type=click.Choice([c.name.lower() for c in CheckType]),
              default="generate", show_default=True, help="What to ask about.")
@click.option("-k", "--key-name", help="Use the attributes of this existing key.")
@click.option("-r", "--recipe", type=click.Choice(sorted(RECIPES)),
              help="Use the attributes of a standard key of this kind.")
@click.option("-b", "--bits", type=click.IntRange(min=1), help="Key size for --recipe.")
@pass_tool
def can_do_crypto(tool: Tool, check: str, key_name: str | None, recipe: str | None,
                  bits: int | None) -> None:
    """Ask the provider whether it can generate/import/use a kind of key (CanDoCrypto).

    Prints "Supported." (exit code 0) or "Not supported." (exit code 8).
    """
    if (key_name is None) == (recipe is None):
        raise click.UsageError("give exactly one of --key-name or --recipe")
    client = tool.client
    if key_name is not None:
        attrs = client.key_attributes(key_name)
    else:
        assert recipe is not None
        attrs = RECIPES[recipe](bits, False)
    if client.can_do_crypto(CheckType[check.upper()], attrs):
        click.echo("Supported.")
        return
    click.echo("Not supported.")
    click.get_current_context().exit(Exit.NOT_SUPPORTED)
