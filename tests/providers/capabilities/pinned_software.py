"""The software provider (id 1, "MbedCrypto"): its pinned ListOpcodes and CanDoCrypto answers.

Derived from the service with regen.py (issue 12), then reviewed against docs/compatibility.md and
docs/pqc.md. What the review checked, and found:

- Opcodes: every crypto operation, PsaMacCompute/Verify and the KEM extension opcodes listed only
  with include_extensions (compatibility.md, "Discovery answers").
- Key types: RSA 1024-4096 bits (every size), SECP-R1 192-521, secp256k1, brainpool 256/384/512,
  Montgomery 255/448, Edwards 255/448, RFC 7919 groups 2048-8192, AES 128/192/256, ChaCha20 256,
  HMAC/RawData/Derive of any whole number of bytes; ML-KEM, ML-DSA, SLH-DSA (4 families), X-Wing.
  Binary curves, SECP-R2, FRP, DES, Camellia, ARC4: NotSupported, as compatibility.md says.
  Public keys import only. Key size 0 ("any size") generates for the classic types but imports
  only for the extension types, as pqc.md says ("Generation needs key_bits").
- Deprecated primitives (SHA-1, MD5 in a policy): use and import yes, generation no; HMAC-SHA-1
  and HMAC-MD5 not at all (refused at use without allow_deprecated).
- Hashes: all but MD2 and MD4, as compatibility.md says.
- HashML-DSA and HashSLH-DSA: the pre-hashes of pqc.md only (SHA-2, SHA-3); with MD2, MD4, MD5,
  SHA-1 or RIPEMD-160 every check is NotSupported, and creating such a key is refused
  (NotSupported) since it could never sign (issue 12, fixed; test_capability_answers_issue12.py).
"""

# ListOpcodes with include_extensions (Opcode member names).
OPCODES = """
PSA_GENERATE_KEY PSA_DESTROY_KEY PSA_SIGN_HASH PSA_VERIFY_HASH PSA_IMPORT_KEY
PSA_EXPORT_PUBLIC_KEY PSA_ASYMMETRIC_ENCRYPT PSA_ASYMMETRIC_DECRYPT PSA_EXPORT_KEY
PSA_GENERATE_RANDOM PSA_HASH_COMPUTE PSA_HASH_COMPARE PSA_AEAD_ENCRYPT PSA_AEAD_DECRYPT
PSA_RAW_KEY_AGREEMENT PSA_CIPHER_ENCRYPT PSA_CIPHER_DECRYPT PSA_MAC_COMPUTE PSA_MAC_VERIFY
PSA_SIGN_MESSAGE PSA_VERIFY_MESSAGE CAN_DO_CRYPTO PSA_ENCAPSULATE PSA_DECAPSULATE
"""
# ...of which a plain ListOpcodes leaves out:
EXTENSION_OPCODES = """
PSA_MAC_COMPUTE PSA_MAC_VERIFY PSA_ENCAPSULATE PSA_DECAPSULATE
"""

# CanDoCrypto: Success.
SUPPORTED: dict[str, dict[str, str]] = {
    "keys": {
        "RsaKeyPair": "0 1024 1025 1026 1027 1028 1029 1030 1031 1536 2048 3072 4096",
        "RsaPublicKey": (
            "0[import] 1024[import] 1025[import] 1026[import] 1027[import] 1028[import] "
            "1029[import] 1030[import] 1031[import] 1536[import] 2048[import] 3072[import] "
            "4096[import]"),
        "EccKeyPair(SECP_R1)": "0 192 224 256 384 521",
        "EccPublicKey(SECP_R1)": "0[import] 192[import] 224[import] 256[import] 384[import] 521[import]",
        "EccKeyPair(SECP_K1)": "0 256",
        "EccPublicKey(SECP_K1)": "0[import] 256[import]",
        "EccKeyPair(BRAINPOOL_P_R1)": "0 256 384 512",
        "EccPublicKey(BRAINPOOL_P_R1)": "0[import] 256[import] 384[import] 512[import]",
        "EccKeyPair(MONTGOMERY)": "0 255 448",
        "EccPublicKey(MONTGOMERY)": "0[import] 255[import] 448[import]",
        "EccKeyPair(TWISTED_EDWARDS)": "0[import] 255 448",
        "EccPublicKey(TWISTED_EDWARDS)": "0[import] 255[import] 448[import]",
        "DhKeyPair(RFC7919)": "0 2048 3072 4096 6144 8192",
        "DhPublicKey(RFC7919)": "0[import] 2048[import] 3072[import] 4096[import] 6144[import] 8192[import]",
        "Aes": "0 128 192 256",
        "Chacha20": "0 256",
        "Hmac": "0 8 160 256 264 512 1024",
        "RawData": "0 8 256",
        "Derive": "0 256 512",
        "MlKemKeyPair": "0[import] 512 768 1024",
        "MlKemPublicKey": "0[import] 512[import] 768[import] 1024[import]",
        "MlDsaKeyPair": "0[import] 128 192 256",
        "MlDsaPublicKey": "0[import] 128[import] 192[import] 256[import]",
        "SlhDsaKeyPair(SHA2_S)": "0[import] 128 192 256",
        "SlhDsaPublicKey(SHA2_S)": "0[import] 128[import] 192[import] 256[import]",
        "SlhDsaKeyPair(SHA2_F)": "0[import] 128 192 256",
        "SlhDsaPublicKey(SHA2_F)": "0[import] 128[import] 192[import] 256[import]",
        "SlhDsaKeyPair(SHAKE_S)": "0[import] 128 192 256",
        "SlhDsaPublicKey(SHAKE_S)": "0[import] 128[import] 192[import] 256[import]",
        "SlhDsaKeyPair(SHAKE_F)": "0[import] 128 192 256",
        "SlhDsaPublicKey(SHAKE_F)": "0[import] 128[import] 192[import] 256[import]",
        "XwingKeyPair": "0[import] 768",
        "XwingPublicKey": "0[import] 768[import]",
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
            "RSA_PKCS1V15_SIGN(RIPEMD160) RSA_PKCS1V15_SIGN(SHA_1)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_224) RSA_PKCS1V15_SIGN(SHA_512_224) "
            "RSA_PKCS1V15_SIGN(SHA_512_256) RSA_PKCS1V15_SIGN(SHA3_224) "
            "RSA_PKCS1V15_SIGN(SHA3_256) RSA_PKCS1V15_SIGN(SHA3_384) RSA_PKCS1V15_SIGN(SHA3_512) "
            "RSA_PSS(MD5)[use,import] RSA_PSS(RIPEMD160) RSA_PSS(SHA_1)[use,import] "
            "RSA_PSS(SHA_224) RSA_PSS(SHA_512_224) RSA_PSS(SHA_512_256) RSA_PSS(SHA3_224) "
            "RSA_PSS(SHA3_256) RSA_PSS(SHA3_384) RSA_PSS(SHA3_512)"),
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
            "RSA_PKCS1V15_SIGN(RIPEMD160)[use,import] RSA_PKCS1V15_SIGN(SHA_1)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_224)[use,import] RSA_PKCS1V15_SIGN(SHA_512_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_512)[use,import] RSA_PSS(MD5)[use,import] "
            "RSA_PSS(RIPEMD160)[use,import] RSA_PSS(SHA_1)[use,import] "
            "RSA_PSS(SHA_224)[use,import] RSA_PSS(SHA_512_224)[use,import] "
            "RSA_PSS(SHA_512_256)[use,import] RSA_PSS(SHA3_224)[use,import] "
            "RSA_PSS(SHA3_256)[use,import] RSA_PSS(SHA3_384)[use,import] "
            "RSA_PSS(SHA3_512)[use,import]"),
        "EccKeyPair(SECP_R1)/0": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
            "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
            "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY "
            "DETERMINISTIC_ECDSA(MD5)[use,import] DETERMINISTIC_ECDSA(RIPEMD160) "
            "DETERMINISTIC_ECDSA(SHA_1)[use,import] DETERMINISTIC_ECDSA(SHA_224) "
            "DETERMINISTIC_ECDSA(SHA_512_224) DETERMINISTIC_ECDSA(SHA_512_256) "
            "DETERMINISTIC_ECDSA(SHA3_224) DETERMINISTIC_ECDSA(SHA3_256) "
            "DETERMINISTIC_ECDSA(SHA3_384) DETERMINISTIC_ECDSA(SHA3_512)"),
        "EccKeyPair(SECP_R1)/192": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
            "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
            "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY"),
        "EccKeyPair(SECP_R1)/224": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
            "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
            "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY"),
        "EccKeyPair(SECP_R1)/256": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
            "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
            "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY "
            "ECDSA(MD5)[use,import] ECDSA(RIPEMD160) ECDSA(SHA_1)[use,import] ECDSA(SHA_224) "
            "ECDSA(SHA_512_224) ECDSA(SHA_512_256) ECDSA(SHA3_224) ECDSA(SHA3_256) "
            "ECDSA(SHA3_384) ECDSA(SHA3_512) DETERMINISTIC_ECDSA(MD5)[use,import] "
            "DETERMINISTIC_ECDSA(RIPEMD160) DETERMINISTIC_ECDSA(SHA_1)[use,import] "
            "DETERMINISTIC_ECDSA(SHA_224) DETERMINISTIC_ECDSA(SHA_512_224) "
            "DETERMINISTIC_ECDSA(SHA_512_256) DETERMINISTIC_ECDSA(SHA3_224) "
            "DETERMINISTIC_ECDSA(SHA3_256) DETERMINISTIC_ECDSA(SHA3_384) "
            "DETERMINISTIC_ECDSA(SHA3_512)"),
        "EccKeyPair(SECP_R1)/384": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
            "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
            "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY"),
        "EccKeyPair(SECP_R1)/521": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
            "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
            "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY"),
        "EccKeyPair(SECP_K1)/256": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
            "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
            "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY"),
        "EccKeyPair(BRAINPOOL_P_R1)/256": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
            "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
            "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY"),
        "EccKeyPair(BRAINPOOL_P_R1)/384": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
            "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
            "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY"),
        "EccKeyPair(BRAINPOOL_P_R1)/512": (
            "ECDSA(SHA_256) ECDSA(SHA_384) ECDSA(SHA_512) ECDSA(ANY_HASH) "
            "DETERMINISTIC_ECDSA(SHA_256) DETERMINISTIC_ECDSA(SHA_384) "
            "DETERMINISTIC_ECDSA(SHA_512) DETERMINISTIC_ECDSA(ANY_HASH) ECDSA_ANY"),
        "EccPublicKey(SECP_R1)/192": (
            "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
            "ECDSA(ANY_HASH)[use,import] DETERMINISTIC_ECDSA(SHA_256)[use,import] "
            "DETERMINISTIC_ECDSA(SHA_384)[use,import] DETERMINISTIC_ECDSA(SHA_512)[use,import] "
            "DETERMINISTIC_ECDSA(ANY_HASH)[use,import] ECDSA_ANY[use,import] "
            "ECDSA(MD5)[use,import] ECDSA(RIPEMD160)[use,import] ECDSA(SHA_1)[use,import] "
            "ECDSA(SHA_224)[use,import] ECDSA(SHA_512_224)[use,import] "
            "ECDSA(SHA_512_256)[use,import] ECDSA(SHA3_224)[use,import] "
            "ECDSA(SHA3_256)[use,import] ECDSA(SHA3_384)[use,import] ECDSA(SHA3_512)[use,import]"),
        "EccPublicKey(SECP_R1)/224": (
            "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
            "ECDSA(ANY_HASH)[use,import] DETERMINISTIC_ECDSA(SHA_256)[use,import] "
            "DETERMINISTIC_ECDSA(SHA_384)[use,import] DETERMINISTIC_ECDSA(SHA_512)[use,import] "
            "DETERMINISTIC_ECDSA(ANY_HASH)[use,import] ECDSA_ANY[use,import] "
            "ECDSA(MD5)[use,import] ECDSA(RIPEMD160)[use,import] ECDSA(SHA_1)[use,import] "
            "ECDSA(SHA_224)[use,import] ECDSA(SHA_512_224)[use,import] "
            "ECDSA(SHA_512_256)[use,import] ECDSA(SHA3_224)[use,import] "
            "ECDSA(SHA3_256)[use,import] ECDSA(SHA3_384)[use,import] ECDSA(SHA3_512)[use,import]"),
        "EccPublicKey(SECP_R1)/256": (
            "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
            "ECDSA(ANY_HASH)[use,import] DETERMINISTIC_ECDSA(SHA_256)[use,import] "
            "DETERMINISTIC_ECDSA(SHA_384)[use,import] DETERMINISTIC_ECDSA(SHA_512)[use,import] "
            "DETERMINISTIC_ECDSA(ANY_HASH)[use,import] ECDSA_ANY[use,import] "
            "ECDSA(MD5)[use,import] ECDSA(RIPEMD160)[use,import] ECDSA(SHA_1)[use,import] "
            "ECDSA(SHA_224)[use,import] ECDSA(SHA_512_224)[use,import] "
            "ECDSA(SHA_512_256)[use,import] ECDSA(SHA3_224)[use,import] "
            "ECDSA(SHA3_256)[use,import] ECDSA(SHA3_384)[use,import] ECDSA(SHA3_512)[use,import]"),
        "EccPublicKey(SECP_R1)/384": (
            "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
            "ECDSA(ANY_HASH)[use,import] DETERMINISTIC_ECDSA(SHA_256)[use,import] "
            "DETERMINISTIC_ECDSA(SHA_384)[use,import] DETERMINISTIC_ECDSA(SHA_512)[use,import] "
            "DETERMINISTIC_ECDSA(ANY_HASH)[use,import] ECDSA_ANY[use,import] "
            "ECDSA(MD5)[use,import] ECDSA(RIPEMD160)[use,import] ECDSA(SHA_1)[use,import] "
            "ECDSA(SHA_224)[use,import] ECDSA(SHA_512_224)[use,import] "
            "ECDSA(SHA_512_256)[use,import] ECDSA(SHA3_224)[use,import] "
            "ECDSA(SHA3_256)[use,import] ECDSA(SHA3_384)[use,import] ECDSA(SHA3_512)[use,import]"),
        "EccPublicKey(SECP_R1)/521": (
            "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
            "ECDSA(ANY_HASH)[use,import] DETERMINISTIC_ECDSA(SHA_256)[use,import] "
            "DETERMINISTIC_ECDSA(SHA_384)[use,import] DETERMINISTIC_ECDSA(SHA_512)[use,import] "
            "DETERMINISTIC_ECDSA(ANY_HASH)[use,import] ECDSA_ANY[use,import] "
            "ECDSA(MD5)[use,import] ECDSA(RIPEMD160)[use,import] ECDSA(SHA_1)[use,import] "
            "ECDSA(SHA_224)[use,import] ECDSA(SHA_512_224)[use,import] "
            "ECDSA(SHA_512_256)[use,import] ECDSA(SHA3_224)[use,import] "
            "ECDSA(SHA3_256)[use,import] ECDSA(SHA3_384)[use,import] ECDSA(SHA3_512)[use,import]"),
        "EccPublicKey(SECP_K1)/256": (
            "ECDSA(SHA_256)[use,import] ECDSA(SHA_384)[use,import] ECDSA(SHA_512)[use,import] "
            "ECDSA(ANY_HASH)[use,import] DETERMINISTIC_ECDSA(SHA_256)[use,import] "
            "DETERMINISTIC_ECDSA(SHA_384)[use,import] DETERMINISTIC_ECDSA(SHA_512)[use,import] "
            "DETERMINISTIC_ECDSA(ANY_HASH)[use,import] ECDSA_ANY[use,import]"),
        "EccKeyPair(TWISTED_EDWARDS)/255": "PURE_EDDSA",
        "EccPublicKey(TWISTED_EDWARDS)/255": "PURE_EDDSA[use,import]",
        "MlDsaKeyPair/128": (
            "ML_DSA DETERMINISTIC_ML_DSA HASH_ML_DSA(SHA_256) DETERMINISTIC_HASH_ML_DSA(SHA_256) "
            "HASH_ML_DSA(SHA_224) HASH_ML_DSA(SHA_384) HASH_ML_DSA(SHA_512) "
            "HASH_ML_DSA(SHA_512_224) HASH_ML_DSA(SHA_512_256) HASH_ML_DSA(SHA3_224) "
            "HASH_ML_DSA(SHA3_256) HASH_ML_DSA(SHA3_384) HASH_ML_DSA(SHA3_512) "
            "DETERMINISTIC_HASH_ML_DSA(SHA_224) DETERMINISTIC_HASH_ML_DSA(SHA_384) "
            "DETERMINISTIC_HASH_ML_DSA(SHA_512) DETERMINISTIC_HASH_ML_DSA(SHA_512_224) "
            "DETERMINISTIC_HASH_ML_DSA(SHA_512_256) DETERMINISTIC_HASH_ML_DSA(SHA3_224) "
            "DETERMINISTIC_HASH_ML_DSA(SHA3_256) DETERMINISTIC_HASH_ML_DSA(SHA3_384) "
            "DETERMINISTIC_HASH_ML_DSA(SHA3_512)"),
        "MlDsaPublicKey/128": (
            "ML_DSA[use,import] DETERMINISTIC_ML_DSA[use,import] HASH_ML_DSA(SHA_256)[use,import] "
            "DETERMINISTIC_HASH_ML_DSA(SHA_256)[use,import]"),
        "SlhDsaKeyPair(SHA2_F)/128": (
            "SLH_DSA DETERMINISTIC_SLH_DSA HASH_SLH_DSA(SHA_256) "
            "DETERMINISTIC_HASH_SLH_DSA(SHA_256) HASH_SLH_DSA(SHA_224) HASH_SLH_DSA(SHA_384) "
            "HASH_SLH_DSA(SHA_512) HASH_SLH_DSA(SHA_512_224) HASH_SLH_DSA(SHA_512_256) "
            "HASH_SLH_DSA(SHA3_224) HASH_SLH_DSA(SHA3_256) HASH_SLH_DSA(SHA3_384) "
            "HASH_SLH_DSA(SHA3_512)"),
        "RsaPublicKey/1024": (
            "RSA_PKCS1V15_SIGN(MD5)[use,import] RSA_PKCS1V15_SIGN(RIPEMD160)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_1)[use,import] RSA_PKCS1V15_SIGN(SHA_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_256)[use,import] RSA_PKCS1V15_SIGN(SHA_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512)[use,import] RSA_PKCS1V15_SIGN(SHA_512_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_512)[use,import]"),
        "RsaPublicKey/1536": (
            "RSA_PKCS1V15_SIGN(MD5)[use,import] RSA_PKCS1V15_SIGN(RIPEMD160)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_1)[use,import] RSA_PKCS1V15_SIGN(SHA_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_256)[use,import] RSA_PKCS1V15_SIGN(SHA_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512)[use,import] RSA_PKCS1V15_SIGN(SHA_512_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_512)[use,import]"),
        "RsaPublicKey/3072": (
            "RSA_PKCS1V15_SIGN(MD5)[use,import] RSA_PKCS1V15_SIGN(RIPEMD160)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_1)[use,import] RSA_PKCS1V15_SIGN(SHA_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_256)[use,import] RSA_PKCS1V15_SIGN(SHA_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512)[use,import] RSA_PKCS1V15_SIGN(SHA_512_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_512)[use,import]"),
        "RsaPublicKey/4096": (
            "RSA_PKCS1V15_SIGN(MD5)[use,import] RSA_PKCS1V15_SIGN(RIPEMD160)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_1)[use,import] RSA_PKCS1V15_SIGN(SHA_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_256)[use,import] RSA_PKCS1V15_SIGN(SHA_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512)[use,import] RSA_PKCS1V15_SIGN(SHA_512_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA_512_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_224)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_256)[use,import] RSA_PKCS1V15_SIGN(SHA3_384)[use,import] "
            "RSA_PKCS1V15_SIGN(SHA3_512)[use,import]"),
    },
    "encrypt": {
        "RsaKeyPair/1024": (
            "RSA_PKCS1V15_CRYPT RSA_OAEP(SHA_1)[use,import] RSA_OAEP(SHA_224) RSA_OAEP(SHA_256) "
            "RSA_OAEP(SHA_384) RSA_OAEP(SHA_512)"),
        "RsaKeyPair/2048": (
            "RSA_PKCS1V15_CRYPT RSA_OAEP(SHA_1)[use,import] RSA_OAEP(SHA_224) RSA_OAEP(SHA_256) "
            "RSA_OAEP(SHA_384) RSA_OAEP(SHA_512)"),
        "RsaPublicKey/2048": (
            "RSA_PKCS1V15_CRYPT[use,import] RSA_OAEP(SHA_1)[use,import] "
            "RSA_OAEP(SHA_224)[use,import] RSA_OAEP(SHA_256)[use,import] "
            "RSA_OAEP(SHA_384)[use,import] RSA_OAEP(SHA_512)[use,import]"),
    },
    "agreement": {
        "EccKeyPair(SECP_R1)/192": "ECDH",
        "EccKeyPair(SECP_R1)/224": "ECDH",
        "EccKeyPair(SECP_R1)/256": "ECDH",
        "EccKeyPair(SECP_R1)/384": "ECDH",
        "EccKeyPair(SECP_R1)/521": "ECDH",
        "EccKeyPair(SECP_K1)/256": "ECDH",
        "EccKeyPair(BRAINPOOL_P_R1)/256": "ECDH",
        "EccKeyPair(BRAINPOOL_P_R1)/384": "ECDH",
        "EccKeyPair(BRAINPOOL_P_R1)/512": "ECDH",
        "EccKeyPair(MONTGOMERY)/0": "ECDH",
        "EccKeyPair(MONTGOMERY)/255": "ECDH",
        "EccKeyPair(MONTGOMERY)/448": "ECDH",
        "DhKeyPair(RFC7919)/0": "FFDH",
        "DhKeyPair(RFC7919)/2048": "FFDH",
        "DhKeyPair(RFC7919)/3072": "FFDH",
        "DhKeyPair(RFC7919)/4096": "FFDH",
        "DhKeyPair(RFC7919)/6144": "FFDH",
        "DhKeyPair(RFC7919)/8192": "FFDH",
    },
    "aead": {
        "Aes/128": (
            "GCM GCM/4 GCM/8 GCM/12 GCM/13 GCM/14 GCM/15 GCM/16 CCM CCM/4 CCM/6 CCM/8 CCM/10 "
            "CCM/12 CCM/14 CCM/16"),
        "Aes/192": (
            "GCM GCM/4 GCM/8 GCM/12 GCM/13 GCM/14 GCM/15 GCM/16 CCM CCM/4 CCM/6 CCM/8 CCM/10 "
            "CCM/12 CCM/14 CCM/16"),
        "Aes/256": (
            "GCM GCM/4 GCM/8 GCM/12 GCM/13 GCM/14 GCM/15 GCM/16 CCM CCM/4 CCM/6 CCM/8 CCM/10 "
            "CCM/12 CCM/14 CCM/16"),
        "Chacha20/256": "CHACHA20_POLY1305 CHACHA20_POLY1305/16",
    },
    "cipher": {
        "Aes/128": "CTR CFB OFB ECB_NO_PADDING CBC_NO_PADDING CBC_PKCS7",
        "Aes/192": "CTR CFB OFB ECB_NO_PADDING CBC_NO_PADDING CBC_PKCS7",
        "Aes/256": "CTR CFB OFB XTS ECB_NO_PADDING CBC_NO_PADDING CBC_PKCS7",
        "Chacha20/256": "STREAM_CIPHER",
    },
    "mac": {
        "Hmac/0": (
            "HMAC(RIPEMD160) HMAC(SHA_224) HMAC(SHA_256) HMAC(SHA_384) HMAC(SHA_512) "
            "HMAC(SHA_512_224) HMAC(SHA_512_256) HMAC(SHA3_224) HMAC(SHA3_256) HMAC(SHA3_384) "
            "HMAC(SHA3_512) HMAC(RIPEMD160)/16 HMAC(SHA_224)/16 HMAC(SHA_256)/16 HMAC(SHA_384)/16 "
            "HMAC(SHA_512)/16 HMAC(SHA_512_224)/16 HMAC(SHA_512_256)/16 HMAC(SHA3_224)/16 "
            "HMAC(SHA3_256)/16 HMAC(SHA3_384)/16 HMAC(SHA3_512)/16 HMAC(SHA_256)/4 "
            "HMAC(SHA_256)/32"),
        "Hmac/160": (
            "HMAC(RIPEMD160) HMAC(SHA_224) HMAC(SHA_256) HMAC(SHA_384) HMAC(SHA_512) "
            "HMAC(SHA_512_224) HMAC(SHA_512_256) HMAC(SHA3_224) HMAC(SHA3_256) HMAC(SHA3_384) "
            "HMAC(SHA3_512) HMAC(RIPEMD160)/16 HMAC(SHA_224)/16 HMAC(SHA_256)/16 HMAC(SHA_384)/16 "
            "HMAC(SHA_512)/16 HMAC(SHA_512_224)/16 HMAC(SHA_512_256)/16 HMAC(SHA3_224)/16 "
            "HMAC(SHA3_256)/16 HMAC(SHA3_384)/16 HMAC(SHA3_512)/16 HMAC(SHA_256)/4 "
            "HMAC(SHA_256)/32"),
        "Hmac/256": (
            "HMAC(RIPEMD160) HMAC(SHA_224) HMAC(SHA_256) HMAC(SHA_384) HMAC(SHA_512) "
            "HMAC(SHA_512_224) HMAC(SHA_512_256) HMAC(SHA3_224) HMAC(SHA3_256) HMAC(SHA3_384) "
            "HMAC(SHA3_512) HMAC(RIPEMD160)/16 HMAC(SHA_224)/16 HMAC(SHA_256)/16 HMAC(SHA_384)/16 "
            "HMAC(SHA_512)/16 HMAC(SHA_512_224)/16 HMAC(SHA_512_256)/16 HMAC(SHA3_224)/16 "
            "HMAC(SHA3_256)/16 HMAC(SHA3_384)/16 HMAC(SHA3_512)/16 HMAC(SHA_256)/4 "
            "HMAC(SHA_256)/32"),
        "Hmac/128": "HMAC(SHA_256) HMAC(SHA_512)",
        "Aes/128": "CMAC CMAC/4 CMAC/8 CMAC/15 CMAC/16",
        "Aes/192": "CMAC CMAC/4 CMAC/8 CMAC/15 CMAC/16",
        "Aes/256": "CMAC CMAC/4 CMAC/8 CMAC/15 CMAC/16",
    },
    "hash": {
        "RawData/0": (
            "HASH(MD5) HASH(RIPEMD160) HASH(SHA_1) HASH(SHA_224) HASH(SHA_256) HASH(SHA_384) "
            "HASH(SHA_512) HASH(SHA_512_224) HASH(SHA_512_256) HASH(SHA3_224) HASH(SHA3_256) "
            "HASH(SHA3_384) HASH(SHA3_512)"),
    },
    "kem": {
        "MlKemKeyPair/512": "ML_KEM",
        "MlKemKeyPair/768": "ML_KEM",
        "MlKemKeyPair/1024": "ML_KEM",
        "MlKemPublicKey/512": "ML_KEM[use,import]",
        "MlKemPublicKey/768": "ML_KEM[use,import]",
        "MlKemPublicKey/1024": "ML_KEM[use,import]",
        "XwingKeyPair/768": "X_WING",
        "XwingPublicKey/768": "X_WING[use,import]",
    },
}

# CanDoCrypto: another status than Success or PsaErrorNotSupported (the rest of the grid).
REFUSED: dict[str, dict[str, dict[str, str]]] = {
}
