"""AdoptKey (extension opcode 0x0102): an admin binds a key pair provisioned on the token by other
means to a key of an application, which then uses it like any other of its keys."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial

from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from p11_helpers import attrs, status
from softhsm_helper import USER_PIN, SoftHsm, TokenInfo
from support import ServiceProcess

from pqparsec.cli.main import cli
from pqparsec.client import templates
from pqparsec.client.admin import adopt_key
from pqparsec.protocol import operations as ops
from pqparsec.protocol.ids import ProviderId
from pqparsec.protocol.opcodes import PARSEC_CLIENT_OPCODES, Opcode
from pqparsec.protocol.psa import EccFamily, Hash, KeyType, SignAlg, SignKind
from pqparsec.protocol.status import ResponseStatus as S

Maker = Callable[..., ServiceProcess]
ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
P256 = KeyType.ecc_key_pair(EccFamily.SECP_R1)
SIGNING = attrs(P256, 256, ECDSA, sign_hash=True, verify_hash=True)
DIGEST = hashlib.sha256(b"adopted").digest()
RSA_ID = bytes.fromhex("a1b2c3d4")

# Provision an EC P-256 pair (label "provisioned", CKA_ID 0102) and an RSA-2048 pair (label
# "provisioned-rsa", CKA_ID a1b2c3d4) with python-pkcs11; print the EC public point (hex).
PROVISION = """
from pkcs11 import KeyType, Mechanism
from pkcs11.util.ec import encode_named_curve_parameters
tok = next(lib.get_tokens(token_serial=sys.argv[1].encode()))
with tok.open(rw=True, user_pin=sys.argv[2]) as s:
    params = s.create_domain_parameters(KeyType.EC, {
        Attribute.EC_PARAMS: encode_named_curve_parameters('secp256r1')}, local=True)
    pub, priv = params.generate_keypair(store=True, label='provisioned', id=b'\\x01\\x02')
    s.generate_keypair(KeyType.RSA, 2048, store=True, label='provisioned-rsa',
                       id=bytes.fromhex('a1b2c3d4'))
    print(json.dumps(pub[Attribute.EC_POINT].hex()))
"""


def provision(hsm: SoftHsm, token: TokenInfo) -> ec.EllipticCurvePublicKey:
    point = bytes.fromhex(hsm.run(PROVISION, token.serial, USER_PIN))
    assert point[0] == 0x04 and point[1] == len(point) - 2  # DER OCTET STRING around the point
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point[2:])


def test_adopt_sign_list_destroy(make_service: Maker, hsm: SoftHsm, token: TokenInfo) -> None:
    public = provision(hsm, token)
    svc = make_service(hsm.table(token)).start()
    admin, alice = svc.client("admin"), svc.client("alice")
    adopt_key(admin, "alice", "adopted", SIGNING, label="provisioned")

    assert [(k.name, k.provider_id) for k in alice.list_keys()] == [("adopted", ProviderId.PKCS11)]
    sig = alice.sign_hash("adopted", ECDSA, DIGEST)
    r, s_ = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    public.verify(encode_dss_signature(r, s_), DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))
    alice.verify_hash("adopted", ECDSA, DIGEST, sig)
    assert alice.export_public_key("adopted") == public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    # Bound once only: again to alice, to another application, by label or by id.
    for app, name, sel in (("alice", "again", {"label": "provisioned"}),
                           ("bob", "adopted", {"label": "provisioned"}),
                           ("bob", "x", {"id": b"\x01\x02"})):
        assert status(partial(adopt_key, admin, app, name, SIGNING, **sel)) == \
            S.PSA_ERROR_ALREADY_EXISTS

    # Destroying the key removes the token objects, like any other key's.
    alice.destroy_key("adopted")
    assert alice.list_keys() == []
    assert {o["label"] for o in hsm.objects(token)} == {"provisioned-rsa"}


def test_refusals(make_service: Maker, hsm: SoftHsm, token: TokenInfo) -> None:
    provision(hsm, token)
    svc = make_service(hsm.table(token)).start()
    admin, alice = svc.client("admin"), svc.client("alice")
    assert status(lambda: adopt_key(alice, "alice", "k", SIGNING, label="provisioned")) == \
        S.ADMIN_OPERATION
    request = ops.AdoptKeyRequest("alice", "k", SIGNING, label="provisioned")
    assert status(lambda: admin.call(Opcode.ADOPT_KEY, request, provider=ProviderId.PKCS11,
                                     authenticated=False)) == S.NOT_AUTHENTICATED
    assert status(lambda: adopt_key(admin, "alice", "k", SIGNING, label="nowhere")) == \
        S.PSA_ERROR_DOES_NOT_EXIST
    assert status(lambda: adopt_key(admin, "alice", "k", SIGNING, id=b"\xff")) == \
        S.PSA_ERROR_DOES_NOT_EXIST
    # Attributes that do not match the token object: wrong type, wrong size.
    assert status(lambda: adopt_key(admin, "alice", "k", SIGNING, id=RSA_ID)) == \
        S.PSA_ERROR_INVALID_ARGUMENT
    assert status(lambda: adopt_key(admin, "alice", "k", attrs(P256, 384, ECDSA, sign_hash=True),
                                    label="provisioned")) == S.PSA_ERROR_INVALID_ARGUMENT
    # Not served by the core provider.
    assert status(lambda: adopt_key(admin, "alice", "k", SIGNING, label="provisioned",
                                    provider=ProviderId.CORE)) == S.PSA_ERROR_NOT_SUPPORTED
    assert alice.list_keys() == []
    # Listed only with include_extensions.
    assert Opcode.ADOPT_KEY not in PARSEC_CLIENT_OPCODES
    assert 0x0102 not in admin.list_opcodes(ProviderId.PKCS11)
    assert 0x0102 in admin.list_opcodes(ProviderId.PKCS11, include_extensions=True)


def test_cli_adopt_by_id(make_service: Maker, hsm: SoftHsm, token: TokenInfo) -> None:
    provision(hsm, token)
    svc = make_service(hsm.table(token)).start()
    base = ["--endpoint", svc.endpoint, "-q"]
    out = CliRunner().invoke(cli, [*base, "-a", "admin", "adopt-key", "--app", "bob", "-k", "r",
                                   "--id", RSA_ID.hex(), "--rsa", "-r"])
    assert out.exit_code == 0, out.output
    bob = svc.client("bob")
    (info,) = bob.list_keys()
    assert info.attributes == templates.rsa_signing(2048, pss=True)  # key_bits from the token
    pss = SignAlg(SignKind.RSA_PSS, Hash.SHA_256)
    sig = bob.sign_hash("r", pss, DIGEST)
    pub = bob.public_key("r")
    assert isinstance(pub, rsa.RSAPublicKey)
    pub.verify(sig, DIGEST, padding.PSS(padding.MGF1(hashes.SHA256()), 32),
               Prehashed(hashes.SHA256()))
    # A non-admin gets the admin refusal through the CLI too.
    out = CliRunner().invoke(cli, [*base, "-a", "bob", "adopt-key", "--app", "bob", "-k", "e",
                                   "--label", "provisioned"])
    assert out.exit_code != 0
