"""`pqparsec serve`: the daemon. Kept apart from the client commands so that starting the service
imports neither click's other commands nor the client library (benchmarks/bench_startup.py)."""

from __future__ import annotations

import sys

import click


@click.command()
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
    """The `pqparsec` command: `serve` directly, everything else through the full CLI."""
    if sys.argv[1:2] == ["serve"]:
        serve.main(args=sys.argv[2:], prog_name="pqparsec serve")
    else:
        from pqparsec.cli.main import main as cli_main
        cli_main()
