"""Issue 12, the service log: a provider is named, not numbered, and another instance's start-up
probe of the socket is not logged as a rejected request."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from pqptest.service import ServiceProcess, run_serve, wait_for
from pqptest.wire import read_until_eof, unpack_wire_header

from pqparsec.client.errors import ProviderUnavailable
from pqparsec.protocol.ids import ProviderId

MakeService = Callable[..., ServiceProcess]


def test_failure_on_an_unconfigured_provider_names_it(make_service: MakeService) -> None:
    svc = make_service()  # the software provider only: no TPM provider
    client = svc.client("app", provider=ProviderId.TPM)
    offset = len(svc.log())
    with pytest.raises(ProviderUnavailable):
        client.destroy_key("k")
    line = wait_for(lambda: [ln for ln in svc.log()[offset:].splitlines()
                             if ln.startswith("INFO pqparsec.requests: PSA_DESTROY_KEY")])
    assert line == ["INFO pqparsec.requests: PSA_DESTROY_KEY on tpm-provider failed: "
                    "ProviderNotRegistered"]
    debug = [ln for ln in svc.log()[offset:].splitlines() if "opcode=PSA_DESTROY_KEY" in ln]
    assert debug and "provider=tpm-provider " in debug[0], debug


def test_second_instance_probe_is_not_logged_as_a_rejected_request(
        make_service: MakeService) -> None:
    first = make_service()
    offset = len(first.log())
    second = run_serve(first.config_path)  # the same config: the same socket path
    assert second.returncode != 0
    assert f"another service is already listening on {first.socket_path}" in second.stderr
    assert first.client("app").ping() == (1, 0)  # the first one still serves

    # The probe is a connection closed without a byte; wait until the first instance has
    # handled it (a debug line with the fix, the old "rejected request" line without it).
    def handled() -> list[str]:
        return [ln for ln in first.log()[offset:].splitlines()
                if "without a request" in ln or "rejected request" in ln]
    wait_for(handled)
    louder = [ln for ln in first.log()[offset:].splitlines() if not ln.startswith("DEBUG ")]
    assert louder == [], louder


def test_half_closed_empty_connection_still_gets_connection_error(
        make_service: MakeService) -> None:
    """Only the log line changes: a client that sends nothing and half-closes its side reads a
    ConnectionError response, as from Parsec (whose read of the preamble fails)."""
    svc = make_service()
    offset = len(svc.log())
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(svc.socket_path)
        s.shutdown(socket.SHUT_WR)
        reply = read_until_eof(s)
    assert unpack_wire_header(reply)["status"] == 15  # ConnectionError
    wait_for(lambda: "without a request" in svc.log()[offset:])
    assert "rejected request" not in svc.log()[offset:]
