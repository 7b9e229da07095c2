"""Key attestation commands that parsec-tool lacks: attest-key (AttestKey with the Certify
mechanism, a pqparsec extension; TPM provider)."""

from __future__ import annotations

import os

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pqparsec.cli.context import Tool, pass_tool, read_file
from pqparsec.cli.errors import CliError, Exit
from pqparsec.client import attestation, keys
from pqparsec.protocol.ids import ProviderId

_SPKI = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
_out = click.Path(dir_okay=False, writable=True, allow_dash=False)


def _nonce(value: str | None) -> bytes:
    if value is None:
        return os.urandom(attestation.NONCE_LEN)
    try:
        nonce = bytes.fromhex(value)
    except ValueError:
        raise click.BadParameter("not hexadecimal", param_hint="--nonce") from None
    if len(nonce) > attestation.NONCE_MAX:
        raise click.BadParameter(f"{len(nonce)} bytes; at most {attestation.NONCE_MAX}",
                                 param_hint="--nonce")
    return nonce


def _write(path: str | None, data: bytes) -> None:
    if path is not None:
        with open(path, "wb") as f:
            f.write(data)


def _describe_key(pub: attestation.TpmPublic) -> str:
    key = pub.public_key
    kind = f"ECC {key.curve.name}" if isinstance(key, ec.EllipticCurvePublicKey) else \
        f"RSA-{key.key_size}"
    return f"{kind}{', restricted' if pub.restricted else ''}"


@click.command("attest-key")
@click.option("-k", "--key-name", required=True, help="The key to attest (a TPM provider key).")
@click.option("-A", "--attesting-key", default="", metavar="NAME",
              help="Sign the statement with this signing key of yours (usage sign_hash) "
                   "instead of the service's attestation key.")
@click.option("-n", "--nonce", metavar="HEX",
              help="The nonce the statement must carry (0 to 64 bytes in hexadecimal; "
                   "default: 32 random bytes).")
@click.option("--attesting-public-key", "pinned", type=click.Path(dir_okay=False, exists=True),
              help="A public key file (PEM or DER) the attesting key must be: pins the "
                   "service's attestation key.")
@click.option("--require-tpm-generated", is_flag=True,
              help="Fail unless the key was generated in the TPM and cannot leave it.")
@click.option("--statement-file", type=_out, help="Write the statement (TPMS_ATTEST) here.")
@click.option("--signature-file", type=_out, help="Write the signature (TPMT_SIGNATURE) here.")
@click.option("--public-file", type=_out,
              help="Write the key's public area (TPMT_PUBLIC) here.")
@click.option("--attesting-key-file", type=_out,
              help="Write the attesting key's public key here (PEM).")
@pass_tool
def attest_key(tool: Tool, key_name: str, attesting_key: str, nonce: str | None,
               pinned: str | None, require_tpm_generated: bool, statement_file: str | None,
               signature_file: str | None, public_file: str | None,
               attesting_key_file: str | None) -> None:
    """Have the TPM certify a key (TPM2_Certify, a pqparsec extension) and verify the statement.

    The statement is verified here: its signature with the attesting key, the nonce, and that
    the key it names is the key the service exports under KEY_NAME. The TPM provider (id 3) is
    used unless -p names another."""
    value = _nonce(nonce)
    provider = ProviderId.TPM if tool.provider is None else tool.provider
    expected_signer: object | None = None
    if pinned is not None:
        expected_signer = keys.load_key(read_file(pinned))
        if not isinstance(expected_signer, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
            raise click.BadParameter("not an RSA or ECC public key",
                                     param_hint="--attesting-public-key")
    tool.info(f"Attesting key \"{key_name}\"...")
    att = attestation.certify_key(tool.client, key_name, value, attesting_key, provider=provider)
    _write(statement_file, att.attest)
    _write(signature_file, att.signature)
    _write(public_file, att.attested_key_public)
    if attesting_key and expected_signer is None:
        expected_signer = tool.client.public_key(attesting_key)
    try:
        verified = attestation.verify_certify(
            att, value, attested_public_key=tool.client.public_key(key_name),
            attesting_public_key=expected_signer,
            require_generated_in_tpm=require_tpm_generated)
    except attestation.AttestationVerificationError as exc:
        raise CliError("AttestationNotVerified", str(exc),
                       "the statement does not prove that this key is in the TPM",
                       Exit.VERIFY_FAILED) from None
    signer = verified.attesting_key
    if attesting_key_file is not None:
        _write(attesting_key_file, signer.public_key.public_bytes(*_SPKI))
    st = verified.statement
    key = verified.attested_key
    origin = "generated in the TPM, cannot leave it" if key.generated_in_tpm else \
        "not generated in the TPM (imported)"
    who = f"key \"{attesting_key}\"" if attesting_key else "the service's attestation key"
    pin = "" if attesting_key or pinned else " (not pinned: use --attesting-public-key)"
    click.echo(f"Key \"{key_name}\" attested by the TPM (TPM2_Certify): verified")
    click.echo(f"  key name:       {key.name.hex()}")
    click.echo(f"  key:            {_describe_key(key)}, {origin}")
    click.echo(f"  attesting key:  {who}, {_describe_key(signer)}{pin}")
    click.echo(f"  attesting name: {signer.name.hex()}")
    click.echo(f"  nonce:          {value.hex() or '(empty)'}")
    click.echo(f"  TPM clock:      {st.clock} ms, resetCount {st.reset_count}, "
               f"restartCount {st.restart_count}, firmware {st.firmware_version:#018x}")
