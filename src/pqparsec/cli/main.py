"""`pqparsec serve` runs the daemon; the other commands are a Parsec client (parsec-tool's)."""

from __future__ import annotations

import sys

import click

from pqparsec import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pqparsec")
def cli() -> None:
    """pqparsec: a Parsec-compatible platform security service and its client."""


@cli.command()
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
              help="Parsec config.toml; without it, the embedded default (software provider, "
                   "key store and socket under ./.pqparsec, Unix peer credentials).")
def serve(config_path: str | None) -> None:
    """Run the service in the foreground."""
    from pqparsec.protocol.status import ParsecError
    from pqparsec.service import config as config_mod
    from pqparsec.service.app import serve as run

    try:
        cfg = config_mod.load(config_path) if config_path else config_mod.embedded_default()
        run(cfg, reload_from=config_path)
    except (config_mod.ConfigError, ParsecError, OSError) as exc:
        click.echo(f"pqparsec: cannot start: {exc}", err=True)
        sys.exit(2)


def main() -> None:
    cli()
