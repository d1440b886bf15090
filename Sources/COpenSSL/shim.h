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

/* OSSL_PARAM keeps the digest-name pointer: build the parameter array in C, over a static string. */
static inline int shim_EVP_MAC_init_hmac(EVP_MAC_CTX *ctx, const void *key, size_t keylen, int hashbits)
{
    const char *name = hashbits == 512 ? "SHA512" : hashbits == 384 ? "SHA384" : "SHA256";
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)name, 0);
    params[1] = OSSL_PARAM_construct_end();
    return EVP_MAC_init(ctx, (const unsigned char *)key, keylen, params);
}

/* The P-256 public-key tables (JOSE/OpenSSL/P256KeyTable_openssl.swift) need two calls that
   OpenSSL 3.0 deprecates without a replacement: precomputing a group's generator multiples, and
   reading a point's Jacobian coordinates (comparing x(R) without a field inversion). */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
static inline int shim_EC_GROUP_precompute_mult(EC_GROUP *group, BN_CTX *ctx)
{
    return EC_GROUP_precompute_mult(group, ctx);
}

static inline int shim_EC_POINT_get_Jprojective_coordinates(const EC_GROUP *group, const EC_POINT *p,
                                                            BIGNUM *x, BIGNUM *y, BIGNUM *z, BN_CTX *ctx)
{
    return EC_POINT_get_Jprojective_coordinates_GFp(group, p, x, y, z, ctx);
}
#pragma clang diagnostic pop

#endif
