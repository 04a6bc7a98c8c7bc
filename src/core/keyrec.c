/* keyrec.c - framing of a fetched key set for a shared cache; the
 * identity of an issuer configuration. */
#include "keyrec.h"
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

static const unsigned char MAGIC[4] = { 'C', 'K', 'K', '1' };
#define FIXED (4 + 8 + 8 + 2 + 4)

static int digest_field(EVP_MD_CTX *md, const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n > 0xffffffffu)
        return 0;
    unsigned char len[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                             (unsigned char)(n >> 8), (unsigned char)n };
    return EVP_DigestUpdate(md, len, sizeof(len)) && EVP_DigestUpdate(md, v ? v : "", n);
}

int cka_binding_id(const char *iss, const char *kind, const char *source,
                   const char *ca_file, unsigned char out[CKA_BINDING_ID_LEN])
{
    static const char label[] = "conduktor-auth issuer binding 1";
    unsigned int n = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL)
             && EVP_DigestUpdate(md, label, sizeof(label))      /* with its NUL */
             && digest_field(md, iss) && digest_field(md, kind)
             && digest_field(md, source) && digest_field(md, ca_file)
             && EVP_DigestFinal_ex(md, out, &n) && n == CKA_BINDING_ID_LEN;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

void cka_keyrec_key(const unsigned char id[CKA_BINDING_ID_LEN],
                    unsigned char out[CKA_KEYREC_KEY_LEN])
{
    out[0] = 'K';
    memcpy(out + 1, id, CKA_BINDING_ID_LEN);
}

static void put64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--, u >>= 8)
        p[i] = (unsigned char)(u & 0xff);
}

static int64_t get64(const unsigned char *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | p[i];
    return (int64_t)u;
}

int cka_keyrec_encode(apr_pool_t *p, const cka_keyrec_t *rec, size_t max_doc,
                      unsigned char **out, size_t *out_len)
{
    size_t ul = rec->jwks_uri ? strlen(rec->jwks_uri) : 0;
    if (ul > CKA_KEYREC_URI_MAX || rec->doc == NULL || rec->doc_len == 0
        || rec->doc_len > max_doc || rec->doc_len > 0xffffffffu
        || rec->fetched_at <= 0 || rec->fresh_until <= 0)
        return -1;
    size_t n = FIXED + ul + rec->doc_len;
    unsigned char *b = apr_palloc(p, n), *w = b;
    memcpy(w, MAGIC, 4);
    w += 4;
    put64(w, rec->fetched_at);
    w += 8;
    put64(w, rec->fresh_until);
    w += 8;
    *w++ = (unsigned char)(ul >> 8);
    *w++ = (unsigned char)(ul & 0xff);
    memcpy(w, rec->jwks_uri ? rec->jwks_uri : "", ul);
    w += ul;
    uint32_t dl = (uint32_t)rec->doc_len;
    *w++ = (unsigned char)(dl >> 24);
    *w++ = (unsigned char)(dl >> 16);
    *w++ = (unsigned char)(dl >> 8);
    *w++ = (unsigned char)dl;
    memcpy(w, rec->doc, rec->doc_len);
    *out = b;
    *out_len = n;
    return 0;
}

int cka_keyrec_decode(const unsigned char *buf, size_t len, size_t max_doc,
                      apr_pool_t *p, cka_keyrec_t *out)
{
    if (buf == NULL || len < FIXED || memcmp(buf, MAGIC, 4) != 0)
        return -1;
    const unsigned char *r = buf + 4, *end = buf + len;
    int64_t fetched = get64(r), fresh = get64(r + 8);
    r += 16;
    size_t ul = ((size_t)r[0] << 8) | r[1];
    r += 2;
    if (fetched <= 0 || fresh <= 0 || ul > CKA_KEYREC_URI_MAX || (size_t)(end - r) < ul + 4)
        return -1;
    if (memchr(r, '\0', ul) != NULL)
        return -1;
    const unsigned char *uri = r;
    r += ul;
    size_t dl = ((size_t)r[0] << 24) | ((size_t)r[1] << 16) | ((size_t)r[2] << 8) | r[3];
    r += 4;
    if (dl == 0 || dl > max_doc || (size_t)(end - r) != dl)
        return -1;
    out->fetched_at = fetched;
    out->fresh_until = fresh;
    out->jwks_uri = apr_pstrmemdup(p, (const char *)uri, ul);
    out->doc = apr_pstrmemdup(p, (const char *)r, dl);
    out->doc_len = dl;
    return 0;
}
