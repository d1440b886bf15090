#ifndef CTLS_SHIM_H
#define CTLS_SHIM_H

/* libssl for the TLS target only: JOSE has its own module over libcrypto. */
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/core_names.h>
#include <openssl/params.h>

/* Function-like macros over SSL_CTX_ctrl / SSL_ctrl: Swift cannot import them. */
static inline int shim_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version)
{
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int shim_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version)
{
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

static inline long shim_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }

/* Read ahead: libssl reads what the socket holds into its buffer in one read(2), instead of a
   5-byte record header and then the record (two system calls per record), as nginx sets it. */
static inline long shim_SSL_CTX_set_read_ahead(SSL_CTX *ctx) { return SSL_CTX_set_read_ahead(ctx, 1); }

/* Records whether libssl's last read(2) of the socket drained it (a short read or EAGAIN), in
   the int the BIO's callback argument points at: an edge-triggered loop may then stop reading
   without one more read(2) that can only say EAGAIN. Returns the BIO's result unchanged. */
static inline long shim_read_probe(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
                                   size_t *processed)
{
    (void)argp;
    (void)argi;
    (void)argl;
    if (oper == (BIO_CB_READ | BIO_CB_RETURN)) {
        int *drained = (int *)BIO_get_callback_arg(b);
        if (drained) *drained = (ret > 0 && processed && *processed < len) || (ret <= 0 && BIO_should_retry(b));
    }
    return ret;
}

static inline void shim_SSL_probe_reads(SSL *ssl, int *drained)
{
    BIO *b = SSL_get_rbio(ssl);
    if (!b) return;
    BIO_set_callback_arg(b, (char *)drained);
    BIO_set_callback_ex(b, shim_read_probe);
}

/* The modes a non-blocking writer needs: partial writes, and a retry from a buffer that moved. */
static inline long shim_SSL_MODE_nonblocking(void)
{
    return SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS;
}

static inline int shim_SSL_set_tlsext_host_name(SSL *ssl, const char *name)
{
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline long shim_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode)
{
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

static inline int shim_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*cb)(SSL *, int *, void *), void *arg)
{
    SSL_CTX_set_tlsext_servername_arg(ctx, arg);
    return (int)SSL_CTX_set_tlsext_servername_callback(ctx, cb);
}

/* SSL_OP_* are SSL_OP_BIT() composites: Swift cannot import them. */
static inline uint64_t shim_SSL_OP_server_defaults(void)
{
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION
        | SSL_OP_IGNORE_UNEXPECTED_EOF;
}

static inline uint64_t shim_SSL_OP_client_defaults(void)
{
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF;
}

static inline int shim_SSL_TLSEXT_ERR_OK(void) { return SSL_TLSEXT_ERR_OK; }
static inline int shim_SSL_TLSEXT_ERR_NOACK(void) { return SSL_TLSEXT_ERR_NOACK; }
static inline int shim_SSL_TLSEXT_ERR_ALERT_FATAL(void) { return SSL_TLSEXT_ERR_ALERT_FATAL; }

/* XN_FLAG_RFC2253 is an OR of several flags: Swift cannot import it. */
static inline unsigned long shim_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253; }

/* SSL_CTX_set_app_data / get_app_data are macros over ex_data index 0. */
static inline int shim_SSL_CTX_set_app_data(SSL_CTX *ctx, void *arg) { return SSL_CTX_set_app_data(ctx, arg); }
static inline void *shim_SSL_CTX_get_app_data(const SSL_CTX *ctx) { return SSL_CTX_get_app_data(ctx); }

/* The client-side session cache, kept by the caller (new-session callback), not by libssl. */
static inline long shim_SSL_SESS_CACHE_client_external(void)
{
    return SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE;
}

/* Session-ticket protection with our own rotated keys (SSL_CTX_set_tlsext_ticket_key_evp_cb):
   AES-256-CBC + HMAC-SHA256 as libssl's own tickets. The MAC parameters are built here, over
   static strings: OSSL_PARAM keeps the pointers it is given. */
static inline int shim_ticket_crypto(EVP_CIPHER_CTX *ctx, EVP_MAC_CTX *hctx, const unsigned char *aes_key,
                                     const unsigned char *hmac_key, const unsigned char *iv, int enc)
{
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)hmac_key, 32);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(hctx, params) != 1) return 0;
    if (enc) return EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, aes_key, iv);
    return EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, aes_key, iv);
}

static inline int shim_EVP_MAX_IV_LENGTH(void) { return EVP_MAX_IV_LENGTH; }

#endif
