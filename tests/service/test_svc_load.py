"""Stalled clients, oversized bodies and many concurrent clients."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pqptest.psa import ecc_p256_sign_attrs
from pqptest.service import ServiceProcess
from pqptest.wire import (
    RawReply,
    pack_wire_header,
    read_until_eof,
    send_raw,
    unpack_wire_header,
    wire_request,
)

from pqparsec.protocol import operations as ops
from pqparsec.protocol.opcodes import Opcode
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus as S

TIMEOUT_MS = 800
LIMIT = 64 * 1024
SLACK = 2.5  # scheduling slack on a loaded 2-core machine


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    s = ServiceProcess(str(tmp_path_factory.mktemp("load")), auth_type="Direct", admins=["admin"],
                       listener={"timeout": TIMEOUT_MS},
                       core={"body_len_limit": LIMIT, "log_level": "info"})
    s.start()
    yield s
    assert s.proc is not None and s.proc.poll() is None, "service died"
    s.stop()


def ping_ok(svc: ServiceProcess, timeout: float = 3.0) -> float:
    t0 = time.monotonic()
    r = send_raw(svc.socket_path, wire_request(Opcode.PING), timeout=timeout)
    assert r.status == 0 and r.body == b"\x08\x01"
    return time.monotonic() - t0


def assert_pending(s: socket.socket) -> None:
    """Nothing has come back on this connection yet, and it is still open."""
    s.setblocking(False)
    try:
        with pytest.raises(BlockingIOError):
            s.recv(1)
    finally:
        s.setblocking(True)


def stalled_outcome(s: socket.socket, t0: float) -> tuple[RawReply, float]:
    """Wait for the stalled connection's answer or close; fail if neither comes in time."""
    s.settimeout(TIMEOUT_MS / 1000 + SLACK)
    try:
        data = read_until_eof(s)
    except TimeoutError:
        raise AssertionError("stalled client got neither an answer nor a close") from None
    return RawReply(data, time.monotonic() - t0), time.monotonic() - t0


@pytest.mark.parametrize("partial", [
    pack_wire_header(opcode=1)[:10],  # partial header
    pack_wire_header(opcode=1)[:6],  # preamble only
    pack_wire_header(opcode=1, body_len=1000) + b"x" * 10,  # partial body
    pack_wire_header(opcode=1, auth_type=1, auth_len=10) + b"abc",  # partial auth
], ids=["header", "preamble", "body", "auth"])
def test_stalled_client_does_not_block_others(svc: ServiceProcess, partial: bytes) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(svc.socket_path)
        s.sendall(partial)
        t0 = time.monotonic()
        # others are served while this one stalls: their answers come before its own
        for _ in range(3):
            ping_ok(svc)
        assert_pending(s)
        reply, dt = stalled_outcome(s, t0)
    assert dt <= TIMEOUT_MS / 1000 + SLACK
    if reply.header is not None:  # answered (rather than just closed): ConnectionError, Ping, no body
        assert reply.header["status"] == S.CONNECTION_ERROR
        assert reply.header["opcode"] == Opcode.PING and reply.body == b""
        assert dt >= TIMEOUT_MS / 1000 * 0.7, "answered before the listener timeout"


def test_many_stalled_clients_do_not_block(svc: ServiceProcess) -> None:
    socks = []
    try:
        for i in range(16):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            socks.append(s)
            s.connect(svc.socket_path)
            s.sendall(pack_wire_header(opcode=1, body_len=100)[: 10 + i])
        results: list[object] = []

        def one() -> None:
            try:
                results.append(ping_ok(svc))
            except Exception as exc:
                results.append(exc)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(isinstance(r, float) for r in results), results
        assert len(results) == 8
        for s in socks:
            assert_pending(s)
        t0 = time.monotonic()
        for s in socks:
            stalled_outcome(s, t0)
        assert time.monotonic() - t0 <= TIMEOUT_MS / 1000 + SLACK
    finally:
        for s in socks:
            s.close()


def test_client_vanishing_mid_request(svc: ServiceProcess) -> None:
    for partial in (pack_wire_header(opcode=1)[:20], pack_wire_header(opcode=1, body_len=50) + b"x"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(svc.socket_path)
            s.sendall(partial)
    ping_ok(svc)


def test_client_not_reading_its_response(svc: ServiceProcess) -> None:
    """A client that sends a request and never reads must not hold the service up."""
    body = ops.encode_request(Opcode.PSA_GENERATE_RANDOM, ops.PsaGenerateRandomRequest(60000))
    socks = []
    try:
        for _ in range(4):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            socks.append(s)
            s.connect(svc.socket_path)
            s.sendall(wire_request(Opcode.PSA_GENERATE_RANDOM, body, provider=1))
        time.sleep(0.2)
        ping_ok(svc)
    finally:
        for s in socks:
            s.close()
    ping_ok(svc)


def _hash_request(n: int) -> tuple[bytes, bytes]:
    """A PsaHashCompute request whose body is exactly n bytes, and the expected digest."""
    for extra in range(8):
        data = os.urandom(n - 4 - extra)
        body = ops.encode_request(Opcode.PSA_HASH_COMPUTE, ops.PsaHashComputeRequest(Hash.SHA_256, data))
        if len(body) == n:
            return body, hashlib.sha256(data).digest()
    raise AssertionError(f"cannot make a {n}-byte body")


def test_body_exactly_at_limit_is_served(svc: ServiceProcess) -> None:
    body, digest = _hash_request(LIMIT)
    r = send_raw(svc.socket_path, wire_request(Opcode.PSA_HASH_COMPUTE, body, provider=1))
    assert r.status == 0
    assert ops.decode_result(Opcode.PSA_HASH_COMPUTE, r.body).hash == digest


def test_oversized_body_is_refused(svc: ServiceProcess) -> None:
    """A client that sends a body over the limit gets BodySizeExceedsLimit (header-level) and the
    connection closed; the body may be cut off by the close."""
    body, _ = _hash_request(LIMIT + 1)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(svc.socket_path)
        s.sendall(pack_wire_header(opcode=Opcode.PSA_HASH_COMPUTE, provider=1, session=7,
                                   body_len=len(body)))
        try:
            s.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = read_until_eof(s)
    h = unpack_wire_header(data)
    assert h["status"] == S.BODY_SIZE_EXCEEDS_LIMIT
    assert (h["opcode"], h["provider"], h["session"], h["body_len"]) == (Opcode.PING, 0, 0, 0)
    assert len(data) == 36
    ping_ok(svc)


def test_huge_body_len_is_refused_without_waiting(svc: ServiceProcess) -> None:
    t0 = time.monotonic()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(svc.socket_path)
        s.sendall(pack_wire_header(opcode=1, body_len=0xFFFFFFFF))
        data = read_until_eof(s)
    assert unpack_wire_header(data)["status"] == S.BODY_SIZE_EXCEEDS_LIMIT
    # the status alone shows it did not wait for the body (that would be ConnectionError)
    assert time.monotonic() - t0 < 10


def test_generate_random_over_buffer_size_limit(svc: ServiceProcess) -> None:
    c = svc.client("rnd")
    assert len(c.generate_random(1 << 20)) == 1 << 20  # default buffer_size_limit is 1 MiB
    r = send_raw(svc.socket_path, wire_request(
        Opcode.PSA_GENERATE_RANDOM,
        ops.encode_request(Opcode.PSA_GENERATE_RANDOM, ops.PsaGenerateRandomRequest((1 << 20) + 1)),
        provider=1))
    assert r.status == S.RESPONSE_TOO_LARGE and r.body == b""


THREADS = 32
REQUESTS = 20


def test_many_concurrent_clients(svc: ServiceProcess) -> None:
    """32 threads x 20 requests, each its own application with its own key; every answer checked."""
    alg = SignAlg(SignKind.ECDSA, Hash.SHA_256)
    errors: list[str] = []
    done = [0] * THREADS
    barrier = threading.Barrier(THREADS)

    def worker(i: int) -> None:
        try:
            c = svc.client(f"load-{i}")
            c.generate_key("k", ecc_p256_sign_attrs())
            pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(),
                                                               c.export_public_key("k"))
            barrier.wait(30)
            for j in range(REQUESTS):
                kind = (i + j) % 5
                if kind == 0:
                    assert c.ping() == (1, 0)
                elif kind == 1:
                    data = os.urandom(100 + j)
                    assert c.hash_compute(Hash.SHA_256, data) == hashlib.sha256(data).digest()
                elif kind == 2:
                    digest = hashlib.sha256(f"{i}-{j}".encode()).digest()
                    sig = c.sign_hash("k", alg, digest)
                    der = encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                               int.from_bytes(sig[32:], "big"))
                    pub.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
                elif kind == 3:
                    assert [k.name for k in c.list_keys()] == ["k"]
                else:
                    assert len(c.generate_random(16 + j)) == 16 + j
                done[i] += 1
            c.destroy_key("k")
        except Exception as exc:
            errors.append(f"thread {i}: {exc!r}")

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.monotonic() - t0
    assert not errors, errors[:5]
    assert done == [REQUESTS] * THREADS
    assert not any(t.is_alive() for t in threads)
    print(f"{THREADS * (REQUESTS + 4)} requests from {THREADS} threads in {elapsed:.2f} s")
    assert svc.client("admin").list_clients() == [] or all(
        not n.startswith("load-") for n in svc.client("admin").list_clients())
