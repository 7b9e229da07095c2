"""Parked connections hold open files: the listener raises its soft limit on open files to the
hard limit at start, so a service started with a low soft limit still parks more connections than
that limit (the fairness tests with two Unix users are in tests/reliability/test_rel_fairness.py)."""

from __future__ import annotations

import os
import resource
import socket
from collections.abc import Iterator

import pytest
from pqptest.service import ServiceProcess, wait_for
from pqptest.wire import read_until_eof, wire_request

from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.status import ResponseStatus as S

LOW = 256  # the soft limit the service is started with
PARKED = 400  # connections held, parked: well beyond LOW


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture
def low_limit_svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert hard == resource.RLIM_INFINITY or hard >= PARKED + 512, \
        f"the hard limit on open files ({hard}) is too low for this test"
    # max_connections 4: a share of one connection per uid; the listener timeout leaves the
    # stalled connections parked for the whole test.
    svc = ServiceProcess(str(tmp_path_factory.mktemp("fdlimit")), core={"max_connections": 4, "workers": 1},
                         listener={"timeout": 10_000})
    resource.setrlimit(resource.RLIMIT_NOFILE, (LOW, hard))  # inherited by the service
    try:
        svc.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    yield svc
    svc.stop()


def test_parked_connections_beyond_the_soft_limit_on_open_files(
        low_limit_svc: ServiceProcess) -> None:
    svc = low_limit_svc
    assert svc.proc is not None
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert f"open file limit raised from {LOW} to {hard}" in svc.log()
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < PARKED + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (PARKED + 256, hard))
    conns = []
    try:
        for _ in range(PARKED):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conns.append(s)
            s.connect(svc.socket_path)
            s.sendall(b"\x10")  # the start of a request, then nothing
        # All accepted (one served, the rest parked), each holding an open file in the service:
        # far more than the soft limit it was started with.
        pid = svc.proc.pid
        wait_for(lambda: open_files(pid) >= PARKED, timeout=10)
    finally:
        for s in conns:
            s.close()
    assert "accept failed" not in svc.log()

    def pinged() -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2.0)
            s.connect(svc.socket_path)
            s.sendall(wire_request(Opcode.PING))
            try:
                reply = read_until_eof(s)
            except TimeoutError:
                return False
            return int.from_bytes(reply[32:34], "little") == S.SUCCESS

    # The flood gone, the parked connections are served in turn (finding their clients gone)
    # and requests are answered again.
    wait_for(pinged, timeout=20)
