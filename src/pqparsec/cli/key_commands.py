"""Key management: create-*, import-key, export-public-key, export-key, delete-key, create-csr,
and the client-side `label` commands."""

from __future__ import annotations

import ipaddress
from typing import Any

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.x509.oid import NameOID

from pqparsec.cli.context import Tool, b64, emit_json, pass_tool, read_file
from pqparsec.cli.errors import wrong_key_algorithm
from pqparsec.cli.specs import CURVES, SYMMETRIC
from pqparsec.client import keys, templates
from pqparsec.client.csr import build_csr
from pqparsec.client.errors import KeyTypeError
from pqparsec.protocol.psa import (
    EccFamily,
    KeyAgreementAlg,
    KeyAttributes,
)

key_name_option = click.option("-k", "--key-name", required=True, help="The key's name.")
exportable_option = click.option("-x", "--exportable", is_flag=True,
                                 help="Allow PsaExportKey of the key (export usage flag).")


def _pcr_list(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(part, 10) for part in value.split(",")]
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected PCR indices such as 7,16") from None


def _hex_digest(ctx: click.Context, param: click.Parameter, value: str | None) -> bytes:
    if value is None:
        return b""
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not hexadecimal") from None


def pcr_options(f: Any) -> Any:
    """--pcr / --pcr-digest: bind the key to platform state (extension; TPM provider)."""
    f = click.option("--pcr-digest", "pcr_digest", callback=_hex_digest, metavar="HEX",
                     help="With --pcr: the SHA-256 of the PCR values (ascending PCR order) the "
                          "key is bound to, instead of their current values.")(f)
    return click.option("--pcr", "pcrs", callback=_pcr_list, metavar="INDICES",
                        help="Bind the key to these PCRs (e.g. 7,16): it signs and decrypts only "
                             "while they hold their current values (TPM provider; a pqparsec "
                             "protocol extension).")(f)


def _check_pcr_options(pcrs: list[int] | None, pcr_digest: bytes) -> None:
    if pcr_digest and pcrs is None:
        raise click.UsageError("--pcr-digest needs --pcr")


def _rsa_attributes(bits: int, for_signing: bool, pss: bool, oaep: bool,
                    exportable: bool) -> tuple[KeyAttributes, str]:
    if for_signing and pss:
        raise click.UsageError("--for-signing and --for-signing-pss exclude each other")
    if oaep and (for_signing or pss):
        raise click.UsageError("--oaep is for encryption keys; it excludes the signing options")
    if for_signing or pss:
        return templates.rsa_signing(bits, pss=pss, exportable=exportable), "signing"
    return templates.rsa_encryption(bits, oaep=oaep, exportable=exportable), "encryption"


@click.command("create-rsa-key")
@key_name_option
@click.option("-s", "--for-signing", is_flag=True,
              help="A signing key (RSA PKCS#1 v1.5 with SHA-256) instead of an encryption key.")
@click.option("-r", "--for-signing-pss", is_flag=True,
              help="A signing key using RSA-PSS with SHA-256.")
@click.option("-b", "--bits", type=click.IntRange(min=1), default=2048, show_default=True,
              help="Key size in bits.")
@click.option("-o", "--oaep", is_flag=True,
              help="Encrypt with RSA-OAEP (SHA-256) instead of RSA PKCS#1 v1.5.")
@exportable_option
@pcr_options
@pass_tool
def create_rsa_key(tool: Tool, key_name: str, for_signing: bool, for_signing_pss: bool,
                   bits: int, oaep: bool, exportable: bool, pcrs: list[int] | None,
                   pcr_digest: bytes) -> None:
    """Create an RSA key pair; an encryption key (PKCS#1 v1.5) unless -s/-r is given."""
    _check_pcr_options(pcrs, pcr_digest)
    attrs, purpose = _rsa_attributes(bits, for_signing, for_signing_pss, oaep, exportable)
    tool.info(f"Creating RSA {purpose} key...")
    tool.client.generate_key(key_name, attrs, pcrs=pcrs, pcr_digest=pcr_digest)
    tool.info(f"Key \"{key_name}\" created.")


@click.command("create-ecc-key")
@key_name_option
@click.option("-c", "--curve", type=click.Choice(sorted(CURVES)), default="secp256r1",
              show_default=True,
              help="The curve (x25519/x448 keys are for key agreement, ed25519/ed448 for EdDSA).")
@click.option("--ecdh", is_flag=True, help="A key agreement (ECDH) key instead of a signing key.")
@exportable_option
@pcr_options
@pass_tool
def create_ecc_key(tool: Tool, key_name: str, curve: str, ecdh: bool, exportable: bool,
                   pcrs: list[int] | None, pcr_digest: bytes) -> None:
    """Create an ECC key pair: by default SECP-R1 256 for ECDSA with SHA-256.

    ed25519/ed448 keys (PureEdDSA) are a pqparsec protocol extension: `list-keys --extensions`
    shows them.
    """
    _check_pcr_options(pcrs, pcr_digest)
    family, bits = CURVES[curve]
    if family == EccFamily.TWISTED_EDWARDS:
        if ecdh:
            raise click.UsageError(f"{curve} keys sign; use x25519/x448 for key agreement")
        tool.info("Creating EdDSA signing key...")
        attrs = templates.eddsa(bits, exportable=exportable)
    elif ecdh or family == EccFamily.MONTGOMERY:
        tool.info("Creating ECC key agreement key...")
        attrs = templates.ecdh(bits, family, exportable=exportable)
    else:
        tool.info("Creating ECC signing key...")
        attrs = templates.ecc_signing(bits, family, exportable=exportable)
    tool.client.generate_key(key_name, attrs, pcrs=pcrs, pcr_digest=pcr_digest)
    tool.info(f"Key \"{key_name}\" created.")


@click.command("create-symmetric-key")
@key_name_option
@click.option("-a", "--alg", "alg_name", type=click.Choice(sorted(SYMMETRIC)), default="aes-gcm",
              show_default=True, help="What the key is for.")
@click.option("-b", "--bits", type=click.IntRange(min=8),
              help="Key size (default: 256 for AES/ChaCha20, the hash size for HMAC).")
@exportable_option
@pass_tool
def create_symmetric_key(tool: Tool, key_name: str, alg_name: str, bits: int | None,
                         exportable: bool) -> None:
    """Create a symmetric key for AEAD (aead-encrypt) or HMAC (mac)."""
    tool.info(f"Creating {alg_name} key...")
    tool.client.generate_key(key_name, SYMMETRIC[alg_name](bits, exportable))
    tool.info(f"Key \"{key_name}\" created.")


@click.command("import-key")
@key_name_option
@click.argument("key_file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-s", "--for-signing", is_flag=True, help="RSA: PKCS#1 v1.5 signing (SHA-256).")
@click.option("-r", "--for-signing-pss", is_flag=True, help="RSA: PSS signing (SHA-256).")
@click.option("-o", "--oaep", is_flag=True, help="RSA: OAEP (SHA-256) encryption.")
@click.option("--ecdh", is_flag=True, help="EC private keys: key agreement instead of ECDSA.")
@click.option("--symmetric", "symmetric", type=click.Choice(sorted(SYMMETRIC)),
              help="KEY_FILE holds the raw bytes of a symmetric key of this kind.")
@exportable_option
@pcr_options
@pass_tool
def import_key(tool: Tool, key_name: str, key_file: str, for_signing: bool,
               for_signing_pss: bool, oaep: bool, ecdh: bool, symmetric: str | None,
               exportable: bool, pcrs: list[int] | None, pcr_digest: bytes) -> None:
    """Import a key from KEY_FILE ('-' = stdin).

    Asymmetric keys: PEM or DER, PKCS#8 or PKCS#1 (RSA) or SEC1 (EC) private keys, or
    SubjectPublicKeyInfo / PKCS#1 public keys, including Ed25519/Ed448 and ML-DSA/ML-KEM-768/1024
    ones. The policy follows the create-*-key commands (ML-DSA: pure, hedged); a public key gets
    only the public half of it (encrypt or verify).
    """
    _check_pcr_options(pcrs, pcr_digest)
    data = read_file(key_file)
    client = tool.client
    if symmetric is not None and pcrs is not None:
        raise click.UsageError("--pcr binds key pairs (TPM provider), not symmetric keys")
    if symmetric is not None:
        attrs = SYMMETRIC[symmetric](len(data) * 8, exportable)
        tool.info(f"Importing {symmetric} key...")
        client.import_key(key_name, attrs, data)
        tool.info(f"Key \"{key_name}\" imported.")
        return
    try:
        key = keys.load_key(data)
    except KeyTypeError as exc:
        raise click.BadParameter(str(exc), param_hint="KEY_FILE") from None
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        attrs, _ = _rsa_attributes(key.key_size, for_signing, for_signing_pss, oaep, exportable)
    elif isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        family, bits = keys.curve_params(key.curve)
        attrs = templates.ecdh(bits, family, exportable=exportable) if ecdh else \
            templates.ecc_signing(bits, family, exportable=exportable)
    elif isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey,
                          ed448.Ed448PrivateKey, ed448.Ed448PublicKey)):
        bits = 255 if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)) \
            else 448
        attrs = templates.eddsa(bits, exportable=exportable)
    elif isinstance(key, (x25519.X25519PrivateKey, x25519.X25519PublicKey,
                          x448.X448PrivateKey, x448.X448PublicKey)):
        bits = 255 if isinstance(key, (x25519.X25519PrivateKey, x25519.X25519PublicKey)) else 448
        attrs = templates.ecdh(bits, EccFamily.MONTGOMERY, exportable=exportable)
    else:  # ML-DSA (pure, hedged) or ML-KEM: their PKCS#8 / SPKI forms (RFC 9881, RFC 9935)
        kind, bits = keys.pq_key_params(key)
        attrs = templates.ml_dsa(bits, exportable=exportable) if kind.is_ml_dsa else \
            templates.ml_kem(bits, exportable=exportable)
    if not isinstance(key, keys.PrivateKey):
        if isinstance(attrs.algorithm, KeyAgreementAlg):
            raise click.UsageError("a public key cannot be used for key agreement")
        attrs = templates.public_counterpart(attrs)
    if pcrs is not None:
        attrs = templates.bound_to_pcrs(attrs, pcrs, pcr_digest)
    tool.info("Importing key...")
    client.import_key_object(key_name, key, attrs.policy)
    tool.info(f"Key \"{key_name}\" imported.")


@click.command("export-public-key")
@key_name_option
@click.option("--pkcs1", is_flag=True, help="RSA keys: PKCS#1 \"RSA PUBLIC KEY\" instead of SPKI.")
@pass_tool
def export_public_key(tool: Tool, key_name: str, pkcs1: bool) -> None:
    """Export the public part of a key pair in PEM (SubjectPublicKeyInfo by default)."""
    client = tool.client
    info = client.key_info(key_name)
    kt = info.attributes.key_type
    if not kt.is_asymmetric:
        raise wrong_key_algorithm(f"key {key_name!r} is a {kt.describe()}: it has no public part")
    if pkcs1 and not kt.is_rsa:
        raise wrong_key_algorithm("the PKCS#1 format exists for RSA keys only")
    pub = client.public_key(key_name, info=info)
    click.echo(keys.public_pem(pub, pkcs1), nl=False)


@click.command("export-key")
@key_name_option
@click.option("--raw", is_flag=True, help="Base64 of the PSA export format instead of PEM.")
@pass_tool
def export_key(tool: Tool, key_name: str, raw: bool) -> None:
    """Export a key (it needs the export usage flag): asymmetric keys as PEM (PKCS#8 or
    SubjectPublicKeyInfo), symmetric keys as base64."""
    client = tool.client
    info = client.key_info(key_name)
    data = client.export_key(key_name)
    kt, bits = info.attributes.key_type, info.attributes.key_bits
    if raw or not kt.is_asymmetric or kt.is_dh:
        click.echo(b64(data))
        return
    if kt.is_public_key:
        click.echo(keys.public_pem(keys.public_key_from_psa(kt, bits, data)), nl=False)
    else:
        click.echo(keys.private_pem(keys.private_key_from_psa(kt, bits, data)), nl=False)


@click.command("delete-key")
@key_name_option
@pass_tool
def delete_key(tool: Tool, key_name: str) -> None:
    """Delete a key."""
    tool.info("Deleting a key...")
    tool.client.destroy_key(key_name)
    tool.info(f"Key \"{key_name}\" deleted.")


# -- create-csr ---------------------------------------------------------------------------------

def _san(value: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


@click.command("create-csr")
@key_name_option
@click.option("--cn", "common_name", help="Common name (CN).")
@click.option("--l", "locality", help="Locality (L).")
@click.option("--o", "organization", help="Organization (O).")
@click.option("--ou", "organizational_unit", help="Organizational unit (OU).")
@click.option("--st", "state", help="State or province (ST).")
@click.option("--c", "country", help="Country (C), two letters.")
@click.option("--serialNumber", "serial_number", help="Serial number of the subject (2.5.4.5).")
@click.option("--san", "sans", multiple=True,
              help="Subject alternative name: a DNS name or an IP address; repeatable.")
@pass_tool
def create_csr(tool: Tool, key_name: str, common_name: str | None, locality: str | None,
               organization: str | None, organizational_unit: str | None, state: str | None,
               country: str | None, serial_number: str | None, sans: tuple[str, ...]) -> None:
    """Create a certificate signing request (PEM) signed by a key in the service.

    RSA and ECDSA keys as parsec-tool; Ed25519, Ed448 and (pure) ML-DSA keys too, a pqparsec
    extension (signature algorithms 1.3.101.112 / .113, 2.16.840.1.101.3.4.3.17-19).
    """
    parts = [(NameOID.COMMON_NAME, common_name), (NameOID.ORGANIZATIONAL_UNIT_NAME,
             organizational_unit), (NameOID.ORGANIZATION_NAME, organization),
             (NameOID.LOCALITY_NAME, locality), (NameOID.STATE_OR_PROVINCE_NAME, state),
             (NameOID.COUNTRY_NAME, country), (NameOID.SERIAL_NUMBER, serial_number)]
    try:
        name = x509.Name([x509.NameAttribute(oid, v) for oid, v in parts if v is not None])
    except ValueError as exc:
        raise click.UsageError(f"subject: {exc}") from None
    csr = build_csr(tool.client, key_name, name, sans=[_san(s) for s in sans])
    click.echo(csr.public_bytes(serialization.Encoding.PEM).decode(), nl=False)


# -- labels -------------------------------------------------------------------------------------

@click.group("label")
def label() -> None:
    """Client-side labels of keys (kept in a file of yours, not in the service)."""


def _label_items(specs: tuple[str, ...]) -> dict[str, str]:
    items = {}
    for spec in specs:
        name, _, value = spec.partition("=")
        if not name:
            raise click.BadParameter(f"{spec!r}: a label needs a name", param_hint="LABEL")
        items[name] = value
    return items


@label.command("set")
@key_name_option
@click.argument("labels", nargs=-1, required=True, metavar="LABEL[=VALUE]...")
@pass_tool
def label_set(tool: Tool, key_name: str, labels: tuple[str, ...]) -> None:
    """Attach labels to a key."""
    tool.client.labels.set(key_name, _label_items(labels))


@label.command("remove")
@key_name_option
@click.argument("labels", nargs=-1, metavar="[LABEL]...")
@pass_tool
def label_remove(tool: Tool, key_name: str, labels: tuple[str, ...]) -> None:
    """Remove labels from a key (all of them when none is named)."""
    tool.client.labels.remove(key_name, *labels)


@label.command("show")
@key_name_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pass_tool
def label_show(tool: Tool, key_name: str, as_json: bool) -> None:
    """Print the labels of a key."""
    items = tool.client.labels.get(key_name)
    if as_json:
        emit_json(items)
        return
    for k, v in items.items():
        click.echo(f"{k}={v}" if v else k)


@label.command("find")
@click.argument("label_spec", metavar="LABEL[=VALUE]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pass_tool
def label_find(tool: Tool, label_spec: str, as_json: bool) -> None:
    """Print the names of the keys carrying a label."""
    name, sep, value = label_spec.partition("=")
    names = tool.client.labels.find(name, value if sep else None)
    if as_json:
        emit_json(names)
        return
    for n in names:
        click.echo(n)


@label.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pass_tool
def label_list(tool: Tool, as_json: bool) -> None:
    """Print every labelled key with its labels."""
    everything = tool.client.labels.all()
    if as_json:
        emit_json(everything)
        return
    for key, items in everything.items():
        shown = " ".join(f"{k}={v}" if v else k for k, v in items.items())
        click.echo(f"* {key}: {shown}")
