"""core_settings.max_connections: connections beyond the limit wait, unread, for a free slot;
stalled clients that hold every slot delay others only until the listener timeout frees them, and
the service keeps serving."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from pqptest.service import ServiceProcess
from pqptest.wire import read_until_eof, send_raw, wire_request

from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.status import ResponseStatus as S

TIMEOUT_MS = 1500
LIMIT = 2


@pytest.fixture
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    # One client: its share is the whole limit, so this is about max_connections, not fairness.
    s = ServiceProcess(str(tmp_path_factory.mktemp("maxconn")),
                       core={"max_connections": LIMIT, "max_connections_per_client": LIMIT},
                       listener={"timeout": TIMEOUT_MS})
    s.start()
    yield s
    s.stop()


def test_connections_beyond_the_limit_wait_for_a_slot(svc: ServiceProcess) -> None:
    ping = wire_request(Opcode.PING)
    # Two clients send half a header and stall: they hold both slots.
    stalled = []
    for _ in range(LIMIT):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT_MS / 1000 + 5)
        s.connect(svc.socket_path)
        s.sendall(ping[:10])
        stalled.append(s)
    try:
        # A third, well-behaved client is accepted by the kernel but not read: no answer while
        # the slots are taken (well before the stalled ones time out).
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as waiting:
            waiting.connect(svc.socket_path)
            waiting.sendall(ping)
            waiting.settimeout(TIMEOUT_MS / 1000 / 3)
            with pytest.raises(TimeoutError):
                waiting.recv(1)
            # The stalled clients time out (ConnectionError), freeing their slots, and the
            # waiting request is then served normally.
            waiting.settimeout(TIMEOUT_MS / 1000 * 2 + 5)
            answer = read_until_eof(waiting)
        assert int.from_bytes(answer[32:34], "little") == S.SUCCESS
        assert answer[36:] == b"\x08\x01"
        for s in stalled:
            reply = read_until_eof(s)
            assert int.from_bytes(reply[32:34], "little") == S.CONNECTION_ERROR
    finally:
        for s in stalled:
            s.close()
    # With the slots free, requests are served at once.
    for _ in range(LIMIT + 2):
        assert send_raw(svc.socket_path, ping, timeout=5).status == S.SUCCESS
