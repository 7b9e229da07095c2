"""The PKCS#11 provider (id 2) on a SoftHSM2 2.6 token: its pinned ListOpcodes and CanDoCrypto answers.

Derived from the service with regen.py (issue 12), then reviewed against docs/providers-pkcs11.md.
The answers depend on the token's mechanism list (pkcs11/caps.py), so this is SoftHSM2's table.
What the review checked, and found:

- Opcodes: no hashes, no unauthenticated ciphers, no key agreement; AEAD and MAC because SoftHSM2
  has CKM_AES_GCM, CKM_AES_CMAC and the HMACs; AdoptKey (extension).
- Key types: RSA 1024-4096 bits, SECP-R1 256/384/521, AES 128/192/256, HMAC of any size (short
  keys are padded). No other curve, no DH, ChaCha20, RawData, Derive or extension type.
- Signatures: PKCS#1 v1.5 with any hash whose DigestInfo it knows (SHA-3 too, hashed in the
  service), PSS with SHA-1/SHA-2, ECDSA and ECDSA_ANY, raw PKCS#1 v1.5; no deterministic ECDSA.
  OAEP with SHA-1 only (measured on the token), GCM with 4/8/12-16-byte tags, no CCM.
- An algorithm that does not fit the key type answers NotPermitted (REFUSED), as the docs say.
- Deprecated primitives, as the software provider answers (issue 12, fixed): a SHA-1 or MD5
  policy (ECDSA, PKCS#1 v1.5, PSS, OAEP-SHA-1) is use and import only, not generate
  (PsaGenerateKey answers DeprecatedPrimitive); HMAC-SHA-1 not at all (PsaMacCompute refuses it).
  So OAEP keys of SoftHSM2, SHA-1 only, cannot be generated without allow_deprecated.
- MACs truncated to more bytes than the MAC has (HMAC-SHA-256 to 33, CMAC to 17) are
  NotSupported, as in the software provider (the operation: InvalidArgument). GCM nonces over
  128 bytes are refused by the operation (NotSupported; test_symmetric.py), not a cell here.
"""

# ListOpcodes with include_extensions (Opcode member names).
OPCODES = """
PSA_GENERATE_KEY PSA_DESTROY_KEY PSA_SIGN_HASH PSA_VERIFY_HASH PSA_IMPORT_KEY
PSA_EXPORT_PUBLIC_KEY PSA_ASYMMETRIC_ENCRYPT PSA_ASYMMETRIC_DECRYPT PSA_EXPORT_KEY
PSA_GENERATE_RANDOM PSA_AEAD_ENCRYPT PSA_AEAD_DECRYPT PSA_MAC_COMPUTE PSA_MAC_VERIFY
PSA_SIGN_MESSAGE PSA_VERIFY_MESSAGE CAN_DO_CRYPTO ADOPT_KEY
"""
# ...of which a plain ListOpcodes leaves out:
EXTENSION_OPCODES = """
PSA_MAC_COMPUTE PSA_MAC_VERIFY ADOPT_KEY
"""

# CanDoCrypto: Success.
SUPPORTED: dict[str, dict[str, str]] = {
    "keys": {
        "RsaKeyPair": "0 1024 1025 1026 1027 1028 1029 1030 1031 1536 2048 3072 4096",
        "RsaPublicKey": (
            "0[import] 1024[import] 1025[import] 1026[import] 1027[import] 1028[import] "
            "1029[import] 1030[import] 1031[import] 1536[import] 2048[import] 3072[import] "
            "4096[import]"),
        "EccKeyPair(SECP_R1)": "0 256 384 521",
        "EccPublicKey(SECP_R1)": "0[import] 256[import] 384[import] 521[import]",
        "Aes": "0 128 192 256",
        "Hmac": "0 8 160 256 264 512 1024",
    },
    "sign": {
        "RsaKeyPair/1024": (
            "RSA_PKCS1V15_SIGN(SHA_256) RSA_PKCS1V15_SIGN(SHA_384) RSA_PKCS1V15_SIGN(SHA_512) "
            "RSA_PKCS1V15_SIGN(ANY_HASH) RSA_PSS(SHA_256) RSA_PSS(SHA_384) RSA_PSS(SHA_512) "
            "RSA_PSS(ANY_HASH) RSA_PKCS1V15_SIGN_RAW"),
        "RsaKeyPair/2048": (
            "RSA_PKCS1V15_SIGN(SHA_256) RSA_PKCS1V15_SIGN(SHA_384) RSA_PKCS1V15_SIGN(SHA_512) "
            "RSA_PKCS1V15_SIGN(ANY_HASH) RSA_PSS(SHA_256) RSA_PSS(SHA_384) RSA_PSS(SHA_512) "
            "RSA_PSS(ANY_HASH) RSA_PKCS1V15_SIGN_RAW RSA_PKCS1V15_SIGN(MD5)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_1)[use,import] RSA_PKCS1V15_SIGN(SHA_224) "
            "RSA_PKCS1V15_SIGN(SHA_512_224) RSA_PKCS1V15_SIGN(SHA_512_256) "
            "RSA_PKCS1V15_SIGN(SHA3_224) RSA_PKCS1V15_SIGN(SHA3_256) RSA_PKCS1V15_SIGN(SHA3_384) "
            "RSA_PKCS1V15_SIGN(SHA3_512) RSA_PSS(SHA_1)[use,import] RSA_PSS(SHA_224)"),
        "RsaPublicKey/0": (
            "RSA_PKCS1V15_SIGN(SHA_256)[use,import] RSA_PKCS1V15_SIGN(SHA_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512)[use,import] RSA_PKCS1V15_SIGN(ANY_HASH)[use,import] "
            "RSA_PSS(SHA_256)[use,import] RSA_PSS(SHA_384)[use,import] "
            "RSA_PSS(SHA_512)[use,import] RSA_PSS(ANY_HASH)[use,import] "
            "RSA_PKCS1V15_SIGN_RAW[use,import]"),
        "RsaPublicKey/2048": (
            "RSA_PKCS1V15_SIGN(SHA_256)[use,import] RSA_PKCS1V15_SIGN(SHA_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512)[use,import] RSA_PKCS1V15_SIGN(ANY_HASH)[use,import] "
            "RSA_PSS(SHA_256)[use,import] RSA_PSS(SHA_384)[use,import] "
            "RSA_PSS(SHA_512)[use,import] RSA_PSS(ANY_HASH)[use,import] "
            "RSA_PKCS1V15_SIGN_RAW[use,import] RSA_PKCS1V15_SIGN(MD5)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_1)[use,import] RSA_PKCS1V15_SIGN(SHA_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_512)[use,import] RSA_PSS(SHA_1)[use,import] "
            "RSA_PSS(SHA_224)[use,import]"),
        "EccKeyPair(SECP_R1)/0": "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) ECDSA_ANY",
        "EccKeyPair(SECP_R1)/256": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) ECDSA_ANY "
            "ECDSA(MD5)[use,import] ECDSA(SHA_1)[use,import] ECDSA(SHA_224) ECDSA(SHA_512_224) "
            "ECDSA(SHA_512_256) ECDSA(SHA3_224) ECDSA(SHA3_256) ECDSA(SHA3_384) ECDSA(SHA3_512)"),
        "EccKeyPair(SECP_R1)/384": "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) ECDSA_ANY",
        "EccKeyPair(SECP_R1)/521": "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) ECDSA_ANY",
        "EccPublicKey(SECP_R1)/256": (
            "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
            "ECDSA(ANY_HASH)[use,import] ECDSA_ANY[use,import] ECDSA(MD5)[use,import] "
            "ECDSA(SHA_1)[use,import] ECDSA(SHA_224)[use,import] ECDSA(SHA_512_224)[use,import] "
            "ECDSA(SHA_512_256)[use,import] ECDSA(SHA3_224)[use,import] "
            "ECDSA(SHA3_256)[use,import] ECDSA(SHA3_384)[use,import] ECDSA(SHA3_512)[use,import]"),
        "EccPublicKey(SECP_R1)/384": (
            "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
            "ECDSA(ANY_HASH)[use,import] ECDSA_ANY[use,import] ECDSA(MD5)[use,import] "
            "ECDSA(SHA_1)[use,import] ECDSA(SHA_224)[use,import] ECDSA(SHA_512_224)[use,import] "
            "ECDSA(SHA_512_256)[use,import] ECDSA(SHA3_224)[use,import] "
            "ECDSA(SHA3_256)[use,import] ECDSA(SHA3_384)[use,import] ECDSA(SHA3_512)[use,import]"),
        "EccPublicKey(SECP_R1)/521": (
            "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
            "ECDSA(ANY_HASH)[use,import] ECDSA_ANY[use,import] ECDSA(MD5)[use,import] "
            "ECDSA(SHA_1)[use,import] ECDSA(SHA_224)[use,import] ECDSA(SHA_512_224)[use,import] "
            "ECDSA(SHA_512_256)[use,import] ECDSA(SHA3_224)[use,import] "
            "ECDSA(SHA3_256)[use,import] ECDSA(SHA3_384)[use,import] ECDSA(SHA3_512)[use,import]"),
        "RsaPublicKey/1024": (
            "RSA_PKCS1V15_SIGN(MD5)[use,import] RSA_PKCS1V15_SIGN(SHA_1)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_224)[use,import] RSA_PKCS1V15_SIGN(SHA_256)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_384)[use,import] RSA_PKCS1V15_SIGN(SHA_512)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_512)[use,import]"),
        "RsaPublicKey/1536": (
            "RSA_PKCS1V15_SIGN(MD5)[use,import] RSA_PKCS1V15_SIGN(SHA_1)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_224)[use,import] RSA_PKCS1V15_SIGN(SHA_256)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_384)[use,import] RSA_PKCS1V15_SIGN(SHA_512)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_512)[use,import]"),
        "RsaPublicKey/3072": (
            "RSA_PKCS1V15_SIGN(MD5)[use,import] RSA_PKCS1V15_SIGN(SHA_1)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_224)[use,import] RSA_PKCS1V15_SIGN(SHA_256)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_384)[use,import] RSA_PKCS1V15_SIGN(SHA_512)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_512)[use,import]"),
        "RsaPublicKey/4096": (
            "RSA_PKCS1V15_SIGN(MD5)[use,import] RSA_PKCS1V15_SIGN(SHA_1)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_224)[use,import] RSA_PKCS1V15_SIGN(SHA_256)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_384)[use,import] RSA_PKCS1V15_SIGN(SHA_512)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_512)[use,import]"),
    },
    "encrypt": {
        "RsaKeyPair/1024": "RSA_PKCS1V15_CRYPT RSA_OAEP(SHA_1)[use,import]",
        "RsaKeyPair/2048": "RSA_PKCS1V15_CRYPT RSA_OAEP(SHA_1)[use,import]",
        "RsaPublicKey/2048": "RSA_PKCS1V15_CRYPT[use,import] RSA_OAEP(SHA_1)[use,import]",
    },
    "aead": {
        "Aes/128": "GCM GCM/4 GCM/8 GCM/12 GCM/13 GCM/14 GCM/15 GCM/16",
        "Aes/192": "GCM GCM/4 GCM/8 GCM/12 GCM/13 GCM/14 GCM/15 GCM/16",
        "Aes/256": "GCM GCM/4 GCM/8 GCM/12 GCM/13 GCM/14 GCM/15 GCM/16",
    },
    "mac": {
        "Hmac/0": (
            "HMAC(SHA_224) HMAC(SHA_256) HMAC(SHA_384) HMAC(SHA_512) HMAC(SHA_224)/16 "
            "HMAC(SHA_256)/16 HMAC(SHA_384)/16 HMAC(SHA_512)/16 HMAC(SHA_256)/4 HMAC(SHA_256)/32"),
        "Hmac/160": (
            "HMAC(SHA_224) HMAC(SHA_256) HMAC(SHA_384) HMAC(SHA_512) HMAC(SHA_224)/16 "
            "HMAC(SHA_256)/16 HMAC(SHA_384)/16 HMAC(SHA_512)/16 HMAC(SHA_256)/4 HMAC(SHA_256)/32"),
        "Hmac/256": (
            "HMAC(SHA_224) HMAC(SHA_256) HMAC(SHA_384) HMAC(SHA_512) HMAC(SHA_224)/16 "
            "HMAC(SHA_256)/16 HMAC(SHA_384)/16 HMAC(SHA_512)/16 HMAC(SHA_256)/4 HMAC(SHA_256)/32"),
        "Hmac/128": "HMAC(SHA_256) HMAC(SHA_512)",
        "Aes/128": "CMAC CMAC/4 CMAC/8 CMAC/15 CMAC/16",
        "Aes/192": "CMAC CMAC/4 CMAC/8 CMAC/15 CMAC/16",
        "Aes/256": "CMAC CMAC/4 CMAC/8 CMAC/15 CMAC/16",
    },
}

# CanDoCrypto: another status than Success or PsaErrorNotSupported (the rest of the grid).
REFUSED: dict[str, dict[str, dict[str, str]]] = {
    "PSA_ERROR_NOT_PERMITTED": {
        "sign": {
            "RsaKeyPair/1024": (
                "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
                "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
                "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY"),
            "RsaKeyPair/2048": (
                "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
                "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
                "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY PURE_EDDSA "
                "ML_DSA DETERMINISTIC_ML_DSA HASH_ML_DSA(SHA_256) "
                "DETERMINISTIC_HASH_ML_DSA(SHA_256) SLH_DSA DETERMINISTIC_SLH_DSA "
                "HASH_SLH_DSA(SHA_256) DETERMINISTIC_HASH_SLH_DSA(SHA_256)"),
            "RsaPublicKey/0": (
                "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
                "ECDSA(ANY_HASH)[use,import] DETERMINISTIC_ECDSA(SHA_256)[use,import] "
                "DETERMINISTIC_ECDSA(SHA_384)[use,import] "
                "DETERMINISTIC_ECDSA(SHA_512)[use,import] "
                "DETERMINISTIC_ECDSA(ANY_HASH)[use,import] ECDSA_ANY[use,import]"),
            "RsaPublicKey/2048": (
                "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
                "ECDSA(ANY_HASH)[use,import] DETERMINISTIC_ECDSA(SHA_256)[use,import] "
                "DETERMINISTIC_ECDSA(SHA_384)[use,import] "
                "DETERMINISTIC_ECDSA(SHA_512)[use,import] "
                "DETERMINISTIC_ECDSA(ANY_HASH)[use,import] ECDSA_ANY[use,import]"),
            "EccKeyPair(SECP_R1)/0": (
                "RSA_PKCS1V15_SIGN(SHA_256) RSA_PKCS1V15_SIGN(SHA_384) RSA_PKCS1V15_SIGN(SHA_512) "
                "RSA_PKCS1V15_SIGN(ANY_HASH) RSA_PSS(SHA_256) RSA_PSS(SHA_384) RSA_PSS(SHA_512) "
                "RSA_PSS(ANY_HASH) RSA_PKCS1V15_SIGN_RAW"),
            "EccKeyPair(SECP_R1)/256": (
                "RSA_PKCS1V15_SIGN(SHA_256) RSA_PKCS1V15_SIGN(SHA_384) RSA_PKCS1V15_SIGN(SHA_512) "
                "RSA_PKCS1V15_SIGN(ANY_HASH) RSA_PSS(SHA_256) RSA_PSS(SHA_384) RSA_PSS(SHA_512) "
                "RSA_PSS(ANY_HASH) RSA_PKCS1V15_SIGN_RAW PURE_EDDSA ML_DSA DETERMINISTIC_ML_DSA "
                "HASH_ML_DSA(SHA_256) DETERMINISTIC_HASH_ML_DSA(SHA_256) SLH_DSA "
                "DETERMINISTIC_SLH_DSA HASH_SLH_DSA(SHA_256) DETERMINISTIC_HASH_SLH_DSA(SHA_256)"),
            "EccKeyPair(SECP_R1)/384": (
                "RSA_PKCS1V15_SIGN(SHA_256) RSA_PKCS1V15_SIGN(SHA_384) RSA_PKCS1V15_SIGN(SHA_512) "
                "RSA_PKCS1V15_SIGN(ANY_HASH) RSA_PSS(SHA_256) RSA_PSS(SHA_384) RSA_PSS(SHA_512) "
                "RSA_PSS(ANY_HASH) RSA_PKCS1V15_SIGN_RAW"),
            "EccKeyPair(SECP_R1)/521": (
                "RSA_PKCS1V15_SIGN(SHA_256) RSA_PKCS1V15_SIGN(SHA_384) RSA_PKCS1V15_SIGN(SHA_512) "
                "RSA_PKCS1V15_SIGN(ANY_HASH) RSA_PSS(SHA_256) RSA_PSS(SHA_384) RSA_PSS(SHA_512) "
                "RSA_PSS(ANY_HASH) RSA_PKCS1V15_SIGN_RAW"),
            "EccPublicKey(SECP_R1)/256": (
                "RSA_PKCS1V15_SIGN(SHA_256)[use,import] RSA_PKCS1V15_SIGN(SHA_384)[use,import] "
                "RSA_PKCS1V15_SIGN(SHA_512)[use,import] RSA_PKCS1V15_SIGN(ANY_HASH)[use,import] "
                "RSA_PSS(SHA_256)[use,import] RSA_PSS(SHA_384)[use,import] "
                "RSA_PSS(SHA_512)[use,import] RSA_PSS(ANY_HASH)[use,import] "
                "RSA_PKCS1V15_SIGN_RAW[use,import]"),
            "EccPublicKey(SECP_R1)/384": (
                "RSA_PKCS1V15_SIGN(SHA_256)[use,import] RSA_PKCS1V15_SIGN(SHA_384)[use,import] "
                "RSA_PKCS1V15_SIGN(SHA_512)[use,import] RSA_PKCS1V15_SIGN(ANY_HASH)[use,import] "
                "RSA_PSS(SHA_256)[use,import] RSA_PSS(SHA_384)[use,import] "
                "RSA_PSS(SHA_512)[use,import] RSA_PSS(ANY_HASH)[use,import] "
                "RSA_PKCS1V15_SIGN_RAW[use,import]"),
            "EccPublicKey(SECP_R1)/521": (
                "RSA_PKCS1V15_SIGN(SHA_256)[use,import] RSA_PKCS1V15_SIGN(SHA_384)[use,import] "
                "RSA_PKCS1V15_SIGN(SHA_512)[use,import] RSA_PKCS1V15_SIGN(ANY_HASH)[use,import] "
                "RSA_PSS(SHA_256)[use,import] RSA_PSS(SHA_384)[use,import] "
                "RSA_PSS(SHA_512)[use,import] RSA_PSS(ANY_HASH)[use,import] "
                "RSA_PKCS1V15_SIGN_RAW[use,import]"),
            "Aes/128": (
                "RSA_PKCS1V15_SIGN(SHA_256) RSA_PKCS1V15_SIGN(SHA_384) RSA_PKCS1V15_SIGN(SHA_512) "
                "RSA_PKCS1V15_SIGN(ANY_HASH) RSA_PSS(SHA_256) RSA_PSS(SHA_384) RSA_PSS(SHA_512) "
                "RSA_PSS(ANY_HASH) ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
                "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
                "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) RSA_PKCS1V15_SIGN_RAW "
                "ECDSA_ANY"),
        },
        "encrypt": {
            "EccKeyPair(SECP_R1)/256": (
                "RSA_PKCS1V15_CRYPT RSA_OAEP(SHA_1) RSA_OAEP(SHA_224) RSA_OAEP(SHA_256) "
                "RSA_OAEP(SHA_384) RSA_OAEP(SHA_512) RSA_OAEP(SHA3_256)"),
        },
        "agreement": {
            "EccKeyPair(SECP_R1)/256": "FFDH[generate,import]",
            "EccKeyPair(SECP_R1)/384": "FFDH[generate,import]",
            "EccKeyPair(SECP_R1)/521": "FFDH[generate,import]",
            "EccPublicKey(SECP_R1)/256": "FFDH[import]",
            "RsaKeyPair/1024": (
                "ECDH[generate,import] FFDH[generate,import] ECDH+HKDF(SHA_256)[generate,import]"),
        },
        "aead": {
            "Aes/128": "CHACHA20_POLY1305 CHACHA20_POLY1305/8 CHACHA20_POLY1305/16",
            "Aes/192": "CHACHA20_POLY1305 CHACHA20_POLY1305/8 CHACHA20_POLY1305/16",
            "Aes/256": "CHACHA20_POLY1305 CHACHA20_POLY1305/8 CHACHA20_POLY1305/16",
            "Hmac/256": "GCM CCM CHACHA20_POLY1305 CHACHA20_POLY1305/8 CHACHA20_POLY1305/16",
        },
        "cipher": {
            "Aes/128": "STREAM_CIPHER",
            "Aes/192": "STREAM_CIPHER",
            "Aes/256": "STREAM_CIPHER",
            "Hmac/128": "STREAM_CIPHER CTR CFB OFB XTS ECB_NO_PADDING CBC_NO_PADDING CBC_PKCS7",
        },
        "mac": {
            "Hmac/0": "CMAC CMAC/4 CMAC/8 CMAC/15 CMAC/16 CMAC/17 CBC_MAC",
            "Hmac/160": "CMAC CMAC/4 CMAC/8 CMAC/15 CMAC/16 CMAC/17 CBC_MAC",
            "Hmac/256": "CMAC CMAC/4 CMAC/8 CMAC/15 CMAC/16 CMAC/17 CBC_MAC",
            "Aes/128": "HMAC(SHA_256)",
            "Aes/192": "HMAC(SHA_256)",
            "Aes/256": "HMAC(SHA_256)",
        },
        "kem": {
            "Aes/256": "ML_KEM X_WING",
        },
    },
}
