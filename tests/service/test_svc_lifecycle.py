"""The service process: SIGHUP reload, SIGTERM, the socket file, socket activation, sd_notify."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pqptest.psa import ecc_p256_sign_attrs
from pqptest.service import ServiceProcess, render_config, run_serve, wait_for
from pqptest.wire import send_raw, wire_request

from pqparsec.client import BasicClient
from pqparsec.client.errors import ServiceError
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus as S

ALG = SignAlg(SignKind.ECDSA, Hash.SHA_256)
DIGEST = hashlib.sha256(b"lifecycle").digest()
MakeService = Callable[..., ServiceProcess]


def is_admin(c: BasicClient) -> bool:
    try:
        c.list_clients()
    except ServiceError as exc:
        assert exc.status == S.ADMIN_OPERATION
        return False
    return True


def log_since(svc: ServiceProcess, mark: int) -> str:
    return svc.log()[mark:]


# -- SIGHUP -------------------------------------------------------------------------------------

def test_sighup_applies_new_admins_and_keeps_keys(make_service: MakeService) -> None:
    svc = make_service(admins=["admin"])
    assert svc.proc is not None
    pid = svc.proc.pid
    alice, admin = svc.client("alice"), svc.client("admin")
    alice.generate_key("k", ecc_p256_sign_attrs())
    pub = alice.export_public_key("k")
    assert is_admin(admin) and not is_admin(alice)

    svc.write_config(admins=["alice"])
    svc.signal(signal.SIGHUP)
    wait_for(lambda: is_admin(alice), timeout=10)
    assert not is_admin(admin)
    assert svc.proc is not None and svc.proc.pid == pid and svc.proc.poll() is None  # no restart
    # keys survive the reload
    assert [k.name for k in alice.list_keys()] == ["k"]
    assert alice.export_public_key("k") == pub
    alice.verify_hash("k", ALG, DIGEST, alice.sign_hash("k", ALG, DIGEST))
    assert "configuration reloaded" in svc.log()


def test_sighup_applies_log_level(make_service: MakeService) -> None:
    svc = make_service(core={"log_level": "debug"})
    mark = len(svc.log())
    svc.client("x").ping()
    wait_for(lambda: "opcode=PING" in log_since(svc, mark), timeout=5)

    svc.write_config(core={"log_level": "info"})
    svc.signal(signal.SIGHUP)
    wait_for(lambda: "configuration reloaded" in svc.log(), timeout=10)
    mark = len(svc.log())
    for _ in range(3):
        svc.client("x").ping()
    svc.client("x").generate_random(8)
    time.sleep(0.3)
    assert "opcode=PING" not in log_since(svc, mark)
    assert "DEBUG" not in log_since(svc, mark)


def test_sighup_applies_body_len_limit(make_service: MakeService) -> None:
    svc = make_service()
    body = b"\x12\x00" + b"\x12\x00" * 99  # 200 bytes of empty field-2 entries: a valid Ping body
    assert send_raw(svc.socket_path, wire_request(Opcode.PING, body)).status == S.SUCCESS
    svc.write_config(core={"body_len_limit": 100})
    svc.signal(signal.SIGHUP)
    wait_for(lambda: send_raw(svc.socket_path, wire_request(Opcode.PING, body)).status
             == S.BODY_SIZE_EXCEEDS_LIMIT, timeout=10)
    assert send_raw(svc.socket_path, wire_request(Opcode.PING, body[:100])).status == S.SUCCESS


@pytest.mark.parametrize("breakage", ["bad_value", "unknown_key", "not_toml", "missing_listener",
                                      "missing_file"])
def test_broken_config_on_sighup_keeps_the_old_one(make_service: MakeService, breakage: str) -> None:
    svc = make_service(admins=["admin"])
    alice, admin = svc.client("alice"), svc.client("admin")
    alice.generate_key("k", ecc_p256_sign_attrs())
    good = Path(svc.config_path).read_text()
    bad = {
        "bad_value": render_config(svc.tmp, admins=["alice"], core={"log_level": "loud"}),
        "unknown_key": render_config(svc.tmp, admins=["alice"]) + "[bogus_table]\nx = 1\n",
        "not_toml": "this is [not TOML\n",
        "missing_listener": "\n".join(line for line in render_config(svc.tmp).splitlines()
                                      if not line.startswith(("[listener]", "listener_type",
                                                              "timeout", "socket_path"))) + "\n",
        "missing_file": None,
    }[breakage]
    if bad is None:
        os.unlink(svc.config_path)
    else:
        Path(svc.config_path).write_text(bad)
    mark = len(svc.log())
    svc.signal(signal.SIGHUP)
    wait_for(lambda: "reload failed" in log_since(svc, mark), timeout=10)
    # still running, with the old configuration
    assert svc.proc is not None and svc.proc.poll() is None
    assert is_admin(admin) and not is_admin(alice)
    alice.sign_hash("k", ALG, DIGEST)
    # and a fixed config is picked up by the next SIGHUP
    Path(svc.config_path).write_text(good.replace('name = "admin"', 'name = "alice"'))
    svc.signal(signal.SIGHUP)
    wait_for(lambda: is_admin(alice), timeout=10)


def test_sighup_under_load(make_service: MakeService) -> None:
    """Requests in flight during reloads are all answered correctly."""
    svc = make_service()
    c = svc.client("busy")
    c.generate_key("k", ecc_p256_sign_attrs())
    stop = threading.Event()
    errors: list[str] = []
    counts = [0]

    def load() -> None:
        while not stop.is_set():
            try:
                c.verify_hash("k", ALG, DIGEST, c.sign_hash("k", ALG, DIGEST))
                counts[0] += 1
            except Exception as exc:
                errors.append(repr(exc))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(5):
            svc.write_config(core={"log_level": "info" if i % 2 else "debug"})
            svc.signal(signal.SIGHUP)
            time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors, errors[:3]
    assert counts[0] > 10
    assert svc.log().count("configuration reloaded") >= 1


# -- SIGTERM ------------------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_exits_0_and_removes_the_socket(make_service: MakeService, sig: int) -> None:
    svc = make_service()
    assert svc.proc is not None
    assert os.path.exists(svc.socket_path)
    svc.proc.send_signal(sig)
    assert svc.proc.wait(15) == 0
    assert not os.path.exists(svc.socket_path)
    assert "stopped" in svc.log()


def test_sigterm_with_a_stalled_client(make_service: MakeService) -> None:
    svc = make_service(listener={"timeout": 1000})
    assert svc.proc is not None
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(svc.socket_path)
        s.sendall(wire_request(Opcode.PING)[:10])
        t0 = time.monotonic()
        svc.proc.send_signal(signal.SIGTERM)
        assert svc.proc.wait(15) == 0
        assert time.monotonic() - t0 < 8
    assert not os.path.exists(svc.socket_path)


def test_keys_survive_a_restart(make_service: MakeService) -> None:
    svc = make_service()
    c = svc.client("persist")
    c.generate_key("k", ecc_p256_sign_attrs())
    pub = c.export_public_key("k")
    assert svc.stop() == 0
    svc.start()
    assert c.export_public_key("k") == pub
    c.verify_hash("k", ALG, DIGEST, c.sign_hash("k", ALG, DIGEST))


# -- the socket file ----------------------------------------------------------------------------

def test_socket_mode_is_0666(make_service: MakeService) -> None:
    svc = make_service()
    assert os.stat(svc.socket_path).st_mode & 0o777 == 0o666


def test_stale_socket_is_replaced(make_service: MakeService) -> None:
    svc = make_service(start=False)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(svc.socket_path)
    stale.close()  # the file stays, nobody listens
    assert os.path.exists(svc.socket_path)
    svc.start()
    assert svc.client("x").ping() == (1, 0)


def test_non_socket_file_is_refused(make_service: MakeService) -> None:
    svc = make_service(start=False)
    svc.write_config()
    Path(svc.socket_path).write_text("precious data")
    run = run_serve(svc.config_path)
    assert run.returncode != 0
    assert svc.socket_path in run.stderr and "not a socket" in run.stderr, run.stderr
    assert Path(svc.socket_path).read_text() == "precious data"


def test_directory_at_socket_path_is_refused(make_service: MakeService) -> None:
    svc = make_service(start=False)
    svc.write_config()
    os.mkdir(svc.socket_path)
    run = run_serve(svc.config_path)
    assert run.returncode != 0 and svc.socket_path in run.stderr, run.stderr
    assert os.path.isdir(svc.socket_path)


def test_socket_in_use_is_refused(make_service: MakeService, tmp_path: Path) -> None:
    first = make_service()
    second = make_service(start=False, listener={"socket_path": first.socket_path},
                          tmp=str(tmp_path))
    second.write_config()
    run = run_serve(second.config_path)
    assert run.returncode != 0 and first.socket_path in run.stderr, run.stderr
    assert first.client("x").ping() == (1, 0)  # the first one is untouched


def test_missing_socket_directory_is_created(make_service: MakeService, tmp_path: Path) -> None:
    path = str(tmp_path / "run" / "parsec" / "parsec.sock")
    svc = make_service(listener={"socket_path": path})
    assert svc.client("x").ping() == (1, 0)


# -- socket activation --------------------------------------------------------------------------

WRAPPER = """
import os, sys
fd = int(sys.argv[1])
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.environ["LISTEN_FDS"] = "1"
os.environ["LISTEN_PID"] = str(os.getpid()) if sys.argv[3] == "self" else sys.argv[3]
os.execv(sys.executable, [sys.executable, "-m", "pqparsec", "serve", "--config", sys.argv[2]])
"""


@pytest.fixture
def activated(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], str,
                                                              socket.socket]]]:
    """activated(config_socket=None, listen_pid="self", sock=None) -> (process, socket path,
    listening socket): the service started the way systemd starts a socket-activated unit."""
    procs: list[subprocess.Popen[bytes]] = []
    socks: list[socket.socket] = []

    def start(config_socket: str | None = None, listen_pid: str = "self",
              sock: socket.socket | None = None) -> tuple[subprocess.Popen[bytes], str,
                                                          socket.socket]:
        path = str(tmp_path / "activated.sock")
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(path)
            os.chmod(path, 0o666)
            sock.listen(16)
            socks.append(sock)
        cfg = tmp_path / "config.toml"
        cfg.write_text(render_config(str(tmp_path), listener={"socket_path": config_socket or path}))
        log = open(tmp_path / "service.log", "ab")
        proc = subprocess.Popen([sys.executable, "-c", WRAPPER, str(sock.fileno()), str(cfg), listen_pid],
                                pass_fds=(sock.fileno(),), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        log.close()
        procs.append(proc)
        return proc, path, sock

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    for s in socks:
        s.close()


def ping_at(path: str) -> bool:
    try:
        return BasicClient(endpoint=f"unix:{path}", timeout=2).ping() == (1, 0)
    except Exception:
        return False


def test_socket_activation_serves_the_passed_socket(activated: Any, tmp_path: Path) -> None:
    other = str(tmp_path / "from-config.sock")
    proc, path, _ = activated(config_socket=other)
    wait_for(lambda: ping_at(path) or proc.poll() is not None, timeout=20)
    assert proc.poll() is None, (tmp_path / "service.log").read_text()
    assert ping_at(path)
    c = BasicClient("app", endpoint=f"unix:{path}", timeout=10)
    c.generate_key("k", ecc_p256_sign_attrs())
    assert [k.name for k in c.list_keys()] == ["k"]
    assert not os.path.exists(other), "bound the config's socket_path despite socket activation"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0


def test_socket_activation_leaves_the_socket_to_systemd(activated: Any, tmp_path: Path) -> None:
    """On stop the service must not unlink a socket it was given: systemd keeps listening on it
    (queueing connections) and hands it to the next instance."""
    proc, path, sock = activated()
    wait_for(lambda: ping_at(path) or proc.poll() is not None, timeout=20)
    assert ping_at(path), (tmp_path / "service.log").read_text()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert os.path.exists(path), "the service unlinked the systemd-owned socket"
    # "systemd" starts the next instance on the same socket, and it serves
    proc2, _, _ = activated(sock=sock)
    wait_for(lambda: ping_at(path) or proc2.poll() is not None, timeout=20)
    assert ping_at(path), (tmp_path / "service.log").read_text()
    proc2.send_signal(signal.SIGTERM)
    assert proc2.wait(15) == 0
    assert os.path.exists(path)


def test_foreign_listen_pid_is_ignored(activated: Any, tmp_path: Path) -> None:
    """LISTEN_PID names another process: the fds are not ours; bind socket_path as usual."""
    other = str(tmp_path / "from-config.sock")
    proc, _, _ = activated(config_socket=other, listen_pid="1")
    wait_for(lambda: ping_at(other) or proc.poll() is not None, timeout=20)
    assert ping_at(other), (tmp_path / "service.log").read_text()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0


# -- sd_notify ----------------------------------------------------------------------------------

@pytest.mark.parametrize("abstract", [False, True], ids=["path", "abstract"])
def test_sd_notify(make_service: MakeService, tmp_path: Path, abstract: bool) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        if abstract:
            name = f"pqp-test-notify-{os.getpid()}-{time.monotonic_ns()}"
            notify.bind("\0" + name)
            env_value = "@" + name
        else:
            env_value = str(tmp_path / "notify.sock")
            notify.bind(env_value)
        notify.settimeout(15)

        def expect(message: str) -> None:
            while True:
                got = notify.recv(4096).decode()
                if message in got.split("\n"):
                    return

        svc = make_service(start=False, env={"NOTIFY_SOCKET": env_value})
        svc.start()
        expect("READY=1")
        svc.signal(signal.SIGHUP)
        expect("RELOADING=1")
        expect("READY=1")
        assert svc.proc is not None
        svc.proc.send_signal(signal.SIGTERM)
        expect("STOPPING=1")
        assert svc.proc.wait(15) == 0
