"""Issue 12, the CLI tried as a new user would: hints name the identity the service uses,
list-keys says when extension keys are hidden, an unknown -p, WrongKeyAlgorithm's exit class,
and an endpoint of another scheme."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pqptest.cli import Cli, pqparsec_executable
from pqptest.service import ServiceProcess

from pqparsec.client import BasicClient, TransportError, UnsupportedEndpoint


@pytest.fixture(scope="module")
def peer_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A service with the Unix peer credentials authenticator (admin: uid 4242, not us)."""
    svc = ServiceProcess(str(tmp_path_factory.mktemp("svc-upc")), auth_type="UnixPeerCredentials",
                         admins=["4242"])
    svc.start()
    yield svc
    svc.stop()


@pytest.fixture
def peer_cli(peer_service: ServiceProcess, tmp_path: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if k != "PQPARSEC_APP_NAME"}
    env.update({"PARSEC_SERVICE_ENDPOINT": peer_service.endpoint,
                "XDG_DATA_HOME": str(tmp_path / "xdg")})
    return Cli(pqparsec_executable(), peer_service.endpoint, "unused", env)


# -- 1. hints name the identity the service uses --------------------------------------------------

def test_hints_name_the_uid_under_unix_peer_credentials(peer_cli: Cli) -> None:
    uid = os.getuid()
    missing = peer_cli("delete-key", "-k", "issue12-none", app=None, check=False)
    assert missing.returncode == 6
    assert missing.stderr.splitlines()[-1] == (
        f"Hint: keys belong to one application (here uid {uid}); `pqparsec list-keys` lists "
        "its keys")
    admin = peer_cli("list-clients", app=None, check=False)
    assert admin.returncode == 4
    assert admin.stderr.splitlines()[-1] == (
        f"Hint: only the admins named in the service's config may do this (you are uid {uid}); "
        "run the command as one of those users (admins are named by uid)")
    # --app-name changes nothing under this authenticator, and the hints do not claim it does.
    named = peer_cli("delete-key", "-k", "issue12-none", app="someone", check=False)
    assert f"(here uid {uid})" in named.stderr
    assert "parsec-tool" not in missing.stderr + admin.stderr + named.stderr
    assert "someone" not in named.stderr


def test_hints_name_the_application_under_direct(cli: Cli) -> None:
    missing = cli("delete-key", "-k", "none", check=False)
    assert f"(here {cli.app!r})" in missing.stderr.splitlines()[-1]
    admin = cli("list-clients", check=False)
    assert admin.stderr.splitlines()[-1] == (
        f"Hint: only the admins named in the service's config may do this (you are {cli.app!r}); "
        "pass an admin's name with --app-name")


# -- 2. list-keys says when extension keys are hidden -------------------------------------------

def test_list_keys_counts_the_hidden_extension_keys(cli: Cli) -> None:
    cli("create-ed25519-key", "-k", "ed")
    only_ext = cli("list-keys")
    assert only_ext.stdout == ""
    assert "No keys currently available" not in only_ext.stderr
    assert only_ext.stderr.splitlines() == [
        "[INFO ] No keys a Parsec client can list; 1 post-quantum or EdDSA key (pqparsec "
        "protocol extension) is hidden: `pqparsec list-keys --extensions` lists it."]
    cli("create-mldsa-key", "-k", "ml")
    cli("create-ecc-key", "-k", "ecc")
    mixed = cli("list-keys")
    assert [ln.split(" ")[1] for ln in mixed.lines] == ["ecc"]
    assert mixed.stderr.splitlines()[-1] == (
        "[INFO ] Not listed: 2 post-quantum or EdDSA keys (pqparsec protocol extension) are "
        "hidden: `pqparsec list-keys --extensions` lists them.")
    every = cli("list-keys", "--extensions")
    assert sorted(ln.split(" ")[1] for ln in every.lines) == ["ecc", "ed", "ml"]
    assert "hidden" not in every.stderr
    assert cli("-q", "list-keys").stderr == ""


# -- 3. an unknown provider ID ----------------------------------------------------------------------

def test_unknown_provider_id_names_the_service_providers(cli: Cli) -> None:
    for argv in (("-p", "7", "list-keys"), ("-p", "7", "create-ecc-key", "-k", "k")):
        res = cli(*argv, check=False)
        assert res.returncode == 8, res.stderr
        assert res.stderr.splitlines()[-2:] == [
            "Error: ProviderDoesNotExist: there is no provider with ID 7 (Parsec defines IDs 0 "
            "to 5)",
            "Hint: this service runs 1 (Mbed Crypto provider), 0 (Core provider): choose one "
            "with -p ID"]
    # A known ID the service does not run: the service's answer, the same hint.
    absent = cli("-p", "3", "create-ecc-key", "-k", "k", check=False)
    assert absent.returncode == 8
    assert absent.stderr.splitlines()[-2:] == [
        "Error: ProviderNotRegistered (5): no provider registered for the requested provider ID "
        "[PsaGenerateKey]",
        "Hint: this service runs 1 (Mbed Crypto provider), 0 (Core provider): choose one with "
        "-p ID"]


def test_unknown_provider_id_without_a_service_names_the_known_ids(cli: Cli,
                                                                   tmp_path: Path) -> None:
    res = cli("-p", "9", "list-keys", check=False,
              env={"PARSEC_SERVICE_ENDPOINT": f"unix:{tmp_path}/none.sock"})
    assert res.returncode == 8
    assert res.stderr.splitlines()[-1] == (
        "Hint: Parsec's providers are 0 (Core provider), 1 (Mbed Crypto provider), 2 (PKCS #11 "
        "provider), 3 (TPM provider), 4 (Trusted Service provider), 5 (CryptoAuthentication "
        "Library provider): choose one with -p ID")


# -- 4. WrongKeyAlgorithm's exit class ------------------------------------------------------------

def test_wrong_key_algorithm_exits_not_permitted(cli: Cli) -> None:
    cli("create-rsa-key", "-k", "enc", "-b", "1024")
    for argv in (("sign", "-k", "enc", "data"), ("create-csr", "-k", "enc", "--cn", "x")):
        res = cli(*argv, check=False)
        assert res.returncode == 5, res.stderr
        assert res.stderr.splitlines()[-2].startswith("Error: WrongKeyAlgorithm: ")
    cli("create-ecc-key", "-k", "ecc")
    pkcs1 = cli("export-public-key", "-k", "ecc", "--pkcs1", check=False)
    assert pkcs1.returncode == 5 and "WrongKeyAlgorithm" in pkcs1.stderr
    assert "WrongKeyAlgorithm" in cli("--help", app=None).stdout.split("Exit codes:")[1]


# -- 5. endpoints of another scheme -------------------------------------------------------------

@pytest.mark.parametrize(("endpoint", "reason", "hint"), [
    ("tcp://localhost:1234", "the tcp: scheme is not supported, only unix:/path/to/socket",
     "a Parsec service listens on a Unix socket: give its path as unix:/path/to/socket"),
    ("/run/parsec/parsec.sock", "it has no scheme, expected unix:/path/to/socket",
     "did you mean unix:/run/parsec/parsec.sock?"),
    ("unix:", "it names no socket path",
     "a Parsec service listens on a Unix socket: give its path as unix:/path/to/socket"),
])
def test_unsupported_endpoint_scheme(cli: Cli, endpoint: str, reason: str, hint: str) -> None:
    for res in (cli("--endpoint", endpoint, "ping", check=False),
                cli("ping", check=False, env={"PARSEC_SERVICE_ENDPOINT": endpoint})):
        assert res.returncode == 3
        assert res.stderr.splitlines() == [
            f"Error: UnsupportedEndpoint: unsupported endpoint {endpoint!r}: {reason}",
            f"Hint: {hint} (set it with --endpoint or PARSEC_SERVICE_ENDPOINT; the system "
            "service's is unix:/run/parsec/parsec.sock)"]


def test_client_library_raises_unsupported_endpoint() -> None:
    with pytest.raises(UnsupportedEndpoint) as info:
        BasicClient(endpoint="tcp://localhost:1234")
    assert isinstance(info.value, TransportError)
    assert info.value.endpoint == "tcp://localhost:1234"
    assert "tcp: scheme is not supported" in str(info.value)
