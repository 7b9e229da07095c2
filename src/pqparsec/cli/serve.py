"""`pqparsec serve`: the daemon. Kept apart from the client commands so that starting the service
imports neither click's other commands nor the client library (benchmarks/bench_startup.py).

The arguments `serve` takes in practice (none, `-c PATH`, `--config PATH`, `--config=PATH`) are
read here without click, which would add about 1.2 MiB to the RSS of the service's processes.
Anything else (`--help`, a mistake) goes through the click command, which explains itself; the
full CLI (`cli/main.py`) uses that same command."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import click

    serve: click.Command

CONFIG_HELP = ("Parsec config.toml; without it, the embedded default (software provider, key "
               "store and socket under ./.pqparsec, Unix peer credentials).")


def run(config_path: str | None) -> int:
    """Run the service in the foreground; the exit status."""
    from pqparsec.protocol.status import ParsecError
    from pqparsec.service import config as config_mod
    from pqparsec.service.app import serve as run_service

    try:
        cfg = config_mod.load(config_path) if config_path else config_mod.embedded_default()
        run_service(cfg, reload_from=config_path)
    except (config_mod.ConfigError, ParsecError, OSError) as exc:
        print(f"pqparsec: cannot start: {exc}", file=sys.stderr)
        return 2
    return 0


def _command() -> click.Command:
    import click

    @click.command(name="serve")
    @click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False),
                  help=CONFIG_HELP)
    def command(config_path: str | None) -> None:
        """Run the service in the foreground."""
        status = run(config_path)
        if status:
            sys.exit(status)

    return command


def __getattr__(name: str) -> Any:
    """`serve`, the click command, is built on first use (by the full CLI, or for arguments the
    plain path does not take)."""
    if name == "serve":
        cmd = _command()
        globals()["serve"] = cmd
        return cmd
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def plain_config_arg(args: list[str]) -> tuple[bool, str | None]:
    """(True, config path or None) for the arguments read without click; (False, None) for any
    other arguments."""
    if not args:
        return True, None
    if len(args) == 2 and args[0] in ("-c", "--config") and args[1] and \
            not args[1].startswith("-"):
        return True, args[1]
    if len(args) == 1 and args[0].startswith("--config=") and len(args[0]) > len("--config="):
        return True, args[0][len("--config="):]
    return False, None


def main() -> None:
    """The `pqparsec` command: `serve` directly, everything else through the full CLI."""
    if sys.argv[1:2] == ["serve"]:
        plain, config_path = plain_config_arg(sys.argv[2:])
        if plain:
            sys.exit(run(config_path))
        _command().main(args=sys.argv[2:], prog_name="pqparsec serve")
    else:
        from pqparsec.cli.main import main as cli_main
        cli_main()
