"""Refusals a provider's pinned table promises but the service does not make yet: each is a bug
in src/ (reported, not fixed in the tests), and its refusal test is xfail(strict=True), so that
the fix shows up as an XPASS failure and this entry is removed with it.

(provider, cell or opcode name) -> what is wrong.
"""

from __future__ import annotations

_TPM_AGREEMENT = (
    "TPM provider: CanDoCrypto (Generate, Import) answers NotSupported for an ECC key whose policy "
    "names ECDH, but PsaGenerateKey / PsaImportKey create it (a key no operation can use): "
    "tpm/capabilities.check_policy refuses only the signature and encryption algorithms the TPM "
    "cannot do, not key agreement; the PKCS#11 provider refuses it")

KNOWN_BUGS: dict[tuple[str, str], str] = {
    ("tpm", f"{check} EccKeyPair(SECP_R1)/{bits} ECDH"): _TPM_AGREEMENT
    for check in ("generate", "import") for bits in (256, 384)
}
