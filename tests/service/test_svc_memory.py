"""Memory of a software-provider service: nothing of the optional back-ends or of the post-quantum
libraries is loaded until a request needs it, and a burst of large requests leaves no lasting
growth behind (service/memory.py, protocol/framing.py). The figures themselves are in
benchmarks/bench_memory.py."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pqptest.psa import attrs, ecc_p256_sign_attrs
from pqptest.service import ServiceProcess, render_config

from pqparsec.protocol import operations as ops
from pqparsec.protocol.header import HEADER_LEN, request_header
from pqparsec.protocol.ids import AuthType, ProviderId
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import Hash, KeyKind, KeyType, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus

# Shared objects of what must stay unloaded, as they appear in /proc/PID/maps.
NATIVE = {
    "python-pkcs11": ("pkcs11/_pkcs11",),
    "tpm2-pytss / libtss2": ("tss2",),
    "pqcrypto": ("pqcrypto.abi3",),
    "pycryptodome": ("/Crypto/",),
    "slh-dsa": ("/slhdsa/",),
}
# Python modules a software-only worker must not have imported at rest.
UNLOADED_MODULES = (
    "pkcs11", "tpm2_pytss", "pqcrypto", "Crypto", "slhdsa",
    "pqparsec.service.providers.pkcs11", "pqparsec.service.providers.tpm",
    "pqparsec.service.providers.slh_dsa_worker",
    "pqparsec.service.providers.software.pqc.keys",
    "pqparsec.service.providers.software.pqc.params",
    "pqparsec.service.providers.software.pqc.signatures",
    "pqparsec.service.providers.software.pqc.kem",
    "pqparsec.client",
)

BODY = 1 << 20
BURST = 60
MARGIN_MIB = 20


def tree(pid: int) -> list[int]:
    """The process and its live descendants (a supervisor's workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        out.append(p)
        for task in Path(f"/proc/{p}/task").iterdir():
            try:
                todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
    return out


def mapped(svc: ServiceProcess) -> list[str]:
    assert svc.proc is not None
    maps = "".join(Path(f"/proc/{p}/maps").read_text() for p in tree(svc.proc.pid))
    return [name for name, needles in NATIVE.items() if any(n in maps for n in needles)]


def rss_mib(svc: ServiceProcess) -> float:
    assert svc.proc is not None
    total = 0
    for p in tree(svc.proc.pid):
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


@pytest.fixture
def svc(tmp_path: Path) -> Iterator[ServiceProcess]:
    s = ServiceProcess(str(tmp_path), auth_type="Direct",
                       # The burst comes from one user: its share must let every request in.
                       core={"body_len_limit": BODY + 4096, "buffer_size_limit": BODY + 4096,
                             "max_connections_per_client": 2 * BURST},
                       listener={"timeout": 10000})
    s.start()
    yield s
    s.stop()


def test_idle_service_maps_no_optional_or_pqc_library(svc: ServiceProcess) -> None:
    client = svc.client("memory")
    assert client.ping() == (1, 0)
    assert mapped(svc) == []
    # The common path keeps it so: a classic key, a signature, a CanDoCrypto answer.
    client.generate_key("ec", ecc_p256_sign_attrs())
    client.sign_hash("ec", SignAlg(SignKind.ECDSA, Hash.SHA_256), b"\x01" * 32)
    assert mapped(svc) == []
    # The first post-quantum key loads pqcrypto: the needle finds it, and it was loaded on use.
    client.generate_key("mldsa", attrs(KeyType(KeyKind.ML_DSA_KEY_PAIR), 128, sign_message=True))
    assert mapped(svc) == ["pqcrypto"]


# A worker is forked from the supervisor: it has what the supervisor imported, and what building
# the providers imports.
WORKER_IMPORTS = """
import json, sys
from pqparsec.service import app, config, supervisor
cfg = config.load(sys.argv[1])
state = app.build_state(cfg, app.KeyStores())
print(json.dumps(sorted(sys.modules)))
state.close()
"""


def test_software_worker_imports_no_optional_or_pqc_module(tmp_path: Path) -> None:
    """What a software-only worker imports, in a fresh interpreter."""
    path = tmp_path / "config.toml"
    path.write_text(render_config(str(tmp_path)))
    out = subprocess.run([sys.executable, "-c", WORKER_IMPORTS, str(path)], check=True,
                         capture_output=True, text=True, cwd=tmp_path, timeout=60).stdout
    modules = set(json.loads(out))
    assert "pqparsec.service.providers.software" in modules  # the provider was built
    assert sorted(modules.intersection(UNLOADED_MODULES)) == []
    # Nor OpenSSL's libcrypto through hashlib or ssl (about 3.7 MiB): `cryptography` has its own.
    assert sorted(modules.intersection({"_hashlib", "_ssl", "hmac", "asyncio", "click"})) == []


def large_request() -> bytes:
    body = ops.encode_request(Opcode.PSA_HASH_COMPUTE,
                              ops.PsaHashComputeRequest(Hash.SHA_256, os.urandom(BODY)))
    auth = b"memory"
    return (request_header(Opcode.PSA_HASH_COMPUTE, ProviderId.MBED_CRYPTO, len(body),
                           AuthType.DIRECT, len(auth)) + body + auth)


def exchange_in_pieces(path: str, data: bytes, pieces: int, close_early: bool = False
                       ) -> tuple[int, bytes]:
    """Send `data` in `pieces` parts with pauses between them (the service waits for each), or
    all but its last part and then shut the connection for writing; the response's status and
    body."""
    step = len(data) // pieces
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(path)
        for i in range(pieces):
            if close_early and i == pieces - 1:
                s.shutdown(socket.SHUT_WR)
                break
            s.sendall(data[i * step:] if i == pieces - 1 else data[i * step:(i + 1) * step])
            time.sleep(0.05)
        resp = b""
        while chunk := s.recv(1 << 16):
            resp += chunk
    assert len(resp) >= HEADER_LEN
    return int.from_bytes(resp[32:34], "little"), resp[HEADER_LEN:]


def test_a_large_body_arriving_in_pieces_is_read_whole(svc: ServiceProcess) -> None:
    data = large_request()
    message = ops.decode_request(Opcode.PSA_HASH_COMPUTE, data[HEADER_LEN:-len(b"memory")])
    status, body = exchange_in_pieces(svc.socket_path, data, pieces=7)
    assert status == ResponseStatus.SUCCESS
    result = ops.decode_result(Opcode.PSA_HASH_COMPUTE, body)
    assert result.hash == hashlib.sha256(message.input).digest()


def test_a_large_body_cut_short_is_a_connection_error(svc: ServiceProcess) -> None:
    status, body = exchange_in_pieces(svc.socket_path, large_request(), pieces=4,
                                      close_early=True)
    assert (status, body) == (ResponseStatus.CONNECTION_ERROR, b"")
    assert svc.client("memory").ping() == (1, 0)


def burst(path: str, data: bytes, connections: int) -> int:
    """Every client sends half its request and waits for the others before the rest, so that all
    the requests are in the service at once. Returns how many got a Success response."""
    ok = [False] * connections
    half = threading.Barrier(connections)

    def one(i: int) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(60)
            s.connect(path)
            s.sendall(data[:len(data) // 2])
            half.wait(30)
            s.sendall(data[len(data) // 2:])
            resp = b""
            while chunk := s.recv(1 << 16):
                resp += chunk
        ok[i] = len(resp) > HEADER_LEN and resp[32:34] == b"\0\0"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(ok)


def test_memory_comes_back_after_a_burst_of_large_requests(svc: ServiceProcess) -> None:
    assert svc.client("memory").ping() == (1, 0)
    data = large_request()
    # One large request first, so that the baseline includes what any large request leaves
    # (a connection thread, the hash's code paths), then the burst.
    assert burst(svc.socket_path, data, 1) == 1
    time.sleep(1.5)
    before = rss_mib(svc)
    assert burst(svc.socket_path, data, BURST) == BURST
    # The service trims at most once a second, and after the burst's last request.
    deadline = time.monotonic() + 5.0
    after = rss_mib(svc)
    while after > before + MARGIN_MIB and time.monotonic() < deadline:
        time.sleep(0.25)
        after = rss_mib(svc)
    assert after <= before + MARGIN_MIB, (
        f"RSS {before:.1f} MiB before {BURST} requests of {BODY} bytes, {after:.1f} MiB after")
