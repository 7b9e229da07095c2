"""Keys across restarts and reloads, start-up pruning of mappings whose token object is gone,
token objects made and removed with the keys, and concurrent use."""

from __future__ import annotations

import hashlib
import shutil
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from p11_helpers import key_id
from pqptest.psa import attrs
from pqptest.service import ServiceProcess, wait_for
from pqptest.softhsm import SoftHsm, TokenInfo
from pqptest.status import raised_status as status

from pqparsec.protocol.psa import EccFamily, Hash, KeyType, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus

ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
P256 = KeyType.ecc_key_pair(EccFamily.SECP_R1)
SIGNING = attrs(P256, 256, ECDSA, sign_hash=True, verify_hash=True)
DIGEST = hashlib.sha256(b"lifecycle").digest()

Maker = Callable[..., ServiceProcess]


def test_keys_survive_a_restart(make_service: Maker, hsm: SoftHsm, token: TokenInfo) -> None:
    svc = make_service(hsm.table(token)).start()
    c = svc.client("app")
    c.generate_key("k", SIGNING)
    c.generate_key("r", attrs(KeyType.rsa_key_pair(), 1024,
                              SignAlg(SignKind.RSA_PSS, Hash.SHA_256), sign_hash=True,
                              verify_hash=True))
    public = {n: c.export_public_key(n) for n in ("k", "r")}
    svc.stop()
    svc.start()
    c = svc.client("app")
    assert sorted(k.name for k in c.list_keys()) == ["k", "r"]
    assert {n: c.export_public_key(n) for n in ("k", "r")} == public
    c.verify_hash("k", ECDSA, DIGEST, c.sign_hash("k", ECDSA, DIGEST))
    pss = SignAlg(SignKind.RSA_PSS, Hash.SHA_256)
    c.verify_hash("r", pss, DIGEST, c.sign_hash("r", pss, DIGEST))


def test_mapping_without_token_object_is_pruned_at_start(make_service: Maker, hsm: SoftHsm,
                                                         token: TokenInfo) -> None:
    svc = make_service(hsm.table(token)).start()
    c = svc.client("app")
    for name in ("keep", "lose"):
        c.generate_key(name, SIGNING)
    c.import_key("lose-pub", attrs(KeyType.ecc_public_key(EccFamily.SECP_R1), 256, ECDSA,
                                   verify_hash=True), c.export_public_key("keep"))
    gone = [key_id(svc, "app", "lose"), key_id(svc, "app", "lose-pub")]
    svc.stop()
    # Behind the service's back, with python-pkcs11 directly.
    assert hsm.delete_objects(token, gone[0]) == 2  # private and public object
    assert hsm.delete_objects(token, gone[1]) == 1
    svc.start()
    c = svc.client("app")
    assert [k.name for k in c.list_keys()] == ["keep"]
    assert "'lose' of app" in svc.log() and "had no back-end key; mapping removed" in svc.log()
    # The name is free again, and the kept key works.
    c.generate_key("lose", SIGNING)
    c.sign_hash("keep", ECDSA, DIGEST)


def test_token_objects_follow_the_keys(make_service: Maker, hsm: SoftHsm, token: TokenInfo) -> None:
    svc = make_service(hsm.table(token)).start()
    c = svc.client("app")
    c.generate_key("k", SIGNING)
    kid = key_id(svc, "app", "k")
    objs = hsm.objects(token)
    assert sorted(o["class"] for o in objs) == ["PRIVATE_KEY", "PUBLIC_KEY"]
    assert {o["id"] for o in objs} == {kid} and len(kid) == 32
    assert all(o["label"] == "pqparsec" for o in objs)
    (priv,) = hsm.private_objects(token)
    assert (priv["private"], priv["sensitive"], priv["extractable"]) == (True, True, False)
    # A create that fails (the name is taken) leaves nothing behind on the token.
    assert status(c.generate_key, "k", SIGNING) == ResponseStatus.PSA_ERROR_ALREADY_EXISTS
    assert len(hsm.objects(token)) == 2
    # Another application's key of the same name is another key; destroying removes objects.
    other = svc.client("other")
    assert status(other.sign_hash, "k", ECDSA, DIGEST) == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST
    other.generate_key("k", SIGNING)
    assert len(hsm.objects(token)) == 4
    c.destroy_key("k")
    assert {o["id"] for o in hsm.objects(token)} == {key_id(svc, "other", "k")}
    assert status(c.sign_hash, "k", ECDSA, DIGEST) == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST


def test_reload_keeps_the_token(make_service: Maker, hsm: SoftHsm, token: TokenInfo) -> None:
    """SIGHUP builds a second provider while the first is still open; both share the module and
    the login, and closing the old one must not log the new one out."""
    svc = make_service(hsm.table(token)).start()
    c = svc.client("app")
    c.generate_key("k", SIGNING)
    for i in range(1, 3):
        svc.signal(signal.SIGHUP)
        wait_for(lambda i=i: svc.log().count("configuration reloaded") >= i)
    c.verify_hash("k", ECDSA, DIGEST, c.sign_hash("k", ECDSA, DIGEST))
    c.generate_key("k2", SIGNING)
    assert sorted(k.name for k in c.list_keys()) == ["k", "k2"]


def test_concurrent_signing(make_service: Maker, hsm: SoftHsm, token: TokenInfo) -> None:
    svc = make_service(hsm.table(token), core={"thread_pool_size": 8}).start()
    c = svc.client("app")
    c.generate_key("k", SIGNING)
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), c.export_public_key("k"))
    digests = [hashlib.sha256(bytes([i])).digest() for i in range(64)]

    def sign(d: bytes) -> bytes:
        return svc.client("app").sign_hash("k", ECDSA, d)

    with ThreadPoolExecutor(8) as pool:
        sigs = list(pool.map(sign, digests))
    for d, sig in zip(digests, sigs, strict=True):
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        pub.verify(der, d, ec.ECDSA(Prehashed(hashes.SHA256())))
    with ThreadPoolExecutor(4) as pool:
        names = [f"g{i}" for i in range(8)]
        list(pool.map(lambda n: svc.client("app").generate_key(n, SIGNING), names))
    assert len(c.list_keys()) == 9
    assert len(hsm.objects(token)) == 18


def test_token_trouble_at_run_time_is_a_status(make_service: Maker, hsm: SoftHsm,
                                               token: TokenInfo) -> None:
    """Objects deleted, then the whole token removed, while the service runs: requests fail with
    Parsec statuses and the service keeps answering."""
    svc = make_service(hsm.table(token)).start()
    c = svc.client("app")
    c.generate_key("a", SIGNING)
    c.generate_key("b", SIGNING)
    hsm.delete_objects(token, key_id(svc, "app", "a"))
    assert status(c.sign_hash, "a", ECDSA, DIGEST) == ResponseStatus.PSA_ERROR_DOES_NOT_EXIST
    c.sign_hash("b", ECDSA, DIGEST)
    c.destroy_key("a")  # the mapping can still be removed
    shutil.rmtree(hsm.dir / "softhsm-tokens")
    failed = status(c.sign_hash, "b", ECDSA, DIGEST)
    assert failed in (ResponseStatus.PSA_ERROR_HARDWARE_FAILURE,
                      ResponseStatus.PSA_ERROR_COMMUNICATION_FAILURE,
                      ResponseStatus.PSA_ERROR_DOES_NOT_EXIST), failed
    assert c.ping() == (1, 0)
    assert [k.name for k in c.list_keys()] == ["b"]
    assert "Traceback" not in svc.log()
