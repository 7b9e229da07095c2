"""Keys outlive the service and the TPM connection; the TPM's few object slots never run out;
the TPM worker does not hold up the other providers."""

from __future__ import annotations

import hashlib
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pqptest.service import ServiceProcess
from pqptest.status import expect_status
from pqptest.swtpm import Swtpm

from pqparsec.client import BasicClient
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    Hash,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
ATTRS = KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
                      KeyPolicy(UsageFlags(sign_hash=True, verify_hash=True),
                                SignAlg(SignKind.ECDSA, ANY_HASH)))
DIGEST = hashlib.sha256(b"resilience").digest()


@pytest.fixture
def service(swtpm: Swtpm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A service of its own (these tests stop and start it)."""
    svc = ServiceProcess(str(tmp_path_factory.mktemp("tpm-res")), auth_type="Direct",
                         providers=[swtpm.table(), {"provider_type": "MbedCrypto"}])
    svc.start()
    yield svc
    svc.stop()


def verify_with(public_point: bytes, signature: bytes) -> None:
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_point)
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    pub.verify(der, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))


def transient_objects(swtpm: Swtpm) -> list[int]:
    """The transient objects loaded in the TPM right now (read over a second connection)."""
    from tpm2_pytss import ESAPI
    from tpm2_pytss.constants import TPM2_CAP, TPM2_HC
    with ESAPI(swtpm.tcti) as ctx:
        _, data = ctx.get_capability(TPM2_CAP.HANDLES, int(TPM2_HC.TRANSIENT_FIRST), 64)
        return [int(h) for h in data.data.handles]


def test_keys_survive_a_service_restart(service: ServiceProcess) -> None:
    c = service.client("restart-app", provider=3)
    c.generate_key("k", ATTRS)
    public = c.export_public_key("k")
    service.stop()
    service.start(write_config=False)
    c = service.client("restart-app", provider=3)
    assert c.export_public_key("k") == public
    verify_with(public, c.sign_hash("k", ECDSA, DIGEST))


def test_keys_survive_a_tpm_restart(service: ServiceProcess, swtpm: Swtpm) -> None:
    c = service.client("tpm-restart-app", provider=3)
    c.generate_key("k", ATTRS)
    public = c.export_public_key("k")
    swtpm.restart()  # same state, same port; the service's connection is gone
    verify_with(public, c.sign_hash("k", ECDSA, DIGEST))
    assert len(c.generate_random(16)) == 16
    # both at once: the TPM restarted while the service was down
    service.stop()
    swtpm.restart()
    service.start(write_config=False)
    verify_with(public, service.client("tpm-restart-app", provider=3).sign_hash("k", ECDSA, DIGEST))


def test_reload_keeps_the_tpm_connection(service: ServiceProcess, swtpm: Swtpm) -> None:
    """SIGHUP rebuilds the providers; the new TPM provider shares the old one's connection and
    storage key instead of loading a second one into the TPM's few slots."""
    c = service.client("reload-app", provider=3)
    c.generate_key("k", ATTRS)
    service.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "configuration reloaded" not in service.log():
        assert time.monotonic() < deadline, service.log()
        time.sleep(0.05)
    verify_with(c.export_public_key("k"), c.sign_hash("k", ECDSA, DIGEST))
    assert len(transient_objects(swtpm)) == 1


def test_tpm_down_is_a_communication_failure(service: ServiceProcess, swtpm: Swtpm) -> None:
    c = service.client("down-app", provider=3)
    c.generate_key("k", ATTRS)
    sw = service.client("down-app", provider=1)
    swtpm.stop()
    try:
        for call in (lambda: c.generate_random(8), lambda: c.sign_hash("k", ECDSA, DIGEST)):
            with expect_status(ResponseStatus.PSA_ERROR_COMMUNICATION_FAILURE):
                call()
        # what needs no TPM still works, on this provider and the others
        assert len(c.export_public_key("k")) == 65
        assert len(sw.generate_random(8)) == 8
    finally:
        swtpm.start()
    assert len(c.sign_hash("k", ECDSA, DIGEST)) == 64
    assert "unreachable" in service.log() and "reachable again" in service.log()


def test_many_key_uses_leave_no_object_behind(service: ServiceProcess, swtpm: Swtpm) -> None:
    c = service.client("slots-app", provider=3)
    names = [f"k{i}" for i in range(8)]
    publics = {}
    for name in names:
        c.generate_key(name, ATTRS)
        publics[name] = c.export_public_key(name)
    for _ in range(6):
        for name in names:
            verify_with(publics[name], c.sign_hash(name, ECDSA, DIGEST))
    for name in names[::2]:
        c.destroy_key(name)
    assert len(transient_objects(swtpm)) == 1  # the service's storage key, nothing else


def test_objects_left_by_a_killed_service_are_reclaimed(service: ServiceProcess,
                                                        swtpm: Swtpm) -> None:
    """Without a resource manager a killed service leaves its storage key loaded: after a few
    kill -9 the TPM's 3 slots are full, and the next service must clean up to work."""
    c = service.client("kill-app", provider=3)
    c.generate_key("k", ATTRS)
    public = c.export_public_key("k")
    for _ in range(3):  # each leaves its storage key: the third start finds the slots full
        service.kill()
        service.start(write_config=False)
    assert "flushed 3 transient object(s)" in service.log()
    for _ in range(2):  # a key use finds one slot left, and no more, after each kill
        service.kill()
        service.start(write_config=False)
        verify_with(public, service.client("kill-app", provider=3).sign_hash("k", ECDSA, DIGEST))
    assert service.log().count("flushed") == 2
    assert len(transient_objects(swtpm)) == 1


def test_other_providers_serve_while_the_tpm_is_busy(swtpm: Swtpm,
                                                     tmp_path_factory: pytest.TempPathFactory) -> None:
    svc = ServiceProcess(str(tmp_path_factory.mktemp("tpm-busy")), auth_type="Direct",
                         core={"thread_pool_size": 1},
                         providers=[swtpm.table(), {"provider_type": "MbedCrypto"}])
    svc.start()
    try:
        rsa3072 = KeyAttributes(KeyType.rsa_key_pair(), 3072)
        tpm = svc.client("busy-app", provider=3)
        errors: list[BaseException] = []

        def slow(i: int) -> None:
            try:
                tpm.generate_key(f"slow{i}", rsa3072)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
        threads = [threading.Thread(target=slow, args=(i,)) for i in range(2)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(0.1)
        sw: BasicClient = svc.client("busy-app", provider=1)
        latencies = []
        while any(t.is_alive() for t in threads):
            s = time.monotonic()
            sw.generate_random(16)
            latencies.append(time.monotonic() - s)
            time.sleep(0.01)
        for t in threads:
            t.join()
        busy = time.monotonic() - t0
        assert not errors
        assert latencies and max(latencies) < 0.3, (max(latencies), busy)
    finally:
        svc.stop()
