"""A fair share per client (issue 13): one Unix user flooding the service with stalled connections
does not delay another user's requests.

The service counts connections per peer uid (SO_PEERCRED at accept): at most
core_settings.max_connections_per_client of one uid are served at once, the rest are parked
unread (up to max_parked_per_client, beyond which they are closed at once). The flood comes from
this process (root); the other client is a forked child that drops to `nobody` before it connects
(it cannot exec the venv's interpreter: the checkout may be under /root, 0700).

Run with -s to see the figures.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import resource
import select
import shutil
import signal
import socket
import statistics
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pqptest.service import ServiceProcess, public_tmpdir, wait_for
from pqptest.wire import read_until_eof, wire_request

from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.status import ResponseStatus as S
from pqparsec.service.config import CoreSettings

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root to run a client as another Unix user")

PING = wire_request(Opcode.PING)
PING_BODY = b"\x08\x01"  # wire protocol version 1.0

# The figure.
FLOOD = 1500
FLOOD_TIMEOUT_MS = 3000
PING_SECONDS = 7.0  # covers two rounds of the flood's served connections timing out
P99_LIMIT_S = 0.100


def nobody() -> pwd.struct_passwd:
    return pwd.getpwnam("nobody")


def status_of(reply: bytes) -> int | None:
    return int.from_bytes(reply[32:34], "little") if len(reply) >= 36 else None


def fd_room(n: int) -> None:
    """Let this process hold n more open files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = n + 1024
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (need, hard if hard == resource.RLIM_INFINITY else max(hard, need)))


def stalled(path: str, first: bytes = b"\x10") -> socket.socket:
    """A connection that sends the start of a request and then waits."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10.0)
    s.connect(path)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # closed unread at once
        s.sendall(first)
    return s


def reset(s: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0) instead of an orderly shutdown."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def readable(socks: list[socket.socket], timeout_s: float) -> set[int]:
    """The file descriptors among socks that are readable (poll: they may be above 1023)."""
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    return {fd for fd, _ in poller.poll(timeout_s * 1000)}


def readable_fd(fd: int, timeout_s: float) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(timeout_s * 1000))


def pending(s: socket.socket) -> bool:
    """Neither answered nor closed by the service yet."""
    return not readable([s], 0)


def ping_within(path: str, timeout: float) -> int | None:
    """Ping on a new connection; its status, or None if no answer came within timeout."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(PING)
        try:
            return status_of(read_until_eof(s))
        except TimeoutError:
            return None


class Pinger:
    """A forked child running as `nobody` that, when told to, pings in a loop (one connection
    per ping, raw wire) for a given time and reports each latency and any error."""

    def __init__(self, path: str, seconds: float, per_ping_timeout: float = 5.0) -> None:
        user = nobody()
        go_r, self._go = os.pipe()
        self._out, out_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # child
            code = 0
            try:
                os.close(self._go)
                os.close(self._out)
                os.setgroups([])
                os.setgid(user.pw_gid)
                os.setuid(user.pw_uid)
                assert os.getuid() == user.pw_uid
                os.read(go_r, 1)
                result = self._ping_loop(path, seconds, per_ping_timeout)
                data = json.dumps(result).encode()
                while data:
                    data = data[os.write(out_w, data):]
            except BaseException as exc:
                with contextlib.suppress(BaseException):
                    os.write(out_w, json.dumps({"fatal": repr(exc)}).encode())
                code = 1
            finally:
                os._exit(code)
        os.close(go_r)
        os.close(out_w)

    @staticmethod
    def _ping_loop(path: str, seconds: float, timeout: float) -> dict[str, Any]:
        latencies: list[float] = []
        errors: list[str] = []
        slowest: list[tuple[float, float]] = []  # (when, latency) of the slowest pings
        start = time.monotonic()
        end = start + seconds
        while time.monotonic() < end:
            t0 = time.monotonic()
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(timeout)
                    s.connect(path)
                    s.sendall(PING)
                    reply = read_until_eof(s)
            except OSError as exc:  # TimeoutError included
                errors.append(f"{exc!r} after {time.monotonic() - t0:.2f} s")
                continue
            if status_of(reply) != S.SUCCESS or reply[36:] != PING_BODY:
                errors.append(f"unexpected reply {reply.hex()}")
                continue
            latency = time.monotonic() - t0
            latencies.append(latency)
            if latency > 0.010:
                slowest.append((round(t0 - start, 3), round(latency, 4)))
        return {"latencies": latencies, "errors": errors, "uid": os.getuid(),
                "slowest": sorted(slowest, key=lambda x: -x[1])[:10]}

    def go(self) -> None:
        os.write(self._go, b"g")
        os.close(self._go)

    def result(self, timeout: float) -> dict[str, Any]:
        data = b""
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not readable_fd(self._out, left):
                    os.kill(self.pid, signal.SIGKILL)
                    raise AssertionError("the pinging child did not report in time")
                chunk = os.read(self._out, 1 << 16)
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(self._out)
            os.waitpid(self.pid, 0)
        result: dict[str, Any] = json.loads(data)
        assert "fatal" not in result, f"pinging child failed: {result['fatal']}"
        return result


@dataclass
class FloodFigures:
    opened_s: float  # time to open the whole flood
    pings: int
    errors: list[str]
    p50_ms: float
    p99_ms: float
    max_ms: float
    still_waiting: int  # flood connections neither answered nor closed when the pings ended
    closed_unread: int  # closed by the service without an answer (over max_parked)
    answered: int

    def __str__(self) -> str:
        return (f"flood of {FLOOD} stalled connections (uid 0) opened in {self.opened_s:.2f} s; "
                f"uid {nobody().pw_uid} pinged {self.pings} times in {PING_SECONDS:g} s: "
                f"p50 {self.p50_ms:.2f} ms, p99 {self.p99_ms:.2f} ms, max {self.max_ms:.2f} ms, "
                f"{len(self.errors)} errors {self.errors[:3]}; flood connections at the end: "
                f"{self.still_waiting} waiting, {self.answered} answered, "
                f"{self.closed_unread} closed unread")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def flood_and_ping(path: str) -> tuple[FloodFigures, list[socket.socket]]:
    """Open the flood from this process while a `nobody` child pings; returns the figures and
    the flood's sockets (still open: the caller closes them)."""
    fd_room(FLOOD)
    pinger = Pinger(path, PING_SECONDS)  # forked before the flood: it holds none of its sockets
    flood: list[socket.socket] = []
    try:
        t0 = time.monotonic()
        for i in range(FLOOD):
            # A few bad requests among them: answered with an error when their turn comes.
            flood.append(stalled(path, b"\0" * 36 if i % 100 == 99 else b"\x10"))
        opened = time.monotonic() - t0
        pinger.go()
        result = pinger.result(PING_SECONDS + 30)
        print("slowest pings (s after start, latency s):", result["slowest"])
    except BaseException:
        for s in flood:
            s.close()
        raise
    waiting = answered = closed = 0
    for s in flood:
        if pending(s):
            waiting += 1
            continue
        s.settimeout(0.5)
        try:
            reply = read_until_eof(s)
        except TimeoutError:  # part of an answer: count it as answered
            reply = b"?" * 36
        if reply:
            answered += 1
        else:
            closed += 1
    lat = [x * 1000 for x in result["latencies"]]
    figures = FloodFigures(opened, len(lat), result["errors"],
                           statistics.median(lat) if lat else float("nan"),
                           percentile(lat, 0.99), max(lat, default=float("nan")), waiting, closed,
                           answered)
    return figures, flood


def assert_full_share(path: str, share: int, timeout_s: float) -> None:
    """uid 0 has exactly `share` connections to use: with share - 1 of them stalled a further
    request is answered at once; with all of them stalled it waits (parked) until one times out."""
    for stalls, answered in ((share - 1, True), (share, False)):
        held = [stalled(path) for _ in range(stalls)]
        try:
            time.sleep(0.05)  # so the service takes the stalled ones before the request
            if answered:
                assert ping_within(path, 0.8 * timeout_s) == S.SUCCESS, \
                    "a slot of the share is still counted as taken"
            else:
                assert ping_within(path, 0.5 * timeout_s) is None, "more than the share was served"
        finally:
            for s in held:
                s.close()
        # Closing the stalled ones frees the share at once (no need to wait for their timeout).
        wait_for(lambda: ping_within(path, 1.0) == S.SUCCESS, timeout=10)


@pytest.fixture(scope="module")
def nobody_user() -> pwd.struct_passwd:
    try:
        return nobody()
    except KeyError:
        pytest.skip("no user named nobody")


def make_service(prefix: str, **config: Any) -> Iterator[ServiceProcess]:
    tmp = public_tmpdir(prefix)  # 0755: nobody must reach the socket
    svc = ServiceProcess(tmp, **config)
    svc.start()
    try:
        yield svc
    finally:
        svc.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def flood_svc(nobody_user: pwd.struct_passwd) -> Iterator[ServiceProcess]:
    # Default core settings (max_connections 256, share 64, max_parked 1024): the safe default.
    # One worker process: the share is counted per worker.
    yield from make_service("pqp-flood-", listener={"timeout": FLOOD_TIMEOUT_MS},
                            core={"log_level": "info", "workers": 1})


def test_a_flood_from_one_uid_does_not_delay_another(flood_svc: ServiceProcess) -> None:
    path = flood_svc.socket_path
    figures, flood = flood_and_ping(path)
    print(f"\n{figures}")
    try:
        # The flood was effective: most of it still waits when the pings end.
        assert figures.still_waiting > FLOOD // 2
        assert figures.errors == []
        assert figures.pings > 0
        assert figures.p99_ms < P99_LIMIT_S * 1000, str(figures)
    finally:
        # Half closed in order, half reset: served, parked and refused ones alike.
        for i, s in enumerate(flood):
            if i % 2:
                reset(s)
            else:
                s.close()
    # Once the flood is gone (its parked connections served in turn, each finding its client
    # gone), uid 0 has its whole share again.
    wait_for(lambda: ping_within(path, 1.0) == S.SUCCESS, timeout=30)
    assert_full_share(path, CoreSettings().client_share, FLOOD_TIMEOUT_MS / 1000)
    log = flood_svc.log()
    assert "connection(s) of uid 0 unread" in log  # over max_parked, logged...
    assert log.count("connection(s) of uid 0 unread") < 10  # ...not per connection
    assert "Traceback" not in log


# A small service to look at the parts closely.
SHARE = 2
PARKED = 3
TIMEOUT_MS = 2000


@pytest.fixture(scope="module")
def small_svc(nobody_user: pwd.struct_passwd) -> Iterator[ServiceProcess]:
    yield from make_service("pqp-share-", listener={"timeout": TIMEOUT_MS},
                            core={"max_connections": 8, "max_connections_per_client": SHARE,
                                  "max_parked_per_client": PARKED, "workers": 1})


def open_in_order(path: str, firsts: list[bytes]) -> list[socket.socket]:
    out = []
    for first in firsts:
        out.append(stalled(path, first))
        time.sleep(0.05)  # so the service takes them in this order
    return out


def test_beyond_max_parked_connections_are_closed_while_another_uid_is_served(
        small_svc: ServiceProcess) -> None:
    path = small_svc.socket_path
    conns = open_in_order(path, [b"\x10"] * (SHARE + PARKED + 3))
    try:
        # The three beyond share + max_parked are closed unread, at once.
        wait_for(lambda: sum(not pending(s) for s in conns) == 3, timeout=TIMEOUT_MS / 1000)
        for s in conns[SHARE + PARKED:]:
            assert not pending(s)
            s.settimeout(1.0)
            assert read_until_eof(s) == b""
        assert all(pending(s) for s in conns[:SHARE + PARKED])
        # Meanwhile another uid is served at once, again and again.
        pinger = Pinger(path, 0.5)
        pinger.go()
        report = pinger.result(20)
        assert report["errors"] == [] and report["latencies"]
        # (had it waited for a slot, a ping would have taken a listener timeout)
        assert max(report["latencies"]) < TIMEOUT_MS / 1000
        assert report["uid"] == nobody().pw_uid
        # Still nothing for the parked ones: they are not served beyond the share.
        assert all(pending(s) for s in conns[SHARE:SHARE + PARKED])
    finally:
        for s in conns:
            s.close()
    assert "closed 1 connection(s) of uid 0 unread" in small_svc.log()
    wait_for(lambda: ping_within(path, 1.0) == S.SUCCESS, timeout=10)


def test_parked_connections_are_served_in_order(small_svc: ServiceProcess) -> None:
    path = small_svc.socket_path
    # Two stalled ones take the share; behind them two more stalled ones, then a good request.
    conns = open_in_order(path, [b"\x10"] * 4 + [PING])
    done: dict[int, tuple[float, int | None]] = {}
    t0 = time.monotonic()
    try:
        left = set(range(len(conns)))
        while left and time.monotonic() - t0 < 3 * TIMEOUT_MS / 1000 + 5:
            ready = readable([conns[i] for i in left], 0.5)
            for i in list(left):
                if conns[i].fileno() in ready:
                    conns[i].settimeout(2.0)
                    done[i] = (time.monotonic() - t0, status_of(read_until_eof(conns[i])))
                    left.discard(i)
    finally:
        for s in conns:
            s.close()
    assert sorted(done) == [0, 1, 2, 3, 4], done
    assert [done[i][1] for i in range(4)] == [S.CONNECTION_ERROR] * 4  # the stalled ones timed out
    assert done[4][1] == S.SUCCESS  # the good request of the flooding uid succeeds
    timeout_s = TIMEOUT_MS / 1000
    # The first two timed out a listener timeout after they were sent; the two parked behind
    # them, a full listener timeout after they were served (not after they were parked).
    assert max(done[0][0], done[1][0]) < 2 * timeout_s - 0.2
    assert min(done[2][0], done[3][0]) > 2 * timeout_s - 0.2
    # The request, parked after those two, was served after one of them had its turn.
    assert done[4][0] > 2 * timeout_s - 0.2


def test_every_way_out_gives_the_slot_back(small_svc: ServiceProcess) -> None:
    path = small_svc.socket_path
    big = wire_request(Opcode.PING, body=b"", body_len=1 << 30)
    for _ in range(2):
        # Served ones: a client reset mid-request, a bad header (an error answer), a body over
        # the limit, a connection closed without a request, a good request; then two stalled ones
        # to fill the share, with parked ones behind them: one reset, one closed, one whose client
        # goes away after sending a whole request; and one beyond max_parked (closed at once).
        s = stalled(path)
        reset(s)
        for data in (b"\0" * 36, big, PING):
            with contextlib.closing(stalled(path, data)) as s:
                s.settimeout(5)
                assert status_of(read_until_eof(s)) is not None
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unused:
            unused.connect(path)
        share = open_in_order(path, [b"\x10"] * SHARE)
        parked = open_in_order(path, [b"\x10", b"\x10", PING, b"\x10"])
        assert pending(parked[0])
        reset(parked[0])
        parked[1].close()
        parked[2].close()
        # The share's stalled ones time out, the parked ones find their clients gone, and the
        # last one, alone with them, waits for its own timeout.
        share[0].settimeout(5)
        assert status_of(read_until_eof(share[0])) == S.CONNECTION_ERROR
        for s in share + parked[3:]:
            s.close()
        wait_for(lambda: ping_within(path, 1.0) == S.SUCCESS, timeout=10)
    assert_full_share(path, SHARE, TIMEOUT_MS / 1000)
    assert "Traceback" not in small_svc.log()
