#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/decoder.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>
#include <string.h>

/* Swift cannot import composite macros: EVP_PKEY_PUBLIC_KEY is an OR of two selections. */
static inline int shim_EVP_PKEY_PUBLIC_KEY(void) { return EVP_PKEY_PUBLIC_KEY; }

/* Swift cannot import composite macros: EVP_PKEY_KEYPAIR is an OR of three selections. */
static inline int shim_EVP_PKEY_KEYPAIR(void) { return EVP_PKEY_KEYPAIR; }

/* The decoder context keeps the input-type pointer until decoding: pass static C strings, never a bridged Swift temporary. */
static inline OSSL_DECODER_CTX *shim_OSSL_DECODER_CTX_new_for_pkey(EVP_PKEY **pkey, int pem, int selection)
{
    return OSSL_DECODER_CTX_new_for_pkey(pkey, pem ? "PEM" : "DER", NULL, NULL, selection, NULL, NULL);
}

/*
 * HMAC (RFC 2104) over SHA-2, keyed once: the hash states after absorbing key XOR ipad and
 * key XOR opad are computed at load and copied per MAC, which is what HMAC_Init_ex keeps in
 * its i_ctx/o_ctx. Through EVP_MAC a MAC cost a context duplicate (three EVP_MD_CTX and their
 * provider contexts, six allocations) and their frees: about 7,000 instructions beside the
 * hash itself (callgrind). Copying two plain structs costs nothing and allocates nothing, so
 * verification shares one immutable key between threads. The block functions are OpenSSL's
 * own (SHA-NI or AVX2 where the CPU has them); only their 3.0 deprecation is silenced here.
 */
typedef struct {
    union { SHA256_CTX s256; SHA512_CTX s512; } inner, outer;
    int bits; /* 256, 384 or 512 */
} shim_hmac_key;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static inline void shim_sha2_init(void *c, int bits)
{
    if (bits == 256) SHA256_Init((SHA256_CTX *)c);
    else if (bits == 384) SHA384_Init((SHA512_CTX *)c);
    else SHA512_Init((SHA512_CTX *)c);
}

static inline void shim_sha2_update(void *c, int bits, const void *p, size_t n)
{
    if (bits == 256) SHA256_Update((SHA256_CTX *)c, p, n);
    else SHA512_Update((SHA512_CTX *)c, p, n); /* SHA384_Update is SHA512_Update */
}

/* Writes bits / 8 bytes. */
static inline void shim_sha2_final(void *c, int bits, unsigned char *out)
{
    if (bits == 256) SHA256_Final(out, (SHA256_CTX *)c);
    else if (bits == 384) SHA384_Final(out, (SHA512_CTX *)c);
    else SHA512_Final(out, (SHA512_CTX *)c);
}

/* Keys `k` for SHA-`bits` (256, 384, 512) with `key` (any length, hashed first when longer
 * than the block, RFC 2104 §2). Returns 1, or 0 for another `bits`. */
static inline int shim_hmac_key_init(shim_hmac_key *k, const void *key, size_t len, int bits)
{
    if (bits != 256 && bits != 384 && bits != 512) return 0;
    unsigned char block[128], hashed[64];
    size_t bs = bits == 256 ? 64 : 128;
    memset(k, 0, sizeof *k);
    k->bits = bits;
    if (len > bs) {
        shim_sha2_init(&k->inner, bits);
        shim_sha2_update(&k->inner, bits, key, len);
        shim_sha2_final(&k->inner, bits, hashed);
        key = hashed;
        len = (size_t)bits / 8;
    }
    memset(block, 0, sizeof block);
    if (len > 0) memcpy(block, key, len);
    for (size_t i = 0; i < bs; i++) block[i] ^= 0x36;
    shim_sha2_init(&k->inner, bits);
    shim_sha2_update(&k->inner, bits, block, bs);
    for (size_t i = 0; i < bs; i++) block[i] ^= 0x36 ^ 0x5c;
    shim_sha2_init(&k->outer, bits);
    shim_sha2_update(&k->outer, bits, block, bs);
    OPENSSL_cleanse(block, sizeof block);
    OPENSSL_cleanse(hashed, sizeof hashed);
    return 1;
}

/* The full-length tag of `in` under `k` into `out` (room for 64 bytes); returns its length.
 * The keyed state copied onto the stack is wiped afterwards (explicit_bzero: memset speed). */
static inline size_t shim_hmac(const shim_hmac_key *k, const void *in, size_t n, unsigned char *out)
{
    shim_hmac_key c = *k;
    int bits = c.bits;
    size_t len = (size_t)bits / 8;
    shim_sha2_update(&c.inner, bits, in, n);
    shim_sha2_final(&c.inner, bits, out);
    shim_sha2_update(&c.outer, bits, out, len);
    shim_sha2_final(&c.outer, bits, out);
    explicit_bzero(&c, sizeof c);
    return len;
}

#pragma GCC diagnostic pop

#endif
