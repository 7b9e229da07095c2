"""Admin extension commands that parsec-tool lacks: adopt-key (AdoptKey, opcode 0x0102)."""

from __future__ import annotations

import click

from pqparsec.cli.context import Tool, pass_tool
from pqparsec.client import templates
from pqparsec.client.admin import adopt_key as adopt
from pqparsec.protocol.ids import ProviderId


@click.command("adopt-key")
@click.option("--app", "application", required=True,
              help="The application that gets the key (same authenticator as the admin).")
@click.option("-k", "--key-name", required=True, help="The key's name for that application.")
@click.option("-l", "--label", help="Select the token's private key by CKA_LABEL.")
@click.option("-i", "--id", "key_id", metavar="HEX",
              help="Select the token's private key by CKA_ID (hexadecimal).")
@click.option("--rsa", is_flag=True, help="The token key is RSA (default: ECC, SECP-R1).")
@click.option("-s", "--for-signing", is_flag=True,
              help="RSA: a signing key (PKCS#1 v1.5 with SHA-256) instead of an encryption key.")
@click.option("-r", "--for-signing-pss", is_flag=True, help="RSA: a signing key using RSA-PSS.")
@click.option("-o", "--oaep", is_flag=True, help="RSA: encrypt with RSA-OAEP (SHA-256).")
@click.option("-b", "--bits", type=click.IntRange(min=0), default=0,
              help="The key size; 0 (default) takes the token object's.")
@click.option("-x", "--exportable", is_flag=True,
              help="Allow PsaExportKey (if the token object is extractable).")
@pass_tool
def adopt_key(tool: Tool, application: str, key_name: str, label: str | None,
              key_id: str | None, rsa: bool, for_signing: bool, for_signing_pss: bool,
              oaep: bool, bits: int, exportable: bool) -> None:
    """Bind a key pair already on the PKCS#11 token to a key of an application (admin operation,
    a pqparsec extension).

    The key gets the policy of create-ecc-key (ECDSA) or, with --rsa, of create-rsa-key and its
    -s/-r/-o options."""
    if (label is None) == (key_id is None):
        raise click.UsageError("give exactly one of --label and --id")
    raw_id = None
    if key_id is not None:
        try:
            raw_id = bytes.fromhex(key_id)
        except ValueError:
            raise click.BadParameter("not hexadecimal", param_hint="--id") from None
    if rsa:
        if for_signing and for_signing_pss:
            raise click.UsageError("--for-signing and --for-signing-pss exclude each other")
        if oaep and (for_signing or for_signing_pss):
            raise click.UsageError("--oaep is for encryption keys; it excludes the signing options")
        if for_signing or for_signing_pss:
            attrs = templates.rsa_signing(bits, pss=for_signing_pss, exportable=exportable)
        else:
            attrs = templates.rsa_encryption(bits, oaep=oaep, exportable=exportable)
    else:
        if for_signing_pss or oaep:
            raise click.UsageError("-r and -o are for RSA keys (--rsa)")
        attrs = templates.ecc_signing(bits, exportable=exportable)
    provider = ProviderId.PKCS11 if tool.provider is None else tool.provider
    tool.info(f"Adopting the token key as \"{key_name}\" of \"{application}\"...")
    adopt(tool.client, application, key_name, attrs, label=label, id=raw_id, provider=provider)
    tool.info(f"Key \"{key_name}\" adopted.")
