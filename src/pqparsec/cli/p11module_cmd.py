"""`pqparsec pkcs11-module`: build the PKCS#11 module and show where it is (docs/pkcs11-module.md).

The module is a shared library compiled on the machine that uses it (it embeds this Python
environment); building needs the pkcs11-module extra (cffi), gcc and the Python headers."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from pqparsec.cli.errors import CliError, Exit

_dir = click.Path(file_okay=False, writable=True, path_type=Path)


@click.group("pkcs11-module")
def pkcs11_module() -> None:
    """The PKCS#11 module: PKCS#11 applications use the service's keys through it."""


@pkcs11_module.command("build")
@click.option("-o", "--output-dir", type=_dir, default=None,
              help="Where to put the library (default: ~/.cache/pqparsec/pkcs11-module-pyXY).")
@click.option("-v", "--verbose", is_flag=True, help="Show the compiler's commands.")
def build_cmd(output_dir: Path | None, verbose: bool) -> None:
    """Compile the module for this Python environment and print the library's path."""
    from pqparsec.p11module import builder

    try:
        importlib.import_module("cffi")
    except ImportError:
        raise CliError("MissingDependency", "building the module needs cffi",
                       "pip install 'pqparsec[pkcs11-module]' (and apt-get install gcc "
                       "python3-dev)", Exit.ERROR) from None
    try:
        path = builder.build(output_dir or builder.default_dir(), verbose=verbose)
    except Exception as exc:  # the compiler's failure, said in one line
        raise CliError("BuildFailed", f"{type(exc).__name__}: {exc}".splitlines()[0],
                       "the build needs gcc and the Python headers (apt-get install gcc "
                       "python3-dev)", Exit.ERROR) from None
    click.echo(str(path))


@pkcs11_module.command("path")
@click.option("-o", "--output-dir", type=_dir, default=None,
              help="The directory given to `build -o`.")
def path_cmd(output_dir: Path | None) -> None:
    """Print the library's path (exit status 1 if it has not been built there)."""
    from pqparsec.p11module import library_path

    path = library_path(str(output_dir) if output_dir else None)
    click.echo(str(path))
    if not path.exists():
        raise SystemExit(1)


@pkcs11_module.command("key-id")
@click.argument("key_name")
def key_id_cmd(key_name: str) -> None:
    """Print the CKA_ID (hex) the module gives KEY_NAME's objects, for pkcs11-tool --id."""
    from pqparsec.p11module.mapping import key_id

    click.echo(key_id(key_name).hex())
