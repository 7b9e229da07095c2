"""The TPM with several worker processes: worker 0 owns the TPM (swtpm takes one client at a
time), the others relay TPM requests to it; to a client, every worker serves the TPM provider."""

from __future__ import annotations

import hashlib
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pqptest.psa import ecc_p256_sign_attrs
from pqptest.service import ServiceProcess, wait_for
from pqptest.swtpm import Swtpm
from pqptest.workers import children, hammer, relayed_by, served_by

from pqparsec.client.errors import ServiceError
from pqparsec.protocol.psa import Hash, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus as S

ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
DIGEST = hashlib.sha256(b"tpm workers").digest()
TPM = 3


@pytest.fixture(scope="module")
def service(swtpm: Swtpm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    svc = ServiceProcess(str(tmp_path_factory.mktemp("tpm-workers")), auth_type="Direct",
                         admins=["admin"], core={"workers": 2},
                         providers=[swtpm.table(), {"provider_type": "MbedCrypto"}])
    svc.start(timeout=60)
    yield svc
    svc.stop()


def verify(public: bytes, signature: bytes) -> None:
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public)
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    key.verify(der, DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))


def test_only_worker_0_opens_the_tpm(service: ServiceProcess) -> None:
    assert service.proc is not None
    workers = wait_for(lambda: len(c := children(service.proc.pid)) == 2 and c)
    maps = [Path(f"/proc/{w}/maps").read_text() for w in workers]
    loaded = ["libtss2-esys" in m for m in maps]
    assert sorted(loaded) == [False, True], loaded


def test_tpm_keys_work_through_every_worker(service: ServiceProcess) -> None:
    client = service.client("tpm-worker-app", provider=TPM)
    client.generate_key("k", ecc_p256_sign_attrs(export=True))
    public = client.export_public_key("k")
    signatures: list[bytes] = []
    hammer(lambda: signatures.append(client.sign_hash("k", ECDSA, DIGEST)),
           lambda: relayed_by(service, "tpm-worker-app", "PSA_SIGN_HASH") == {1}
           and len(signatures) >= 8)
    for sig in signatures:
        verify(public, sig)
    # The owner ran every signature, relayed or not.
    assert served_by(service, "tpm-worker-app", "PSA_SIGN_HASH", "Success") == {0}


def test_discovery_agrees_across_workers(service: ServiceProcess) -> None:
    service.client("tpm-discovery", provider=TPM).generate_key("listed", ecc_p256_sign_attrs())
    answers: list[tuple[object, ...]] = []

    def ask() -> None:
        client = service.client("tpm-discovery", provider=TPM)  # a new one: clients cache
        providers = client.list_providers()
        answers.append((tuple(p.uuid for p in providers if p.id == TPM),
                        tuple(client.list_opcodes(TPM)),
                        tuple(k.name for k in client.list_keys() if k.provider_id == TPM)))

    errors = hammer(ask, lambda: served_by(service, "-", "LIST_OPCODES",
                                           "Success") == {0, 1})
    assert errors == []
    assert len(set(answers)) == 1, set(answers)
    uuids, opcodes, keys = answers[0]
    assert len(uuids) == 1 and len(opcodes) > 5 and keys == ("listed",)


def test_delete_client_destroys_tpm_keys_from_any_worker(service: ServiceProcess) -> None:
    victim = service.client("tpm-victim", provider=TPM)
    for i in range(2):
        victim.generate_key(f"v{i}", ecc_p256_sign_attrs())
    admin = service.client("admin")
    # Whichever worker takes it, DeleteClient destroys the TPM keys through the owner.
    admin.delete_client("tpm-victim")
    assert victim.list_keys() == []
    for i in range(2):
        with pytest.raises(ServiceError) as err:
            victim.sign_hash(f"v{i}", ECDSA, DIGEST)
        assert err.value.status == S.PSA_ERROR_DOES_NOT_EXIST


def test_tpm_requests_resume_after_the_owner_dies(service: ServiceProcess) -> None:
    assert service.proc is not None
    client = service.client("tpm-owner-crash", provider=TPM)
    client.generate_key("k", ecc_p256_sign_attrs(export=True))
    public = client.export_public_key("k")
    workers = wait_for(lambda: len(c := children(service.proc.pid)) == 2 and c)
    owner = next(w for w in workers if "libtss2-esys" in Path(f"/proc/{w}/maps").read_text())
    os.kill(owner, signal.SIGKILL)
    wait_for(lambda: re.search(rf"worker 0 \(pid {owner}\) was killed", service.log()))
    # A relaying worker keeps trying the owner for a few seconds while it is replaced.
    verify(public, wait_for(lambda: _try_sign(client), timeout=30))
    for _ in range(5):
        verify(public, client.sign_hash("k", ECDSA, DIGEST))


def _try_sign(client: object) -> bytes | None:
    try:
        return client.sign_hash("k", ECDSA, DIGEST)  # type: ignore[attr-defined, no-any-return]
    except ServiceError:
        return None
