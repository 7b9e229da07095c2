"""Several worker processes on one socket (core_settings.workers): shared state stays right across
processes, a dead worker is replaced, SIGHUP and SIGTERM reach every worker.

Which worker serves a connection is the kernel's choice, so each test drives requests (several
clients at once) until the debug log shows both workers served the operation in question, and
then checks what every worker answers.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import threading
from collections.abc import Iterator

import pytest
from pqptest.psa import ecc_p256_sign_attrs
from pqptest.service import ServiceProcess, render_config, run_serve, wait_for
from pqptest.workers import children, hammer, served_by

from pqparsec.client import BasicClient
from pqparsec.client.errors import ServiceError
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus as S

ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
DIGEST = hashlib.sha256(b"workers").digest()
WORKERS = 2


@pytest.fixture
def service(tmp_path: object) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(str(tmp_path), auth_type="Direct", admins=["admin"],
                         core={"workers": WORKERS})
    svc.start()
    yield svc
    svc.stop()


def test_workers_are_processes_that_all_serve(service: ServiceProcess) -> None:
    assert service.proc is not None
    workers = wait_for(lambda: len(children(service.proc.pid)) == WORKERS and
                       children(service.proc.pid))
    assert len(workers) == WORKERS
    client = service.client("spread")
    hammer(client.ping, lambda: len(served_by(service, "-", "PING")) == WORKERS)
    assert "2 workers" in service.log()


def test_destroyed_key_is_gone_in_every_worker_at_once(service: ServiceProcess) -> None:
    client = service.client("destroyer")
    client.generate_key("k", ecc_p256_sign_attrs())
    # Both workers sign with it, so both have it in their caches (key store and parsed key).
    hammer(lambda: client.sign_hash("k", ECDSA, DIGEST),
           lambda: served_by(service, "destroyer", "PSA_SIGN_HASH", "Success") == {0, 1})
    client.destroy_key("k")
    failures = 0

    def sign_after_destroy() -> None:
        nonlocal failures
        with pytest.raises(ServiceError) as err:
            client.sign_hash("k", ECDSA, DIGEST)
        assert err.value.status == S.PSA_ERROR_DOES_NOT_EXIST
        failures += 1

    errors = hammer(sign_after_destroy, lambda: served_by(
        service, "destroyer", "PSA_SIGN_HASH", "PsaErrorDoesNotExist") == {0, 1})
    assert errors == [] and failures > 0
    # A new key under the old name is the new key everywhere.
    client.generate_key("k", ecc_p256_sign_attrs(export=True))
    public = client.export_public_key("k")
    errors = hammer(lambda: client.export_public_key("k") == public or 1 / 0, lambda: served_by(
        service, "destroyer", "PSA_EXPORT_PUBLIC_KEY", "Success") == {0, 1})
    assert errors == []


def test_same_name_created_at_once_exactly_one_wins(service: ServiceProcess) -> None:
    for round_ in range(6):
        name = f"race-{round_}"
        barrier = threading.Barrier(8)
        results: list[str] = []

        def create(name: str = name, barrier: threading.Barrier = barrier,
                   results: list[str] = results) -> None:
            client = service.client("racer")
            barrier.wait()
            try:
                client.generate_key(name, ecc_p256_sign_attrs(export=True))
                results.append("won")
            except ServiceError as exc:
                results.append(exc.status.parsec_name)

        pool = [threading.Thread(target=create) for _ in range(8)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        assert sorted(results) == ["PsaErrorAlreadyExists"] * 7 + ["won"], results
        client = service.client("racer")
        assert [k.name for k in client.list_keys() if k.name == name] == [name]
        client.sign_hash(name, ECDSA, DIGEST)
    assert served_by(service, "racer", "PSA_GENERATE_KEY", "PsaErrorAlreadyExists") == {0, 1}


def test_delete_client_is_seen_by_every_worker(service: ServiceProcess) -> None:
    victim = service.client("victim")
    for i in range(3):
        victim.generate_key(f"v{i}", ecc_p256_sign_attrs())
    hammer(lambda: victim.sign_hash("v0", ECDSA, DIGEST),
           lambda: served_by(service, "victim", "PSA_SIGN_HASH", "Success") == {0, 1})
    service.client("admin").delete_client("victim")

    def gone() -> None:
        assert victim.list_keys() == []
        with pytest.raises(ServiceError) as err:
            victim.sign_hash("v0", ECDSA, DIGEST)
        assert err.value.status == S.PSA_ERROR_DOES_NOT_EXIST

    errors = hammer(gone, lambda: served_by(
        service, "victim", "PSA_SIGN_HASH", "PsaErrorDoesNotExist") == {0, 1})
    assert errors == []
    assert "victim" not in service.client("admin").list_clients()


def test_a_killed_worker_is_replaced_and_the_others_keep_serving(service: ServiceProcess) -> None:
    assert service.proc is not None
    client = service.client("survivor")
    client.generate_key("k", ecc_p256_sign_attrs())
    before = wait_for(lambda: len(children(service.proc.pid)) == WORKERS and
                      children(service.proc.pid))
    os.kill(before[0], signal.SIGKILL)
    # A request the killed worker had accepted is lost with it (kill -9 is asynchronous: wait
    # until it is dead). The other worker answers while the first is replaced.
    wait_for(lambda: not os.path.exists(f"/proc/{before[0]}") or
             open(f"/proc/{before[0]}/stat").read().split()[2] == "Z")
    for _ in range(20):
        client.sign_hash("k", ECDSA, DIGEST)
    after = wait_for(lambda: (c := children(service.proc.pid)) != before and len(c) == WORKERS
                     and c)
    assert before[0] not in after and before[1] in after
    wait_for(lambda: "serves again" in service.log())
    assert re.search(rf"worker \d \(pid {before[0]}\) was killed by signal SIGKILL; restarting",
                     service.log())
    hammer(lambda: client.sign_hash("k", ECDSA, DIGEST),
           lambda: served_by(service, "survivor", "PSA_SIGN_HASH", "Success") == {0, 1})


def test_sighup_reloads_every_worker(service: ServiceProcess) -> None:
    client = service.client("newadmin")
    with pytest.raises(ServiceError) as err:
        client.list_clients()
    assert err.value.status == S.ADMIN_OPERATION
    service.write_config(admins=["admin", "newadmin"])
    service.signal(signal.SIGHUP)
    wait_for(lambda: len(re.findall(r"\[worker \d\] pqparsec: configuration reloaded",
                                    service.log())) == WORKERS)
    errors = hammer(client.list_clients, lambda: served_by(
        service, "newadmin", "LIST_CLIENTS", "Success") == {0, 1})
    assert errors == []


def test_sigterm_stops_every_worker(service: ServiceProcess) -> None:
    assert service.proc is not None
    pid = service.proc.pid
    workers = wait_for(lambda: len(children(pid)) == WORKERS and children(pid))
    assert service.stop() == 0
    for w in workers:
        assert not os.path.exists(f"/proc/{w}"), f"worker {w} outlived the service"
    assert not os.path.exists(service.socket_path)


def test_workers_stop_when_the_supervisor_is_killed(service: ServiceProcess) -> None:
    assert service.proc is not None
    pid = service.proc.pid
    workers = wait_for(lambda: len(children(pid)) == WORKERS and children(pid))
    service.kill()
    wait_for(lambda: not any(os.path.exists(f"/proc/{w}") for w in workers), timeout=15)
    # The socket file stays (like after any kill -9); the next start replaces it.
    svc = ServiceProcess(service.tmp, auth_type="Direct", core={"workers": WORKERS})
    svc.start()
    svc.stop()


def test_a_worker_that_cannot_start_stops_the_service(tmp_path: object) -> None:
    tmp = str(tmp_path)
    path = os.path.join(tmp, "config.toml")
    with open(path, "w") as f:
        f.write(render_config(tmp, core={"workers": WORKERS}, providers=[
            {"provider_type": "Tpm", "tcti": "swtpm:host=127.0.0.1,port=1"}]))
    result = run_serve(path)
    assert result.returncode == 2, result.stderr
    assert "pqparsec: cannot start:" in result.stderr
    assert not os.path.exists(os.path.join(tmp, "parsec.sock"))


def test_ready_once_all_workers_serve(tmp_path: object) -> None:
    """systemd's notification protocol: READY=1 from the supervisor after every worker serves,
    RELOADING=1 / READY=1 around a reload, STOPPING=1."""
    tmp = str(tmp_path)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify_path = os.path.join(tmp, "notify")
    notify.bind(notify_path)
    notify.settimeout(20)
    svc = ServiceProcess(tmp, env={"NOTIFY_SOCKET": notify_path}, core={"workers": WORKERS})
    svc.write_config()
    svc.start(write_config=False)
    try:
        assert notify.recv(100) == b"READY=1"
        assert svc.proc is not None
        assert len(children(svc.proc.pid)) == WORKERS
        svc.signal(signal.SIGHUP)
        assert notify.recv(100) == b"RELOADING=1"
        assert notify.recv(100) == b"READY=1"
        assert len(re.findall(r"configuration reloaded", svc.log())) == WORKERS
    finally:
        assert svc.stop() == 0
    assert notify.recv(100) == b"STOPPING=1"
    notify.close()


def test_one_process_when_workers_is_one(tmp_path: object) -> None:
    svc = ServiceProcess(str(tmp_path), core={"workers": 1}).start()
    try:
        assert svc.proc is not None
        assert children(svc.proc.pid) == []
        assert BasicClient(endpoint=svc.endpoint).ping() == (1, 0)
    finally:
        svc.stop()
