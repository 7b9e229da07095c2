"""Key attestation with TPM2_Certify (pqparsec extension of AttestKey), end to end over the
socket against swtpm: the statement verifies with our verifier and, independently, with
tpm2-pytss's unmarshalling and `cryptography`; every tampering is caught ("verified both
ways"); bad requests get their status."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pqptest.service import ServiceProcess
from pqptest.swtpm import Swtpm

from pqparsec.client import BasicClient
from pqparsec.client.attestation import (
    AttestationVerificationError,
    CertifyAttestation,
    certify_key,
    parse_public,
    verify_certify,
)
from pqparsec.client.errors import ServiceError
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    EncryptAlg,
    EncryptKind,
    Hash,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

P256 = KeyType.ecc_key_pair(EccFamily.SECP_R1)
SIGNING = KeyAttributes(P256, 256, KeyPolicy(UsageFlags(sign_hash=True, verify_hash=True),
                                             SignAlg(SignKind.ECDSA, ANY_HASH)))
VERIFY_ONLY = KeyAttributes(P256, 256, KeyPolicy(UsageFlags(verify_hash=True),
                                                 SignAlg(SignKind.ECDSA, Hash.SHA_256)))


def status_of(call: Callable[[], Any]) -> ResponseStatus:
    with pytest.raises(ServiceError) as exc:
        call()
    return exc.value.status


def independent_check(att: CertifyAttestation, nonce: bytes) -> None:
    """The statement checked without our verifier: tpm2-pytss decodes the structures, the
    signature is checked with `cryptography`, the name is recomputed from the public area."""
    from tpm2_pytss.constants import TPM2_ALG, TPM2_GENERATED, TPM2_ST
    from tpm2_pytss.types import TPM2B_PUBLIC, TPMS_ATTEST, TPMT_PUBLIC, TPMT_SIGNATURE

    attest, used = TPMS_ATTEST.unmarshal(att.attest)
    assert used == len(att.attest)
    assert int(attest.magic) == int(TPM2_GENERATED.VALUE) == 0xFF544347
    assert int(attest.type) == int(TPM2_ST.ATTEST_CERTIFY) == 0x8017
    assert bytes(attest.extraData) == nonce
    area, used = TPMT_PUBLIC.unmarshal(att.attested_key_public)
    assert used == len(att.attested_key_public)
    name = bytes(TPM2B_PUBLIC(publicArea=area).get_name().marshal())[2:]  # without the size
    assert name == b"\x00\x0b" + hashlib.sha256(att.attested_key_public).digest()
    assert bytes(attest.attested.certify.name) == name
    sig, used = TPMT_SIGNATURE.unmarshal(att.signature)
    assert used == len(att.signature)
    signer, _ = TPMT_PUBLIC.unmarshal(att.attesting_key_public)
    if int(signer.type) == int(TPM2_ALG.ECC):
        assert int(sig.sigAlg) == int(TPM2_ALG.ECDSA)
        curve = {256: ec.SECP256R1(), 384: ec.SECP384R1()}[len(bytes(signer.unique.ecc.x)) * 8]
        pub = ec.EllipticCurvePublicNumbers(int.from_bytes(bytes(signer.unique.ecc.x), "big"),
                                            int.from_bytes(bytes(signer.unique.ecc.y), "big"),
                                            curve).public_key()
        h = {int(TPM2_ALG.SHA256): hashes.SHA256(), int(TPM2_ALG.SHA384): hashes.SHA384()}[
            int(sig.signature.ecdsa.hash)]
        der = encode_dss_signature(int.from_bytes(bytes(sig.signature.ecdsa.signatureR), "big"),
                                   int.from_bytes(bytes(sig.signature.ecdsa.signatureS), "big"))
        pub.verify(der, att.attest, ec.ECDSA(h))
    else:
        from cryptography.hazmat.primitives.asymmetric import rsa
        assert int(sig.sigAlg) == int(TPM2_ALG.RSASSA)
        rpub = rsa.RSAPublicNumbers(65537, int.from_bytes(bytes(signer.unique.rsa), "big"))
        rpub.public_key().verify(bytes(sig.signature.rsassa.sig), att.attest,
                                 padding.PKCS1v15(), hashes.SHA256())


def transient_objects(swtpm: Swtpm) -> list[int]:
    from tpm2_pytss import ESAPI
    from tpm2_pytss.constants import TPM2_CAP, TPM2_HC
    with ESAPI(swtpm.tcti) as ctx:
        _, data = ctx.get_capability(TPM2_CAP.HANDLES, int(TPM2_HC.TRANSIENT_FIRST), 64)
        return [int(h) for h in data.data.handles]


def test_certify_with_the_service_attestation_key(client: BasicClient, swtpm: Swtpm) -> None:
    client.generate_key("k", SIGNING)
    nonce = os.urandom(32)
    att = client.certify_key("k", nonce)
    assert att.nonce == nonce and att.attesting_key_name == ""
    verified = verify_certify(att, nonce, attested_public_key=client.public_key("k"),
                              require_generated_in_tpm=True)
    assert verified.attesting_key.restricted  # the service's AK signs only TPM-made statements
    assert isinstance(verified.attesting_key.public_key, ec.EllipticCurvePublicKey)
    assert verified.statement.extra_data == nonce
    independent_check(att, nonce)
    # The same attestation key every time; the TPM holds only the storage key afterwards.
    again = client.certify_key("k")
    assert again.attesting_key_public == att.attesting_key_public
    assert again.nonce != nonce and len(again.nonce) == 32
    verify_certify(again)
    assert len(transient_objects(swtpm)) == 1


def test_certify_with_an_application_key(client: BasicClient) -> None:
    client.generate_key("k", VERIFY_ONLY)
    client.generate_key("ak", SIGNING)
    nonce = b"\x01" * 64  # the longest accepted
    att = certify_key(client, "k", nonce, attesting_key_name="ak")
    verified = verify_certify(att, nonce, attested_public_key=client.public_key("k"),
                              attesting_public_key=client.public_key("ak"))
    assert not verified.attesting_key.restricted
    independent_check(att, nonce)
    # A key certifies itself too (one object in the TPM, both roles); an empty nonce is allowed.
    own = certify_key(client, "ak", b"", attesting_key_name="ak")
    verify_certify(own, b"", attesting_public_key=client.public_key("ak"))


def test_certify_with_an_rsa_attesting_key(client: BasicClient) -> None:
    client.generate_key("k", SIGNING)
    client.generate_key("rsa-ak", KeyAttributes(
        KeyType.rsa_key_pair(), 1024,  # the quickest RSA key for swtpm to make
        KeyPolicy(UsageFlags(sign_hash=True), SignAlg(SignKind.RSA_PKCS1V15_SIGN, Hash.SHA_256))))
    att = client.certify_key("k", b"rsa", attesting_key_name="rsa-ak")
    verify_certify(att, b"rsa", attesting_public_key=client.public_key("rsa-ak"))
    independent_check(att, b"rsa")


def test_verification_fails_both_ways(client: BasicClient) -> None:
    """Every mismatch is caught by our verifier and by the independent check."""
    client.generate_key("k", SIGNING)
    client.generate_key("other", SIGNING)
    client.generate_key("ak", SIGNING)
    nonce = os.urandom(16)
    att = client.certify_key("k", nonce)
    verify_certify(att, nonce, attested_public_key=client.public_key("k"))
    other = client.certify_key("other", nonce)
    by_ak = client.certify_key("k", nonce, attesting_key_name="ak")

    def fails(bad: CertifyAttestation, nonce: bytes = nonce, independent: bool = True,
              **kw: Any) -> str:
        with pytest.raises(AttestationVerificationError) as exc:
            verify_certify(bad, nonce, **kw)
        if independent:
            with pytest.raises(Exception):  # noqa: B017 - any failure of the independent check
                independent_check(bad, nonce)
        return str(exc.value)

    tampered = bytearray(att.attest)
    tampered[-1] ^= 1  # a bit of the certified qualified name
    assert "signature" in fails(dataclasses.replace(att, attest=bytes(tampered)))
    sig = bytearray(att.signature)
    sig[-1] ^= 1
    assert "signature" in fails(dataclasses.replace(att, signature=bytes(sig)))
    # Another nonce: a replayed statement.
    assert "nonce" in fails(att, nonce=os.urandom(16))
    # The wrong attested key: another key's public area, or another key expected.
    assert "another key" in fails(dataclasses.replace(
        att, attested_key_public=other.attested_key_public))
    assert "another public key" in fails(att, independent=False,
                                         attested_public_key=client.public_key("other"))
    # The wrong attesting key: its public area swapped, or another key expected.
    assert "signature" in fails(dataclasses.replace(
        att, attesting_key_public=by_ak.attesting_key_public))
    assert "another key than the expected attesting key" in fails(
        att, independent=False, attesting_public_key=client.public_key("ak"))
    assert "another key than the expected attesting key" in fails(
        by_ak, independent=False, attesting_public_key=client.public_key("other"))
    # Structure (the magic and type checks are in tests/client/test_attestation_verifier.py).
    assert "signature" in fails(dataclasses.replace(att, attest=att.attest[:-3]))
    assert "truncated" in fails(dataclasses.replace(att, signature=att.signature[:5]))
    # Someone else's valid statement, with its own nonce and key, still verifies.
    verify_certify(other, nonce)


def test_imported_key_is_not_generated_in_tpm(client: BasicClient) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    n = private.private_numbers().private_value.to_bytes(32, "big")
    client.import_key("imported", SIGNING, n)
    att = client.certify_key("imported")
    verified = verify_certify(att, attested_public_key=private.public_key())
    assert not verified.attested_key.generated_in_tpm
    with pytest.raises(AttestationVerificationError, match="not generated"):
        verify_certify(att, require_generated_in_tpm=True)


def test_certify_errors(client: BasicClient, tpm_service: ServiceProcess) -> None:
    client.generate_key("k", SIGNING)
    client.generate_key("no-sign", VERIFY_ONLY)
    client.generate_key("decrypt", KeyAttributes(
        KeyType.rsa_key_pair(), 1024,
        KeyPolicy(UsageFlags(decrypt=True, sign_hash=True),
                  EncryptAlg(EncryptKind.RSA_PKCS1V15_CRYPT))))
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    client.import_key("pub", KeyAttributes(KeyType.ecc_public_key(EccFamily.SECP_R1), 256,
                                           SIGNING.policy),
                      public.public_bytes(*_uncompressed()))
    S = ResponseStatus
    with pytest.raises(ValueError):  # refused by the client before sending
        client.certify_key("k", b"\0" * 65)
    too_long = _raw_certify(client, "k", b"\0" * 65)
    assert status_of(too_long) == S.PSA_ERROR_INVALID_ARGUMENT
    assert status_of(lambda: client.certify_key("missing")) == S.PSA_ERROR_DOES_NOT_EXIST
    assert status_of(lambda: client.certify_key("k", attesting_key_name="missing")) == \
        S.PSA_ERROR_DOES_NOT_EXIST
    stranger = tpm_service.client(f"{client.app_name}-stranger", provider=3)
    assert status_of(lambda: stranger.certify_key("k")) == S.PSA_ERROR_DOES_NOT_EXIST
    stranger.generate_key("ak", SIGNING)
    assert status_of(lambda: client.certify_key("k", attesting_key_name="ak")) == \
        S.PSA_ERROR_DOES_NOT_EXIST  # another application's key of that name is invisible
    assert status_of(lambda: client.certify_key("k", attesting_key_name="no-sign")) == \
        S.PSA_ERROR_NOT_PERMITTED
    assert status_of(lambda: client.certify_key("k", attesting_key_name="decrypt")) == \
        S.PSA_ERROR_NOT_PERMITTED  # sign_hash set, but the policy names no signature algorithm
    assert status_of(lambda: client.certify_key("pub")) == S.PSA_ERROR_INVALID_ARGUMENT
    assert status_of(lambda: client.certify_key("k", attesting_key_name="pub")) == \
        S.PSA_ERROR_INVALID_ARGUMENT
    verify_certify(client.certify_key("k"))  # nothing was burnt: the TPM still certifies


def _uncompressed() -> tuple[Any, Any]:
    from cryptography.hazmat.primitives import serialization
    return serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint


def _raw_certify(client: BasicClient, key: str, nonce: bytes) -> Callable[[], Any]:
    from pqparsec.protocol import operations as ops
    from pqparsec.protocol.opcodes import Opcode
    return lambda: client.call(Opcode.ATTEST_KEY, ops.AttestKeyRequest(
        key, ops.AttestationMechanismParams(certify=ops.CertifyParams(nonce))))


def test_other_providers_do_not_certify(client: BasicClient, sw_client: BasicClient,
                                        tpm_service: ServiceProcess) -> None:
    sw_client.generate_key("k", SIGNING)
    assert status_of(lambda: sw_client.certify_key("k")) == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    core = tpm_service.client(client.app_name, provider=0)
    assert status_of(lambda: certify_key(core, "k")) == ResponseStatus.PSA_ERROR_NOT_SUPPORTED


def test_attestation_key_survives_a_service_restart(client: BasicClient,
                                                    tpm_service: ServiceProcess) -> None:
    client.generate_key("k", SIGNING)
    before = client.certify_key("k")
    tpm_service.stop()
    tpm_service.start(write_config=False)
    after = client.certify_key("k")
    assert after.attesting_key_public == before.attesting_key_public
    verify_certify(after, attesting_public_key=parse_public(before.attesting_key_public).public_key,
                   attested_public_key=client.public_key("k"))


# -- the attest-key command -----------------------------------------------------------------------

def test_cli_attest_key(client: BasicClient, tpm_service: ServiceProcess, tmp_path: Any) -> None:
    from click.testing import CliRunner
    from cryptography.hazmat.primitives import serialization

    from pqparsec.cli.main import cli

    client.generate_key("k", SIGNING)
    client.generate_key("ak", SIGNING)
    base = ["--endpoint", tpm_service.endpoint, "-q", "-a", str(client.app_name)]

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, [*base, "attest-key", *args])

    files = {name: tmp_path / name for name in ("attest", "sig", "pub", "ak.pem")}
    out = run("-k", "k", "--require-tpm-generated", "--statement-file", str(files["attest"]),
              "--signature-file", str(files["sig"]), "--public-file", str(files["pub"]),
              "--attesting-key-file", str(files["ak.pem"]))
    assert out.exit_code == 0, out.output
    assert 'Key "k" attested by the TPM (TPM2_Certify): verified' in out.output
    assert "generated in the TPM" in out.output and "the service's attestation key" in out.output
    nonce = bytes.fromhex(out.output.split("nonce:")[1].split()[0])
    assert len(nonce) == 32
    # What was written verifies again, with the attesting key written too.
    ak_pem = files["ak.pem"].read_bytes()
    att = CertifyAttestation("k", "", nonce, files["attest"].read_bytes(),
                             files["sig"].read_bytes(), files["pub"].read_bytes(),
                             client.certify_key("k").attesting_key_public)
    verify_certify(att, attesting_public_key=serialization.load_pem_public_key(ak_pem),
                   attested_public_key=client.public_key("k"))
    independent_check(att, nonce)
    # Pinned to the key just written; a chosen nonce; an application attesting key.
    out = run("-k", "k", "--attesting-public-key", str(files["ak.pem"]), "-n", "00ff")
    assert out.exit_code == 0, out.output
    assert "nonce:          00ff" in out.output
    out = run("-k", "k", "-A", "ak", "-n", "")
    assert out.exit_code == 0, out.output
    assert 'key "ak"' in out.output and "(empty)" in out.output
    # Pinned to another key: verification fails (exit 10).
    other_pem = tmp_path / "other.pem"
    other_pem.write_bytes(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    out = run("-k", "k", "--attesting-public-key", str(other_pem))
    assert out.exit_code == 10 and "AttestationNotVerified" in out.output, out.output
    # Bad input, unknown key, a provider that does not certify.
    assert run("-k", "k", "-n", "xyz").exit_code == 2
    assert run("-k", "k", "-n", "00" * 65).exit_code == 2
    assert run("-k", "missing").exit_code == 6
    assert CliRunner().invoke(cli, [*base, "-p", "1", "attest-key", "-k", "k"]).exit_code == 8


# -- PCR-bound keys ---------------------------------------------------------------------------------

def test_certify_with_pcr_bound_keys(client: BasicClient, swtpm: Swtpm) -> None:
    """A bound key is certified through its authorisation value (admin role), whatever the
    PCRs hold; as the attesting key it signs in a policy session, so only while its PCRs hold
    the bound values. Nothing is left in the TPM and no authorisation failure is counted."""
    import shutil
    import subprocess
    if shutil.which("tpm2_pcrextend") is None or shutil.which("tpm2_pcrreset") is None:
        pytest.skip("tpm2-tools is not installed (apt-get install tpm2-tools)")
    env = {**os.environ, "TPM2TOOLS_TCTI": swtpm.tcti, "TSS2_LOG": "all+NONE"}

    def tool(*argv: str) -> None:
        run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
        assert run.returncode == 0, f"{argv}: {run.stderr}"

    tool("tpm2_pcrreset", "16")
    try:
        client.generate_key("bound", SIGNING, pcrs=[16])
        client.generate_key("k", SIGNING)
        att = client.certify_key("bound")
        verified = verify_certify(att, attested_public_key=client.public_key("bound"))
        assert verified.attested_key.auth_policy  # the binding is visible in the public area
        signed = client.certify_key("k", b"pcr", attesting_key_name="bound")
        verify_certify(signed, attesting_public_key=client.public_key("bound"))
        tool("tpm2_pcrextend", f"16:sha256={hashlib.sha256(b'changed').hexdigest()}")
        assert status_of(lambda: client.certify_key("k", attesting_key_name="bound")) == \
            ResponseStatus.PSA_ERROR_NOT_PERMITTED
        verify_certify(client.certify_key("bound"))  # still certified: it exists, unusable
        from tpm2_pytss import ESAPI
        from tpm2_pytss.constants import TPM2_CAP, TPM2_HC, TPM2_PT
        with ESAPI(swtpm.tcti) as ctx:
            _, objs = ctx.get_capability(TPM2_CAP.HANDLES, int(TPM2_HC.TRANSIENT_FIRST), 64)
            _, sess = ctx.get_capability(TPM2_CAP.HANDLES, int(TPM2_HC.LOADED_SESSION_FIRST), 64)
            _, props = ctx.get_capability(TPM2_CAP.TPM_PROPERTIES, int(TPM2_PT.LOCKOUT_COUNTER), 1)
        assert len(objs.data.handles) == 1 and len(sess.data.handles) == 0
        assert int(props.data.tpmProperties[0].value) == 0
    finally:
        tool("tpm2_pcrreset", "16")
