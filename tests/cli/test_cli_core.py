"""Discovery and administration commands, output formats, global options, errors and exit
codes, shell completion."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pqptest.cli import Cli

from pqparsec import __version__
from pqparsec.client import templates
from pqparsec.protocol.opcodes import Opcode


def test_ping(cli: Cli) -> None:
    res = cli("ping")
    assert res.stdout == "Service wire protocol version is 1.0.\n"


def test_version(cli: Cli) -> None:
    assert cli("--version", app=None).stdout.strip() == f"pqparsec, version {__version__}"


def test_list_providers(cli: Cli) -> None:
    res = cli("list-providers")
    blocks = res.stdout.split("\n\n")
    assert blocks[0].splitlines()[0] == "ID: 0x01 (Mbed Crypto provider)"
    assert blocks[0].splitlines()[1].startswith("Description: ")
    assert re.fullmatch(r"Version: \d+\.\d+\.\d+", blocks[0].splitlines()[2])
    assert blocks[0].splitlines()[4] == "UUID: 1c1139dc-ad7c-47dc-ad6b-db6fdb466552"
    assert blocks[1].splitlines()[0] == "ID: 0x00 (Core provider)"
    assert blocks[1].splitlines()[4] == "UUID: 47049873-2a43-4845-9d72-831eab668784"
    assert "[INFO ] Available providers:" in res.stderr
    data = json.loads(cli("list-providers", "--json").stdout)
    assert [p["id"] for p in data] == [1, 0]
    assert data[0]["name"] == "Mbed Crypto provider"
    assert data[0]["description"] == cli.client().list_providers()[0].description


def test_list_authenticators(cli: Cli) -> None:
    res = cli("list-authenticators")
    lines = res.stdout.splitlines()
    assert lines[0] == "ID: 0x01 (Direct authentication)"
    assert lines[1].startswith("Description: ")
    assert lines[2] == "Version: 0.1.0"
    data = json.loads(cli("list-authenticators", "--json").stdout)
    assert data == [{"id": 1, "name": "Direct authentication",
                     "description": lines[1][len("Description: "):], "version": "0.1.0"}]


def test_list_opcodes(cli: Cli) -> None:
    lines = cli("list-opcodes").lines
    assert "* PsaGenerateKey" in lines and "* PsaGenerateRandom" in lines
    assert all(line.startswith("* ") for line in lines)
    core = cli("list-opcodes", "-p", "0").lines
    assert core == ["* Ping", "* ListProviders", "* ListOpcodes", "* ListAuthenticators",
                    "* ListKeys"]
    assert cli("-p", "0", "list-opcodes").lines == core  # the global -p/--provider
    data = json.loads(cli("list-opcodes", "--json", "--extensions").stdout)
    assert data["provider"] == 1
    assert [o["code"] for o in data["opcodes"]] == cli.client().list_opcodes(
        1, include_extensions=True)
    assert {"code": 2, "name": "PsaGenerateKey"} in data["opcodes"]


def test_list_keys_formats(cli: Cli) -> None:
    empty = cli("list-keys")
    assert empty.stdout == ""
    assert "No keys currently available." in empty.stderr
    assert json.loads(cli("list-keys", "--json").stdout) == []
    cli("create-ecc-key", "-k", "ecc-key")
    cli("create-rsa-key", "-k", "rsa-key")
    # Exactly parsec-tool's tests/expected_output/list-keys.
    assert sorted(cli("list-keys").lines) == [
        "* ecc-key (Mbed Crypto provider, EccKeyPair { curve_family: SecpR1 }, 256 bits, "
        "permitted algorithm: AsymmetricSignature(Ecdsa { hash_alg: Specific(Sha256) }))",
        "* rsa-key (Mbed Crypto provider, RsaKeyPair, 2048 bits, permitted algorithm: "
        "AsymmetricEncryption(RsaPkcs1v15Crypt))",
    ]
    data = {k["name"]: k for k in json.loads(cli("list-keys", "--json").stdout)}
    assert data["ecc-key"] == {
        "name": "ecc-key", "provider_id": 1, "provider": "Mbed Crypto provider",
        "type": "EccKeyPair { curve_family: SecpR1 }", "bits": 256,
        "usage": ["sign_message", "verify_message", "sign_hash", "verify_hash"],
        "algorithm": "AsymmetricSignature(Ecdsa { hash_alg: Specific(Sha256) })", "labels": {}}
    assert data["rsa-key"]["usage"] == ["encrypt", "decrypt"]


def test_list_clients_and_delete_client(cli: Cli) -> None:
    cli("create-ecc-key", "-k", "k")
    clients = cli("list-clients", app="admin").lines
    assert cli.app in clients
    assert cli.app in json.loads(cli("list-clients", "--json", app="admin").stdout)
    denied = cli("list-clients", check=False)
    assert denied.returncode == 4
    assert "AdminOperation (21)" in denied.stderr and "Hint:" in denied.stderr
    cli("delete-client", "-c", cli.app, app="admin")
    assert cli.app not in cli("list-clients", app="admin").lines
    assert cli.client().list_keys() == []


def test_generate_random(cli: Cli) -> None:
    out = cli("generate-random", "-n", "10").stdout.strip()
    assert re.fullmatch(r"([0-9A-F]{2} ){9}[0-9A-F]{2}", out), out
    assert cli("generate-random", "--nbytes", "4").stdout.strip() != out[:11]


def test_hash(cli: Cli, tmp_path: Path) -> None:
    assert cli("hash", "hello").stdout.strip() == hashlib.sha256(b"hello").hexdigest()
    assert cli("hash", "-a", "sha512", "hello").stdout.strip() == \
        hashlib.sha512(b"hello").hexdigest()
    f = tmp_path / "blob"
    f.write_bytes(bytes(range(256)) * 10)
    assert cli("hash", "-f", str(f)).stdout.strip() == \
        hashlib.sha256(f.read_bytes()).hexdigest()
    assert cli("hash", "-f", "-", stdin=b"\x00\x01").stdout.strip() == \
        hashlib.sha256(b"\x00\x01").hexdigest()


def test_can_do_crypto(cli: Cli, require_opcode: Callable[[Opcode], None]) -> None:
    require_opcode(Opcode.CAN_DO_CRYPTO)
    assert cli("can-do-crypto", "-r", "ecdsa").stdout == "Supported.\n"
    no = cli("can-do-crypto", "-r", "ecdsa", "-b", "200", check=False)
    assert (no.returncode, no.stdout) == (8, "Not supported.\n")
    cli("create-ecc-key", "-k", "k")
    assert cli("can-do-crypto", "-k", "k", "-c", "use").stdout == "Supported.\n"
    assert cli("can-do-crypto", check=False).returncode == 2


# -- errors ----------------------------------------------------------------------------------

def test_service_not_running(cli: Cli, tmp_path: Path) -> None:
    res = cli("ping", check=False,
              env={"PARSEC_SERVICE_ENDPOINT": f"unix:{tmp_path}/none.sock"})
    assert res.returncode == 3
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        f"Error: ConnectionError: no service socket at {tmp_path}/none.sock",
        f"Hint: is the service running? the socket is unix:{tmp_path}/none.sock (set it with "
        "--endpoint or PARSEC_SERVICE_ENDPOINT=unix:/path/to/parsec.sock)"]


def test_endpoint_option_overrides_environment(cli: Cli, tmp_path: Path) -> None:
    res = cli("--endpoint", cli.endpoint, "ping",
              env={"PARSEC_SERVICE_ENDPOINT": f"unix:{tmp_path}/none.sock"})
    assert res.stdout.startswith("Service wire protocol version is 1.0.")
    bad = cli("--endpoint", "tcp://x", "ping", check=False)
    assert bad.returncode == 3 and "unsupported endpoint" in bad.stderr


def test_timeout_option(cli: Cli) -> None:
    assert cli("-t", "0", "ping").returncode == 0
    assert cli("--timeout", "5", "list-keys").returncode == 0
    assert cli("-t", "-1", "ping", check=False).returncode == 2


def test_error_messages_and_exit_codes(cli: Cli) -> None:
    missing = cli("delete-key", "-k", "nope", check=False)
    assert missing.returncode == 6
    lines = missing.stderr.splitlines()
    assert lines[-2] == "Error: PsaErrorDoesNotExist (1140): the key does not exist " \
                        "[PsaDestroyKey]"
    assert lines[-1].startswith("Hint: keys belong to one application")
    cli("create-ecc-key", "-k", "dup")
    dup = cli("create-ecc-key", "-k", "dup", check=False)
    assert dup.returncode == 7 and "PsaErrorAlreadyExists (1139)" in dup.stderr
    not_exportable = cli("export-key", "-k", "dup", check=False)
    assert not_exportable.returncode == 5
    assert "PsaErrorNotPermitted (1133)" in not_exportable.stderr
    wrong = cli("sign", "-k", "nope", "data", check=False)
    assert wrong.returncode == 6
    usage = cli("sign", "data", check=False)
    assert usage.returncode == 2 and "Missing option '-k'" in usage.stderr


def test_wrong_key_algorithm(cli: Cli) -> None:
    cli("create-rsa-key", "-k", "enc", "-b", "1024")
    res = cli("sign", "-k", "enc", "data", check=False)
    assert res.returncode == 5
    assert res.stderr.splitlines()[-2].startswith("Error: WrongKeyAlgorithm: key 'enc' is not a "
                                                  "signing key")


def test_quiet(cli: Cli) -> None:
    res = cli("-q", "create-ecc-key", "-k", "q")
    assert res.stderr == ""
    assert "[INFO ] Key \"r\" created." in cli("create-ecc-key", "-k", "r").stderr


def test_app_name_default_and_environment(cli: Cli) -> None:
    name = f"{cli.app}-env"
    cli("create-ecc-key", "-k", "by-env", app=None, env={"PQPARSEC_APP_NAME": name})
    assert [k.name for k in cli.client(name).list_keys()] == ["by-env"]
    # Without --app-name or the variable, the identity is parsec-tool's.
    tool_client = cli.client("parsec-tool")
    tool_client.generate_key(f"{cli.app}-made-by-client", templates.ecc_signing())
    try:
        assert f"{cli.app}-made-by-client" in cli("list-keys", app=None).stdout
    finally:
        tool_client.destroy_key(f"{cli.app}-made-by-client")


# -- shell completion ---------------------------------------------------------------------------

def test_completion_scripts(cli: Cli) -> None:
    bash = cli("completion", "bash", app=None).stdout
    assert "_PQPARSEC_COMPLETE=bash_complete" in bash and "complete -o nosort -F" in bash
    assert "compdef" in cli("completion", "zsh", app=None).stdout
    assert "complete --no-files --command pqparsec" in cli("completion", "fish", app=None).stdout
    from_shell = cli("completion", app=None, env={"SHELL": "/usr/bin/zsh"}).stdout
    assert "compdef" in from_shell
    assert cli("completion", app=None, env={"SHELL": "/bin/sh"}, check=False).returncode == 2


def test_completion_protocol_completes_commands_and_options(cli: Cli) -> None:
    env = {"_PQPARSEC_COMPLETE": "bash_complete", "COMP_WORDS": "pqparsec create-",
           "COMP_CWORD": "1"}
    words = [line.split(",", 1)[1] for line in cli(app=None, env=env).lines]
    assert words == ["create-csr", "create-ecc-key", "create-ed25519-key", "create-mldsa-key",
                     "create-mlkem-key", "create-rsa-key", "create-slhdsa-key",
                     "create-symmetric-key"]
    env = {"_PQPARSEC_COMPLETE": "bash_complete", "COMP_WORDS": "pqparsec create-rsa-key --f",
           "COMP_CWORD": "2"}
    words = [line.split(",", 1)[1] for line in cli(app=None, env=env).lines]
    assert words == ["--for-signing", "--for-signing-pss"]


def test_help_lists_parsec_tool_commands(cli: Cli) -> None:
    out = cli("--help", app=None).stdout
    for cmd in ("ping", "list-providers", "list-authenticators", "list-opcodes", "list-keys",
                "list-clients", "delete-client", "generate-random", "create-rsa-key",
                "create-ecc-key", "sign", "encrypt", "decrypt", "export-public-key",
                "delete-key", "create-csr", "import-key", "verify", "hash", "export-key",
                "aead-encrypt", "aead-decrypt", "mac", "key-agreement", "can-do-crypto",
                "completion", "serve"):
        assert re.search(rf"^  {re.escape(cmd)}\s", out, re.M), cmd
    assert "Exit codes:" in out
    assert os.access(cli.exe, os.X_OK)


def test_no_permission_names_the_clients_group(cli: Cli, tmp_path: Path) -> None:
    """A caller who may not enter the socket's directory is told about the group, not asked
    whether the service runs (it does: something listens there). The CLI runs as root without
    the capabilities that bypass file permissions, so it still reads its own venv wherever the
    checkout is (a checkout under /root is closed to other users)."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the CLI without CAP_DAC_OVERRIDE")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    path = private / "parsec.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(path))
        listener.listen()
        os.chown(private, 65534, 65534)  # another user's 0700 directory
        res = subprocess.run(["setpriv", "--bounding-set=-dac_override,-dac_read_search",
                              cli.exe, "--endpoint", f"unix:{path}", "ping"],
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert res.returncode == 3, res.stderr
    assert res.stderr.splitlines() == [
        f"Error: ConnectionError: no permission to connect to {path}",
        "Hint: this user may not reach the socket: is the user in the group allowed to connect "
        "(parsec-clients for the system service)? A new group membership takes effect at the "
        "next login"]
