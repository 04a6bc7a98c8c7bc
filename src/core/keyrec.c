/* keyrec.c - a fetched key set as a record for a shared cache (framed by
 * frame.c); the identity of an issuer configuration. */
#include "keyrec.h"
#include "frame.h"
#include <string.h>
#include <apr_strings.h>
#include <openssl/evp.h>

#define MAGIC "CKK1"
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

cka_reason_t cka_keyrec_encode(apr_pool_t *p, const cka_keyrec_t *rec, size_t max_doc,
                               unsigned char **out, size_t *out_len, cka_err_t *err)
{
    size_t ul = rec->jwks_uri ? strlen(rec->jwks_uri) : 0;
    if (ul > CKA_KEYREC_URI_MAX || rec->doc == NULL || rec->doc_len == 0
        || rec->doc_len > max_doc || rec->doc_len > 0xffffffffu
        || rec->fetched_at <= 0 || rec->fresh_until <= 0)
        return cka_fail(err, CKA_RECORD_TOO_LARGE, "JWKS URL or document does not fit");
    cka_frame_w_t w;
    cka_frame_w_init(&w, p, FIXED + ul + rec->doc_len);
    cka_frame_put(&w, MAGIC, CKA_FRAME_MAGIC_LEN);
    cka_frame_put_u64(&w, (uint64_t)rec->fetched_at);
    cka_frame_put_u64(&w, (uint64_t)rec->fresh_until);
    cka_frame_put_u16(&w, (uint32_t)ul);
    cka_frame_put(&w, rec->jwks_uri, ul);
    cka_frame_put_field(&w, rec->doc, rec->doc_len);
    return cka_frame_w_done(&w, out, out_len) == 0
        ? CKA_OK : cka_fail(err, CKA_INTERNAL, "key-set record framing");
}

cka_reason_t cka_keyrec_decode(const unsigned char *buf, size_t len, size_t max_doc,
                               apr_pool_t *p, cka_keyrec_t *out, cka_err_t *err)
{
    cka_frame_r_t r;
    cka_frame_r_init(&r, buf, len);
    cka_frame_magic(&r, MAGIC);
    int64_t fetched = (int64_t)cka_frame_get_u64(&r), fresh = (int64_t)cka_frame_get_u64(&r);
    cka_frame_check(&r, fetched > 0 && fresh > 0);
    size_t ul = cka_frame_get_u16(&r);
    cka_frame_check(&r, ul <= CKA_KEYREC_URI_MAX);
    const char *uri = cka_frame_get_text(&r, ul, p);
    size_t dl = cka_frame_get_u32(&r);
    cka_frame_check(&r, dl > 0 && dl <= max_doc);
    const unsigned char *doc = cka_frame_get(&r, dl);
    if (cka_frame_r_done(&r) != 0)
        return cka_fail(err, CKA_RECORD_INVALID, "key-set record framing");
    out->fetched_at = fetched;
    out->fresh_until = fresh;
    out->jwks_uri = uri;
    out->doc = apr_pstrmemdup(p, (const char *)doc, dl);
    out->doc_len = dl;
    return CKA_OK;
}
