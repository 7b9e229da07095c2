"""Keys bound to platform state (PCR values), end to end over the socket against swtpm.

The PCRs are changed with tpm2-tools against the same swtpm the service uses: libtss2's swtpm
TCTI opens a TCP connection per command and closes it after the response, so the service holds
no connection between requests and tpm2_pcrextend / tpm2_pcrreset get their turn (swtpm serves
one connection at a time; a command arriving meanwhile waits in the listen backlog). PCR 16 (the
debug PCR) is resettable from locality 0, so every test starts from its reset value.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from pqptest.cli import Cli, pqparsec_executable
from pqptest.service import ServiceProcess
from pqptest.swtpm import Swtpm

from pqparsec.client import BasicClient, PlatformStateChanged, templates
from pqparsec.client.errors import ServiceError
from pqparsec.protocol.operations import CheckType
from pqparsec.protocol.psa import (
    ANY_HASH,
    EccFamily,
    Hash,
    KeyAttributes,
    KeyPolicy,
    KeyType,
    PcrBinding,
    SignAlg,
    SignKind,
    UsageFlags,
)
from pqparsec.protocol.status import ResponseStatus

ECDSA = SignAlg(SignKind.ECDSA, Hash.SHA_256)
ECC = KeyAttributes(KeyType.ecc_key_pair(EccFamily.SECP_R1), 256,
                    KeyPolicy(UsageFlags(sign_hash=True, verify_hash=True),
                              SignAlg(SignKind.ECDSA, ANY_HASH)))
DIGEST = hashlib.sha256(b"platform state").digest()
PCR16_CHANGED = "platform state changed: PCR 16 no longer holds the value the key was bound to"


# -- the PCRs, through tpm2-tools and a second ESAPI connection ---------------------------------

@pytest.fixture(scope="module")
def tools(swtpm: Swtpm) -> dict[str, str]:
    if shutil.which("tpm2_pcrextend") is None or shutil.which("tpm2_pcrreset") is None:
        pytest.skip("tpm2-tools is not installed (apt-get install tpm2-tools)")
    return {**os.environ, "TPM2TOOLS_TCTI": swtpm.tcti, "TSS2_LOG": "all+NONE"}


def tool(env: dict[str, str], *argv: str) -> None:
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, f"{argv}: {run.stderr}"


def extend(env: dict[str, str], pcr: int, data: bytes = b"changed") -> None:
    tool(env, "tpm2_pcrextend", f"{pcr}:sha256={hashlib.sha256(data).hexdigest()}")


def reset(env: dict[str, str], pcr: int = 16) -> None:
    tool(env, "tpm2_pcrreset", str(pcr))


def pcr_values(swtpm: Swtpm, pcrs: list[int]) -> list[bytes]:
    from tpm2_pytss import ESAPI
    from tpm2_pytss.types import TPML_PCR_SELECTION
    with ESAPI(swtpm.tcti) as ctx:
        _, _, digests = ctx.pcr_read(TPML_PCR_SELECTION.parse(
            "sha256:" + ",".join(map(str, sorted(pcrs)))))
        return [bytes(d) for d in digests]


def tpm_state(swtpm: Swtpm) -> tuple[int, int, int]:
    """(transient objects, loaded sessions, dictionary-attack failure count)."""
    from tpm2_pytss import ESAPI
    from tpm2_pytss.constants import TPM2_CAP, TPM2_HC, TPM2_PT
    with ESAPI(swtpm.tcti) as ctx:
        _, objs = ctx.get_capability(TPM2_CAP.HANDLES, int(TPM2_HC.TRANSIENT_FIRST), 64)
        _, sess = ctx.get_capability(TPM2_CAP.HANDLES, int(TPM2_HC.LOADED_SESSION_FIRST), 64)
        _, props = ctx.get_capability(TPM2_CAP.TPM_PROPERTIES, int(TPM2_PT.LOCKOUT_COUNTER), 1)
        return (len(objs.data.handles), len(sess.data.handles),
                int(props.data.tpmProperties[0].value))


@pytest.fixture(autouse=True)
def pcr16_reset(tools: dict[str, str]) -> Iterator[None]:
    reset(tools)
    yield
    reset(tools)


def verify(public_point: bytes, signature: bytes, digest: bytes = DIGEST) -> None:
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_point)
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    pub.verify(der, digest, ec.ECDSA(Prehashed(hashes.SHA256())))


def status(exc: pytest.ExceptionInfo[ServiceError]) -> ResponseStatus:
    return ResponseStatus(exc.value.status)


def assert_refused(client: BasicClient, svc: ServiceProcess, key: str, logged: str) -> None:
    """Signing with `key` is NotPermitted, and the service logs why."""
    seen = len(svc.log())
    with pytest.raises(ServiceError) as exc:
        client.sign_hash(key, ECDSA, DIGEST)
    assert status(exc) == ResponseStatus.PSA_ERROR_NOT_PERMITTED
    assert logged in svc.log()[seen:]


# -- the binding's life cycle --------------------------------------------------------------------

def test_bound_key_signs_only_while_the_pcr_holds_its_value(
        client: BasicClient, tools: dict[str, str], swtpm: Swtpm,
        tpm_service: ServiceProcess) -> None:
    client.generate_key("bound", ECC, pcrs=[16])
    client.generate_key("free", ECC)
    public = client.export_public_key("bound")
    before = client.sign_hash("bound", ECDSA, DIGEST)
    verify(public, before)

    # The binding is stored with the key, with the digest of the values it was bound to.
    binding = client.key_attributes("bound").pcr_binding
    assert binding == PcrBinding((16,), Hash.SHA_256,
                                 hashlib.sha256(b"".join(pcr_values(swtpm, [16]))).digest())

    extend(tools, 16)
    assert_refused(client, tpm_service, "bound", PCR16_CHANGED)
    # The convenience layer knows the key is bound and says why.
    with pytest.raises(PlatformStateChanged, match=r"platform state changed.*sha256:16"):
        client.sign("bound", b"data")
    # What needs only the public key, and keys not bound, keep working.
    client.verify_hash("bound", ECDSA, DIGEST, before)
    assert client.export_public_key("bound") == public
    verify(client.export_public_key("free"), client.sign_hash("free", ECDSA, DIGEST))
    # Refusals cost no dictionary-attack tries and leave nothing loaded in the TPM.
    objects, sessions, failures = tpm_state(swtpm)
    assert (objects, sessions, failures) == (1, 0, 0)  # the storage key only

    reset(tools)
    sig = client.sign_hash("bound", ECDSA, DIGEST)
    verify(public, sig)
    client.verify_hash("bound", ECDSA, DIGEST, sig)


def test_key_bound_to_two_pcrs_names_the_one_that_changed(
        client: BasicClient, tools: dict[str, str], swtpm: Swtpm,
        tpm_service: ServiceProcess) -> None:
    client.generate_key("two", ECC, pcrs=[16, 7])  # any order: stored ascending
    binding = client.key_attributes("two").pcr_binding
    assert binding is not None and binding.pcrs == (7, 16)
    assert binding.digest == hashlib.sha256(b"".join(pcr_values(swtpm, [7, 16]))).digest()
    verify(client.export_public_key("two"), client.sign_hash("two", ECDSA, DIGEST))
    extend(tools, 16, b"two")
    assert_refused(client, tpm_service, "two", PCR16_CHANGED)
    reset(tools)
    client.sign_hash("two", ECDSA, DIGEST)


def test_refusal_names_every_pcr_that_changed(client: BasicClient, tools: dict[str, str],
                                              tpm_service: ServiceProcess) -> None:
    client.generate_key("pair", ECC, pcrs=[23, 16])  # both resettable from locality 0
    try:
        extend(tools, 16)
        extend(tools, 23)
        seen = len(tpm_service.log())
        with pytest.raises(PlatformStateChanged, match="sha256:16,23"):
            client.sign("pair", b"data")
        assert "platform state changed: PCRs 16, 23 no longer hold the values the key was " \
            "bound to" in tpm_service.log()[seen:]
    finally:
        reset(tools, 23)


def test_explicit_digest(client: BasicClient, swtpm: Swtpm, tools: dict[str, str],
                         tpm_service: ServiceProcess) -> None:
    now = hashlib.sha256(b"".join(pcr_values(swtpm, [16]))).digest()
    client.generate_key("now", ECC, pcrs=[16], pcr_digest=now)
    client.sign_hash("now", ECDSA, DIGEST)
    # A digest of some other state: the key is made, and refuses to sign until that state.
    client.generate_key("other", ECC, pcrs=[16], pcr_digest=hashlib.sha256(b"x" * 32).digest())
    assert_refused(client, tpm_service, "other",
                   "platform state changed: PCR 16 does not hold the value the key was bound to")
    # The state a digest names can be reached: extend PCR 16 from its reset value with X and
    # the key bound to sha256(sha256(0^32 || X)) signs.
    x = hashlib.sha256(b"future").digest()
    future = hashlib.sha256(hashlib.sha256(b"\0" * 32 + x).digest()).digest()
    client.generate_key("future", ECC, pcrs=[16], pcr_digest=future)
    with pytest.raises(ServiceError):
        client.sign_hash("future", ECDSA, DIGEST)
    extend(tools, 16, b"future")
    client.sign_hash("future", ECDSA, DIGEST)


@pytest.mark.parametrize("binding, expected", [
    (PcrBinding((24,)), ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (PcrBinding(()), ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (PcrBinding((16, 16)), ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (PcrBinding((16,), Hash.SHA_256, b"\0" * 20), ResponseStatus.PSA_ERROR_INVALID_ARGUMENT),
    (PcrBinding((16,), Hash.SHA_384), ResponseStatus.PSA_ERROR_NOT_SUPPORTED),
])
def test_bad_bindings_are_refused(client: BasicClient, binding: PcrBinding,
                                  expected: ResponseStatus) -> None:
    attrs = templates.bound_to_pcrs(ECC, binding.pcrs, binding.digest, binding.bank)
    with pytest.raises(ServiceError) as exc:
        client.generate_key("bad", attrs)
    assert status(exc) == expected
    if expected == ResponseStatus.PSA_ERROR_NOT_SUPPORTED:
        assert not client.can_do_crypto(CheckType.GENERATE, attrs)
    else:
        with pytest.raises(ServiceError) as exc:
            client.can_do_crypto(CheckType.GENERATE, attrs)
        assert status(exc) == expected
    assert [k.name for k in client.list_keys(include_extensions=True)] == []


def test_public_keys_cannot_be_bound(client: BasicClient) -> None:
    pub = ec.generate_private_key(ec.SECP256R1()).public_key()
    attrs = KeyAttributes(KeyType.ecc_public_key(EccFamily.SECP_R1), 256,
                          KeyPolicy(UsageFlags(verify_hash=True), ECDSA))
    point = pub.public_bytes(serialization.Encoding.X962,
                             serialization.PublicFormat.UncompressedPoint)
    with pytest.raises(ServiceError) as exc:
        client.import_key("pub", attrs, point, pcrs=[16])
    assert status(exc) == ResponseStatus.PSA_ERROR_NOT_SUPPORTED
    assert not client.can_do_crypto(CheckType.IMPORT, templates.bound_to_pcrs(attrs, [16]))


def test_can_do_crypto_says_bindings_are_supported(client: BasicClient) -> None:
    assert client.can_do_crypto(CheckType.GENERATE, templates.bound_to_pcrs(ECC, [7, 16]))
    assert client.can_do_crypto(CheckType.USE, templates.bound_to_pcrs(ECC, [16]))


def test_imported_private_key_bound(client: BasicClient, tools: dict[str, str]) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    client.import_key("imported", ECC, key.private_numbers().private_value.to_bytes(32, "big"),
                      pcrs=[16])
    sig = client.sign_hash("imported", ECDSA, DIGEST)
    key.public_key().verify(encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                                 int.from_bytes(sig[32:], "big")),
                            DIGEST, ec.ECDSA(Prehashed(hashes.SHA256())))
    extend(tools, 16)
    with pytest.raises(ServiceError) as exc:
        client.sign_hash("imported", ECDSA, DIGEST)
    assert status(exc) == ResponseStatus.PSA_ERROR_NOT_PERMITTED


def test_bound_rsa_key_decrypts_only_in_its_state(client: BasicClient,
                                                  tools: dict[str, str]) -> None:
    client.generate_key("rsa", templates.rsa_encryption(1024, oaep=True), pcrs=[16])
    ct = client.encrypt("rsa", b"secret")
    assert client.decrypt("rsa", ct) == b"secret"
    extend(tools, 16)
    assert client.encrypt("rsa", b"still")  # the public half is not bound
    with pytest.raises(PlatformStateChanged):
        client.decrypt("rsa", ct)
    reset(tools)
    assert client.decrypt("rsa", ct) == b"secret"
    # The raw-RSA path (an OAEP label the TPM cannot take) is guarded as well.
    label = b"label without a NUL"
    assert client.decrypt("rsa", client.encrypt("rsa", b"x", label), label) == b"x"
    extend(tools, 16)
    with pytest.raises(PlatformStateChanged):
        client.decrypt("rsa", client.encrypt("rsa", b"x", label), label)


def test_list_keys_shows_the_binding_only_to_clients_that_ask(client: BasicClient) -> None:
    client.generate_key("listed", ECC, pcrs=[16])
    plain = {k.name: k.attributes for k in client.list_keys()}
    assert plain["listed"] == ECC  # as a Parsec client sees it: an ECC key, no extension field
    extended = {k.name: k.attributes for k in client.list_keys(include_extensions=True)}
    assert extended["listed"].pcr_binding is not None
    assert extended["listed"].without_extension_fields() == ECC


def test_policy_digest_matches_a_trial_session(swtpm: Swtpm) -> None:
    """The authPolicy computed in software is what the TPM computes for the same commands."""
    from tpm2_pytss import ESAPI
    from tpm2_pytss.constants import ESYS_TR, TPM2_ALG, TPM2_SE
    from tpm2_pytss.types import TPM2B_DIGEST, TPMT_SYM_DEF

    from pqparsec.service.providers.tpm import pcr

    binding = PcrBinding((0, 7, 16, 23), Hash.SHA_256, hashlib.sha256(b"state").digest())
    with ESAPI(swtpm.tcti) as ctx:
        trial = ctx.start_auth_session(ESYS_TR.NONE, ESYS_TR.NONE, TPM2_SE.TRIAL,
                                       TPMT_SYM_DEF(algorithm=TPM2_ALG.NULL), TPM2_ALG.SHA256)
        try:
            ctx.policy_pcr(trial, TPM2B_DIGEST(binding.digest),
                           pcr.selection(binding.bank, binding.pcrs))
            ctx.policy_auth_value(trial)
            expected = bytes(ctx.policy_get_digest(trial))
        finally:
            ctx.flush_context(trial)
    assert pcr.policy_digest(binding) == expected


def test_bound_key_survives_a_tpm_restart(client: BasicClient, swtpm: Swtpm) -> None:
    """PCR 16 comes back at its reset value, so the key works after the restart."""
    client.generate_key("restart", ECC, pcrs=[16])
    public = client.export_public_key("restart")
    swtpm.restart()
    verify(public, client.sign_hash("restart", ECDSA, DIGEST))


# -- the command line ------------------------------------------------------------------------------

def test_cli_pcr_option(tpm_service: ServiceProcess, tools: dict[str, str], swtpm: Swtpm,
                        tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PQPARSEC_APP_NAME"}
    env.update({"PARSEC_SERVICE_ENDPOINT": tpm_service.endpoint,
                "XDG_DATA_HOME": str(tmp_path / "xdg")})
    cli = Cli(pqparsec_executable(), tpm_service.endpoint, "pcr-cli", env)
    cli("-p", "3", "create-ecc-key", "-k", "k", "--pcr", "7,16")
    listed = cli("-p", "3", "list-keys", "--extensions").stdout
    assert "bound to PCRs sha256:7,16" in listed
    assert "bound" not in cli("-p", "3", "list-keys").stdout
    cli("-p", "3", "sign", "-k", "k", "data")
    extend(tools, 16)
    res = cli("-p", "3", "sign", "-k", "k", "data", check=False)
    assert res.returncode == 5, res.stderr  # not permitted
    assert "platform state changed" in res.stderr
    reset(tools)
    cli("-p", "3", "sign", "-k", "k", "data")

    digest = hashlib.sha256(b"".join(pcr_values(swtpm, [16]))).hexdigest()
    cli("-p", "3", "create-ecc-key", "-k", "d", "--pcr", "16", "--pcr-digest", digest)
    cli("-p", "3", "sign", "-k", "d", "data")
    res = cli("-p", "3", "create-ecc-key", "-k", "bad", "--pcr", "24", check=False)
    assert res.returncode == 9, res.stderr  # invalid argument
    res = cli("-p", "3", "create-ecc-key", "-k", "bad", "--pcr", "a,b", check=False)
    assert res.returncode == 2
    res = cli("-p", "3", "create-ecc-key", "-k", "bad", "--pcr-digest", "00", check=False)
    assert res.returncode == 2

    # import-key binds an imported private key the same way.
    pem = tmp_path / "imported.pem"
    pem.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    cli("-p", "3", "import-key", "-k", "imp", "--pcr", "16", str(pem))
    assert "imp" in cli("-p", "3", "list-keys", "--extensions").stdout
    cli("-p", "3", "sign", "-k", "imp", "data")
    extend(tools, 16)
    res = cli("-p", "3", "sign", "-k", "imp", "data", check=False)
    assert res.returncode == 5 and "platform state changed" in res.stderr, res.stderr
    reset(tools)
    cli("-p", "3", "sign", "-k", "imp", "data")


# -- units -----------------------------------------------------------------------------------------

def test_selection_is_what_tpm2_pytss_marshals() -> None:
    from tpm2_pytss.types import TPML_PCR_SELECTION

    from pqparsec.service.providers.tpm import pcr
    for pcrs in ((0,), (7, 16), (0, 7, 8, 15, 16, 23), tuple(range(24))):
        expected = TPML_PCR_SELECTION.parse("sha256:" + ",".join(map(str, pcrs))).marshal()
        assert pcr.selection_bytes(Hash.SHA_256, pcrs) == bytes(expected)


def test_blob_keeps_the_bound_values() -> None:
    from pqparsec.service.providers.tpm import blob

    plain = blob.TpmKeyBlob(b"parent", b"auth", b"public", b"private")
    bound = blob.TpmKeyBlob(b"parent", b"auth", b"public", b"private", b"\1" * 64)
    assert blob.decode(blob.encode(plain)) == plain
    assert blob.decode(blob.encode(bound)) == bound
    # An unbound key's blob is the format it always had (four fields).
    assert blob.encode(plain).count(b"private") == 1 and blob.encode(plain).endswith(b"private")
