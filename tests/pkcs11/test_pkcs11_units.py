"""In-process checks of the PKCS#11 provider's pieces: encodings, and token sharing between two
providers of one process (what a configuration reload does)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from pqptest.softhsm import USER_PIN, SoftHsm

from pqparsec.protocol.status import ParsecError
from pqparsec.service.config import ConfigError
from pqparsec.service.providers.pkcs11 import formats


@pytest.mark.parametrize("bits", [256, 384, 521])
def test_ec_point_raw_or_wrapped(bits: int) -> None:
    point = ec.generate_private_key(formats.curve(bits)).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert formats.unwrap_ec_point(point, bits) == point
    wrapped = formats.wrap_ec_point(point)
    assert wrapped[0] == 0x04 and len(wrapped) > len(point)
    assert formats.unwrap_ec_point(wrapped, bits) == point
    for bad in (point[:-1], wrapped[:-1], b"\x04\x01\x04", b"\x03" + point[1:]):
        with pytest.raises(ParsecError):
            formats.unwrap_ec_point(bad, bits)


def test_digest_info_matches_pkcs1() -> None:
    key = rsa.generate_private_key(65537, 1024)
    for h in formats.HASH_OIDS:
        algo = formats.hash_algorithm(h)
        digest = formats.digest(h, b"data")
        sig = key.sign(digest, padding.PKCS1v15(), Prehashed(algo))
        recovered = key.public_key().recover_data_from_signature(sig, padding.PKCS1v15(), None)
        assert recovered == formats.digest_info(h, digest), h.name


def test_ec_params_are_named_curve_oids() -> None:
    assert formats.ec_params(256).hex() == "06082a8648ce3d030107"
    assert formats.ec_params(384).hex() == "06052b81040022"
    assert formats.ec_params(521).hex() == "06052b81040023"


def test_two_providers_share_one_token(hsm: SoftHsm, monkeypatch: pytest.MonkeyPatch) -> None:
    import pkcs11

    from pqparsec.service.providers.pkcs11.token import Library, Token

    token = hsm.init_token("shared")
    monkeypatch.setenv("SOFTHSM2_CONF", hsm.conf)
    pin = USER_PIN.encode()
    first = Token.acquire(hsm.lib, None, token.serial, pin, 2)
    second = Token.acquire(hsm.lib, token.slot, None, pin, 2)
    try:
        assert first is second and first.refs == 2 and first.logged_in
        assert not first.library.serialised  # OS locking took
        # A wrong PIN from a third provider fails, naming the token, and the login stays.
        with pytest.raises(ConfigError, match="the PIN is incorrect"):
            Token.acquire(hsm.lib, None, token.serial, b"0000", 2)
        assert first.refs == 2
        first.release()  # the "old" provider closes...
        with second.session() as s:  # ...and the "new" one is still logged in.
            _, priv = s.generate_keypair(pkcs11.KeyType.EC, store=False, public_template={
                pkcs11.Attribute.EC_PARAMS: formats.ec_params(256)})
            assert priv[pkcs11.Attribute.PRIVATE]
            assert len(priv.sign(b"\x00" * 32, mechanism=pkcs11.Mechanism.ECDSA)) == 64
    finally:
        second.release()
    assert hsm.lib not in Library._registry  # finalised with the last reference
