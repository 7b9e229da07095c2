"""The TPM provider (id 3) on swtpm: its pinned ListOpcodes and CanDoCrypto answers.

Derived from the service with regen.py (issue 12), then reviewed against docs/providers-tpm.md
(its "What it supports" table) and tpm/capabilities.py. What the review checked, and found:

- Opcodes: key management without PsaExportKey, signatures, asymmetric encryption, random,
  CanDoCrypto, PrepareKeyAttestation and AttestKey; no hashes, symmetric operations or key
  agreement.
- Key types: RSA key pairs of 1024, 2048 and 3072 bits; RSA public keys of 1024, 2048, 3072 and
  4096 bits; SECP-R1 256 and 384, pair and public.
- Signatures: PKCS#1 v1.5, PSS and ECDSA with SHA-1 (not at generation: deprecated), SHA-256,
  SHA-384, SHA-512, or any hash; no SHA-224, no deterministic ECDSA, ECDSA_ANY or raw PKCS#1.
  Encryption: PKCS#1 v1.5 and OAEP with SHA-1 (not at generation)/256/384/512.
- Doubtful: (1) the docs said "RSA public key of 1024 to 4096 bits", but only those four sizes
  import (1025-1031 and 1536 are NotSupported): the docs now name the four sizes;
  (2) Generate/Import of a SECP-R1 key whose policy names ECDH answers NotSupported, and
  PsaGenerateKey and PsaImportKey now refuse such a key too (they created it before).
"""

# ListOpcodes with include_extensions (Opcode member names).
OPCODES = """
PSA_GENERATE_KEY PSA_DESTROY_KEY PSA_SIGN_HASH PSA_VERIFY_HASH PSA_IMPORT_KEY
PSA_EXPORT_PUBLIC_KEY PSA_ASYMMETRIC_ENCRYPT PSA_ASYMMETRIC_DECRYPT PSA_GENERATE_RANDOM
PSA_SIGN_MESSAGE PSA_VERIFY_MESSAGE ATTEST_KEY PREPARE_KEY_ATTESTATION CAN_DO_CRYPTO
"""
# ...of which a plain ListOpcodes leaves out:
EXTENSION_OPCODES = """
"""

# CanDoCrypto: Success.
SUPPORTED: dict[str, dict[str, str]] = {
    "keys": {
        "RsaKeyPair": "0 1024 2048 3072",
        "RsaPublicKey": "0[import] 1024[import] 2048[import] 3072[import] 4096[import]",
        "EccKeyPair(SECP_R1)": "0 256 384",
        "EccPublicKey(SECP_R1)": "0[import] 256[import] 384[import]",
    },
    "sign": {
        "RsaKeyPair/1024": (
            "RSA_PKCS1V15_SIGN(SHA_256) RSA_PKCS1V15_SIGN(SHA_384) RSA_PKCS1V15_SIGN(SHA_512) "
            "RSA_PKCS1V15_SIGN(ANY_HASH) RSA_PSS(SHA_256) RSA_PSS(SHA_384) RSA_PSS(SHA_512) "
            "RSA_PSS(ANY_HASH)"),
        "RsaKeyPair/2048": (
            "RSA_PKCS1V15_SIGN(SHA_256) RSA_PKCS1V15_SIGN(SHA_384) RSA_PKCS1V15_SIGN(SHA_512) "
            "RSA_PKCS1V15_SIGN(ANY_HASH) RSA_PSS(SHA_256) RSA_PSS(SHA_384) RSA_PSS(SHA_512) "
            "RSA_PSS(ANY_HASH) RSA_PKCS1V15_SIGN(SHA_1)[use,import] RSA_PSS(SHA_1)[use,import]"),
        "RsaPublicKey/0": (
            "RSA_PKCS1V15_SIGN(SHA_256)[use,import] RSA_PKCS1V15_SIGN(SHA_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512)[use,import] RSA_PKCS1V15_SIGN(ANY_HASH)[use,import] "
            "RSA_PSS(SHA_256)[use,import] RSA_PSS(SHA_384)[use,import] "
            "RSA_PSS(SHA_512)[use,import] RSA_PSS(ANY_HASH)[use,import]"),
        "RsaPublicKey/2048": (
            "RSA_PKCS1V15_SIGN(SHA_256)[use,import] RSA_PKCS1V15_SIGN(SHA_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512)[use,import] RSA_PKCS1V15_SIGN(ANY_HASH)[use,import] "
            "RSA_PSS(SHA_256)[use,import] RSA_PSS(SHA_384)[use,import] "
            "RSA_PSS(SHA_512)[use,import] RSA_PSS(ANY_HASH)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_1)[use,import] RSA_PSS(SHA_1)[use,import]"),
        "EccKeyPair(SECP_R1)/0": "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH)",
        "EccKeyPair(SECP_R1)/256": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
            "ECDSA(SHA_1)[use,import]"),
        "EccKeyPair(SECP_R1)/384": "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH)",
        "EccPublicKey(SECP_R1)/256": (
            "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
            "ECDSA(ANY_HASH)[use,import] ECDSA(SHA_1)[use,import]"),
        "EccPublicKey(SECP_R1)/384": (
            "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
            "ECDSA(ANY_HASH)[use,import] ECDSA(SHA_1)[use,import]"),
        "RsaPublicKey/1024": (
            "RSA_PKCS1V15_SIGN(SHA_1)[use,import] RSA_PKCS1V15_SIGN(SHA_256)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_384)[use,import] RSA_PKCS1V15_SIGN(SHA_512)[use,import]"),
        "RsaPublicKey/3072": (
            "RSA_PKCS1V15_SIGN(SHA_1)[use,import] RSA_PKCS1V15_SIGN(SHA_256)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_384)[use,import] RSA_PKCS1V15_SIGN(SHA_512)[use,import]"),
        "RsaPublicKey/4096": (
            "RSA_PKCS1V15_SIGN(SHA_1)[use,import] RSA_PKCS1V15_SIGN(SHA_256)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_384)[use,import] RSA_PKCS1V15_SIGN(SHA_512)[use,import]"),
    },
    "encrypt": {
        "RsaKeyPair/1024": (
            "RSA_PKCS1V15_CRYPT RSA_OAEP(SHA_1)[use,import] RSA_OAEP(SHA_256) RSA_OAEP(SHA_384) "
            "RSA_OAEP(SHA_512)"),
        "RsaKeyPair/2048": (
            "RSA_PKCS1V15_CRYPT RSA_OAEP(SHA_1)[use,import] RSA_OAEP(SHA_256) RSA_OAEP(SHA_384) "
            "RSA_OAEP(SHA_512)"),
        "RsaPublicKey/2048": (
            "RSA_PKCS1V15_CRYPT[use,import] RSA_OAEP(SHA_1)[use,import] "
            "RSA_OAEP(SHA_256)[use,import] RSA_OAEP(SHA_384)[use,import] "
            "RSA_OAEP(SHA_512)[use,import]"),
    },
}

# CanDoCrypto: another status than Success or PsaErrorNotSupported (the rest of the grid).
REFUSED: dict[str, dict[str, dict[str, str]]] = {
}
