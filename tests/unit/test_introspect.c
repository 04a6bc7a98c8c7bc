/* test_introspect.c - RFC 7662 introspection, pure parts (introspection.c):
 * the answer read strictly, the per-request checks of an active answer,
 * reuse times, request bodies, the private_key_jwt assertion, the files
 * the directive reads, names and sealed records. */
#include <string.h>
#include <stdio.h>
#include <unistd.h>
#include <apr_strings.h>
#include <openssl/pem.h>
#include "suites.h"
#include "introspection.h"
#include "fetch.h"
#include "cka_limits.h"
#include "verify.h"
#include "b64url.h"

#define ISS "https://idp.example.com"

/* ---- the answer, read strictly --------------------------------------------------*/

static const struct {
    long        status;
    const char *body;
    cka_is_outcome_t want;
} answers[] = {
    { 200, "{\"active\":true}",                                   CKA_IS_ACTIVE },
    { 200, "{\"active\":true,\"sub\":\"u1\",\"scope\":\"a b\"}",  CKA_IS_ACTIVE },
    { 200, "{\"active\":false}",                                  CKA_IS_INACTIVE },
    { 200, "{\"active\":false,\"sub\":\"u1\"}",                   CKA_IS_INACTIVE },
    { 200, "{\"active\":\"true\"}",                               CKA_IS_BAD },  /* a string */
    { 200, "{\"active\":1}",                                      CKA_IS_BAD },  /* a number */
    { 200, "{\"active\":null}",                                   CKA_IS_BAD },
    { 200, "{\"sub\":\"u1\"}",                                    CKA_IS_BAD },  /* no active */
    { 200, "{\"active\":true,\"active\":true}",                   CKA_IS_BAD },  /* duplicate */
    { 200, "{\"active\":false,\"active\":true}",                  CKA_IS_BAD },
    { 200, "[{\"active\":true}]",                                 CKA_IS_BAD },  /* not an object */
    { 200, "true",                                                CKA_IS_BAD },
    { 200, "{\"active\":true",                                    CKA_IS_BAD },  /* cut */
    { 200, "{\"active\":true} {}",                                CKA_IS_BAD },  /* trailing */
    { 200, "<html>ok</html>",                                     CKA_IS_BAD },
    { 200, "",                                                    CKA_IS_BAD },
    { 401, "{\"error\":\"invalid_client\"}",                      CKA_IS_BAD },  /* refused client */
    { 500, "{\"active\":true}",                                   CKA_IS_BAD },
    { 302, "{\"active\":true}",                                   CKA_IS_BAD },
    { 201, "{\"active\":true}",                                   CKA_IS_BAD },
    /* token_type: an access token is admitted, anything else is inactive */
    { 200, "{\"active\":true,\"token_type\":\"Bearer\"}",             CKA_IS_ACTIVE },
    { 200, "{\"active\":true,\"token_type\":\"DPoP\"}",               CKA_IS_ACTIVE },
    { 200, "{\"active\":true,\"token_type\":\"access_token\"}",       CKA_IS_ACTIVE },
    { 200, "{\"active\":true,\"token_type\":\"urn:ietf:params:oauth:token-type:access_token\"}", CKA_IS_ACTIVE },
    { 200, "{\"active\":true,\"token_type\":\"refresh_token\"}",      CKA_IS_INACTIVE },
    { 200, "{\"active\":true,\"token_type\":\"Refresh\"}",            CKA_IS_INACTIVE },
    { 200, "{\"active\":true,\"token_type\":\"ID\"}",                 CKA_IS_INACTIVE },
    { 200, "{\"active\":true,\"token_type\":\"Offline\"}",            CKA_IS_INACTIVE },
    { 200, "{\"active\":true,\"token_type\":\"urn:ietf:params:oauth:token-type:refresh_token\"}", CKA_IS_INACTIVE },
    { 200, "{\"active\":true,\"token_type\":\"\"}",                   CKA_IS_INACTIVE },
    { 200, "{\"active\":true,\"token_type\":7}",                      CKA_IS_INACTIVE },
    { 200, "{\"active\":true,\"token_type\":null}",                   CKA_IS_INACTIVE },
};

START_TEST(answer_table)
{
    json_t *claims = NULL;
    const char *why = NULL;
    cka_is_outcome_t got = cka_is_parse_answer(tu_pool, answers[_i].status, answers[_i].body,
                                               strlen(answers[_i].body), ISS, &claims, &why);
    ck_assert_msg(got == answers[_i].want, "row %d (%s): got %d, want %d", _i,
                  answers[_i].body, got, answers[_i].want);
    if (got == CKA_IS_ACTIVE) {
        ck_assert_ptr_nonnull(claims);
        ck_assert_str_eq(json_string_value(json_object_get(claims, "iss")), ISS);
    }
    else
        ck_assert_ptr_null(claims);
    if (got == CKA_IS_BAD)
        ck_assert_msg(why != NULL && *why, "row %d: refused without a reason", _i);
}
END_TEST

START_TEST(answer_limits)
{
    json_t *claims;
    const char *why;
    /* An iss that is there is kept (and judged by the check). */
    const char *other = "{\"active\":true,\"iss\":\"https://evil.example\"}";
    ck_assert_int_eq(cka_is_parse_answer(tu_pool, 200, other, strlen(other), ISS, &claims,
                                         &why), CKA_IS_ACTIVE);
    ck_assert_str_eq(json_string_value(json_object_get(claims, "iss")), "https://evil.example");
    /* 64 KiB at most. */
    size_t big = CKA_IS_MAX_ANSWER + 1;
    char *b = apr_palloc(tu_pool, big + 1);
    memset(b, ' ', big);
    memcpy(b, "{\"active\":true}", 15);
    b[big] = '\0';
    ck_assert_int_eq(cka_is_parse_answer(tu_pool, 200, b, big, ISS, &claims, &why), CKA_IS_BAD);
    ck_assert_int_eq(cka_is_parse_answer(tu_pool, 200, b, big - 1, ISS, &claims, &why),
                     CKA_IS_ACTIVE);
    /* Nesting deeper than the token limit. */
    char *deep = apr_pstrdup(tu_pool, "{\"active\":true,\"x\":");
    for (int i = 0; i < CKA_MAX_JSON_DEPTH + 1; i++)
        deep = apr_pstrcat(tu_pool, deep, "[", NULL);
    for (int i = 0; i < CKA_MAX_JSON_DEPTH + 1; i++)
        deep = apr_pstrcat(tu_pool, deep, "]", NULL);
    deep = apr_pstrcat(tu_pool, deep, "}", NULL);
    ck_assert_int_eq(cka_is_parse_answer(tu_pool, 200, deep, strlen(deep), ISS, &claims, &why),
                     CKA_IS_BAD);
    /* A NUL inside a string. */
    const char nul[] = "{\"active\":true,\"sub\":\"a\\u0000b\"}";
    ck_assert_int_eq(cka_is_parse_answer(tu_pool, 200, nul, strlen(nul), ISS, &claims, &why),
                     CKA_IS_BAD);
}
END_TEST

/* ---- the checks of an active answer ----------------------------------------------*/

static const struct {
    const char  *answer;       /* $+N: now + N seconds (mint_times)          */
    int          any_aud;
    cka_reason_t want;
} checks[] = {
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"api\"}",                0, CKA_OK },
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":[\"x\",\"api\"]}",        0, CKA_OK },
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"other\"}",              0, CKA_WRONG_AUDIENCE },
    { "{\"active\":true,\"iss\":\"" ISS "\"}",                                0, CKA_WRONG_AUDIENCE },
    { "{\"active\":true,\"iss\":\"" ISS "\"}",                                1, CKA_OK },
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"other\"}",              1, CKA_OK },
    { "{\"active\":true,\"iss\":\"https://evil\",\"aud\":\"api\"}",           0, CKA_WRONG_ISSUER },
    { "{\"active\":true,\"iss\":42,\"aud\":\"api\"}",                         0, CKA_WRONG_ISSUER },
    { "{\"active\":true,\"iss\":[\"" ISS "\"],\"aud\":\"api\"}",             0, CKA_WRONG_ISSUER },
    { "{\"active\":false,\"iss\":\"" ISS "\",\"aud\":\"api\"}",               0, CKA_TOKEN_INACTIVE },
    { "{\"active\":\"true\",\"iss\":\"" ISS "\",\"aud\":\"api\"}",            0, CKA_TOKEN_INACTIVE },
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":$+600}",  0, CKA_OK },
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":$-600}", 0, CKA_TOKEN_EXPIRED },
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":$-30}",  0, CKA_OK },   /* skew */
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":\"x\"}", 0, CKA_BAD_TIME_CLAIM },
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"api\",\"exp\":1.5}",   0, CKA_BAD_TIME_CLAIM },
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"api\",\"nbf\":$+600}",  0, CKA_NOT_YET_VALID },
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"api\",\"iat\":$+600}",  0, CKA_ISSUED_IN_FUTURE },
    { "{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"api\",\"iat\":-1}",    0, CKA_BAD_TIME_CLAIM },
};

START_TEST(check_table)
{
    json_t *c = tu_json(mint_times(tu_pool, checks[_i].answer, mint_now()));
    apr_array_header_t *aud = apr_array_make(tu_pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(aud, const char *) = "api";
    cka_policy_t pol = { .audiences = aud, .any_audience = checks[_i].any_aud, .skew = 60 };
    char ctx[32];
    snprintf(ctx, sizeof(ctx), "row %d", _i);
    tu_assert_reason(cka_is_check(c, ISS, &pol, mint_now()), checks[_i].want, ctx);
}
END_TEST

START_TEST(check_jwt_mode_and_lifetime)
{
    /* ConduktorAuthIntrospectJWT: only active and iss count. */
    json_t *c = tu_json("{\"active\":true,\"iss\":\"" ISS "\",\"aud\":\"zzz\"}");
    tu_assert_reason(cka_is_check(c, ISS, NULL, mint_now()), CKA_OK, "jwt mode");
    tu_assert_reason(cka_is_check(tu_json("{\"active\":false,\"iss\":\"" ISS "\"}"), ISS, NULL,
                                  mint_now()), CKA_TOKEN_INACTIVE, "jwt mode inactive");
    tu_assert_reason(cka_is_check(tu_json("{\"active\":true,\"iss\":\"x\"}"), ISS, NULL,
                                  mint_now()), CKA_WRONG_ISSUER, "jwt mode iss");
    /* ConduktorAuthMaxTokenLifetime applies as to a JWT. */
    cka_policy_t pol = { .any_audience = 1, .skew = 60, .max_lifetime = 300 };
    long long now = mint_now();
    json_t *ok = tu_json(apr_psprintf(tu_pool, "{\"active\":true,\"iss\":\"" ISS "\","
                                      "\"iat\":%" APR_INT64_T_FMT ",\"exp\":%" APR_INT64_T_FMT "}", (apr_int64_t)now, (apr_int64_t)(now + 300)));
    json_t *lng = tu_json(apr_psprintf(tu_pool, "{\"active\":true,\"iss\":\"" ISS "\","
                                       "\"iat\":%" APR_INT64_T_FMT ",\"exp\":%" APR_INT64_T_FMT "}", (apr_int64_t)now, (apr_int64_t)(now + 301)));
    json_t *noiat = tu_json(apr_psprintf(tu_pool, "{\"active\":true,\"iss\":\"" ISS "\","
                                         "\"exp\":%" APR_INT64_T_FMT "}", (apr_int64_t)(now + 10)));
    tu_assert_reason(cka_is_check(ok, ISS, &pol, now), CKA_OK, "lifetime 300");
    tu_assert_reason(cka_is_check(lng, ISS, &pol, now), CKA_TOKEN_LIFETIME_TOO_LONG, "301");
    tu_assert_reason(cka_is_check(noiat, ISS, &pol, now), CKA_TOKEN_LIFETIME_TOO_LONG, "no iat");
}
END_TEST

START_TEST(reuse_until)
{
    long long now = 1000000;
    json_t *noexp = tu_json("{\"active\":true}");
    json_t *soon = tu_json("{\"active\":true,\"exp\":1000020}");
    json_t *late = tu_json("{\"active\":true,\"exp\":9000000}");
    json_t *badexp = tu_json("{\"active\":true,\"exp\":\"x\"}");
    ck_assert_int_eq(cka_is_reuse_until(noexp, 1, now, 60), now + 60);     /* no exp: TTL */
    ck_assert_int_eq(cka_is_reuse_until(soon, 1, now, 60), now + 20);      /* exp first */
    ck_assert_int_eq(cka_is_reuse_until(late, 1, now, 60), now + 60);      /* TTL first */
    ck_assert_int_eq(cka_is_reuse_until(badexp, 1, now, 60), now + 60);
    ck_assert_int_eq(cka_is_reuse_until(NULL, 0, now, 60), now + 10);      /* inactive: 10 s */
    ck_assert_int_eq(cka_is_reuse_until(NULL, 0, now, 3), now + 3);        /* ... or the TTL */
    json_t *past = tu_json("{\"active\":true,\"exp\":5}");
    ck_assert_int_eq(cka_is_reuse_until(past, 1, now, 60), now + 1);
}
END_TEST

/* ---- requests ---------------------------------------------------------------------*/

START_TEST(request_bodies)
{
    const char *t = "ab+/=c";
    ck_assert_str_eq(cka_is_request_body(tu_pool, t, strlen(t), CKA_IS_AUTH_BASIC, "cid",
                                         "s", 1, NULL),
                     "token=ab%2B%2F%3Dc&token_type_hint=access_token");
    ck_assert_str_eq(cka_is_request_body(tu_pool, t, strlen(t), CKA_IS_AUTH_POST, "c id",
                                         "p&w", 3, NULL),
                     "token=ab%2B%2F%3Dc&token_type_hint=access_token&client_id=c+id"
                     "&client_secret=p%26w");
    ck_assert_str_eq(cka_is_request_body(tu_pool, t, strlen(t), CKA_IS_AUTH_JWT, "cid",
                                         NULL, 0, "h.p.s"),
                     "token=ab%2B%2F%3Dc&token_type_hint=access_token&client_id=cid"
                     "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type"
                     "%3Ajwt-bearer&client_assertion=h.p.s");
    ck_assert_str_eq(cka_is_request_body(tu_pool, t, strlen(t), CKA_IS_AUTH_TLS, "cid",
                                         NULL, 0, NULL),
                     "token=ab%2B%2F%3Dc&token_type_hint=access_token&client_id=cid");
}
END_TEST

/* ---- files and the private_key_jwt assertion ----------------------------------------*/

static const char *temp_file(const char *content, size_t n)
{
    char *path = apr_pstrdup(tu_pool, "/tmp/cka_tu_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq((int)write(fd, content, n), (int)n);
    close(fd);
    return path;
}

static const char *pem_private(const mint_key_t *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL), 1);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    const char *path = temp_file(data, (size_t)n);
    BIO_free(b);
    return path;
}

static const struct {
    mint_kind_t kind;
    const char *alg;
    cka_alg_t   calg;
} assertion_keys[] = {
    { MINT_RSA,     "RS256", CKA_ALG_RS256 },
    { MINT_P256,    "ES256", CKA_ALG_ES256 },
    { MINT_P384,    "ES384", CKA_ALG_ES384 },
    { MINT_P521,    "ES512", CKA_ALG_ES512 },
    { MINT_ED25519, "EdDSA", CKA_ALG_EDDSA },
};

START_TEST(assertion_table)
{
    const mint_key_t *mk = mint_key(assertion_keys[_i].kind, MINT_TRUSTED);
    const char *path = pem_private(mk);
    const char *alg = NULL, *why = NULL;
    EVP_PKEY *k = cka_is_load_private_key(tu_pool, path, &alg, &why);
    unlink(path);
    ck_assert_msg(k != NULL, "row %d: %s", _i, why ? why : "?");
    ck_assert_str_eq(alg, assertion_keys[_i].alg);
    long long now = mint_now();
    const char *a1 = cka_is_client_assertion(tu_pool, k, alg, "my-client",
                                             "https://idp/introspect", now, &why);
    const char *a2 = cka_is_client_assertion(tu_pool, k, alg, "my-client",
                                             "https://idp/introspect", now, &why);
    ck_assert_ptr_nonnull(a1);
    ck_assert_ptr_nonnull(a2);
    cka_jws_t j1, j2;
    const char *detail = NULL;
    tu_assert_reason(cka_jws_parse(tu_pool, a1, strlen(a1), &j1, &detail), CKA_OK, "parse");
    tu_assert_reason(cka_jws_parse(tu_pool, a2, strlen(a2), &j2, &detail), CKA_OK, "parse 2");
    ck_assert_int_eq(j1.alg, assertion_keys[_i].calg);
    /* Verified by the module's own verifier with the public key. */
    tu_assert_reason(cka_verify_with_key(&j1, tu_one_key(mk, NULL)), CKA_OK, "signature");
    /* ... and not with another key of the same kind. */
    ck_assert_int_ne(cka_verify_with_key(&j1, tu_one_key(mint_key(assertion_keys[_i].kind,
                                                                  MINT_ATTACKER), NULL)),
                     CKA_OK);
    json_t *c = j1.claims;
    ck_assert_str_eq(json_string_value(json_object_get(c, "iss")), "my-client");
    ck_assert_str_eq(json_string_value(json_object_get(c, "sub")), "my-client");
    ck_assert_str_eq(json_string_value(json_object_get(c, "aud")), "https://idp/introspect");
    ck_assert_int_eq(json_integer_value(json_object_get(c, "iat")), now);
    long long exp = json_integer_value(json_object_get(c, "exp"));
    ck_assert(exp > now && exp <= now + 60);
    const char *jti1 = json_string_value(json_object_get(c, "jti"));
    const char *jti2 = json_string_value(json_object_get(j2.claims, "jti"));
    ck_assert(jti1 != NULL && jti2 != NULL && strlen(jti1) >= 22);
    ck_assert_str_ne(jti1, jti2);            /* a fresh jti per call */
}
END_TEST

START_TEST(private_key_refused)
{
    const char *alg, *why = NULL;
    ck_assert_ptr_null(cka_is_load_private_key(tu_pool, "/nonexistent/key.pem", &alg, &why));
    ck_assert_ptr_nonnull(why);
    const char *junk = temp_file("not a key\n", 10);
    why = NULL;
    ck_assert_ptr_null(cka_is_load_private_key(tu_pool, junk, &alg, &why));
    ck_assert_ptr_nonnull(strstr(why, junk));
    unlink(junk);
    /* A public key is not a private key. */
    const char *pub = mint_pem_public(tu_pool, mint_key(MINT_RSA, MINT_TRUSTED));
    const char *pp = temp_file(pub, strlen(pub));
    ck_assert_ptr_null(cka_is_load_private_key(tu_pool, pp, &alg, &why));
    unlink(pp);
    /* RSA under 2048 bits is refused. */
    EVP_PKEY *small = EVP_RSA_gen(1024);
    ck_assert_ptr_nonnull(small);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, small, NULL, NULL, 0, NULL, NULL);
    char *data;
    long n = BIO_get_mem_data(b, &data);
    const char *sp = temp_file(data, (size_t)n);
    BIO_free(b);
    EVP_PKEY_free(small);
    why = NULL;
    ck_assert_ptr_null(cka_is_load_private_key(tu_pool, sp, &alg, &why));
    ck_assert_ptr_nonnull(strstr(why, "not usable"));
    unlink(sp);
}
END_TEST

static const struct {
    const char *content;
    size_t      len;       /* 0: strlen */
    const char *want;      /* NULL: refused */
} secrets[] = {
    { "s3cret",            0, "s3cret" },
    { "s3cret\n",          0, "s3cret" },
    { "s3cret\r\n",        0, "s3cret" },
    { "with space",        0, "with space" },
    { "",                  0, NULL },
    { "\n",                0, NULL },
    { "two\nlines\n",      0, NULL },
    { "tab\there",         0, NULL },
    { "nul\0x",            5, NULL },
};

START_TEST(secret_table)
{
    size_t n = secrets[_i].len ? secrets[_i].len : strlen(secrets[_i].content);
    const char *path = temp_file(secrets[_i].content, n);
    const char *s = NULL, *why = NULL;
    size_t sl = 0;
    int rv = cka_is_read_secret(tu_pool, path, &s, &sl, &why);
    unlink(path);
    if (secrets[_i].want == NULL) {
        ck_assert_msg(rv != 0, "row %d accepted", _i);
        ck_assert_ptr_nonnull(strstr(why, path));          /* names the file ... */
        ck_assert_ptr_null(strstr(why, "two"));            /* ... never the content */
    }
    else {
        ck_assert_msg(rv == 0, "row %d refused: %s", _i, why);
        ck_assert_int_eq(sl, strlen(secrets[_i].want));
        ck_assert_str_eq(s, secrets[_i].want);
    }
}
END_TEST

START_TEST(secret_too_large)
{
    char *big = apr_palloc(tu_pool, 4097);
    memset(big, 'a', 4097);
    const char *path = temp_file(big, 4097);
    const char *s, *why = NULL;
    size_t sl;
    ck_assert_int_ne(cka_is_read_secret(tu_pool, path, &s, &sl, &why), 0);
    unlink(path);
    path = temp_file(big, 4096);
    ck_assert_int_eq(cka_is_read_secret(tu_pool, path, &s, &sl, &why), 0);
    ck_assert_int_eq(sl, 4096);
    unlink(path);
}
END_TEST

START_TEST(client_cert)
{
    const mint_key_t *k = mint_key(MINT_P256, MINT_TRUSTED);
    const char *cert = mint_pem_cert(tu_pool, k);
    const char *cp = temp_file(cert, strlen(cert));
    const char *kp = pem_private(k);
    const char *other = pem_private(mint_key(MINT_P256, MINT_ATTACKER));
    const char *cpem, *kpem, *why = NULL;
    size_t cl, kl;
    ck_assert_int_eq(cka_is_load_client_cert(tu_pool, cp, kp, &cpem, &cl, &kpem, &kl, &why), 0);
    ck_assert_int_eq(cl, strlen(cert));
    ck_assert_int_ne(cka_is_load_client_cert(tu_pool, cp, other, &cpem, &cl, &kpem, &kl, &why),
                     0);
    ck_assert_ptr_nonnull(strstr(why, "does not belong"));
    ck_assert_int_ne(cka_is_load_client_cert(tu_pool, kp, kp, &cpem, &cl, &kpem, &kl, &why), 0);
    ck_assert_int_ne(cka_is_load_client_cert(tu_pool, cp, "/nonexistent", &cpem, &cl, &kpem,
                                             &kl, &why), 0);
    unlink(cp);
    unlink(kp);
    unlink(other);
}
END_TEST

START_TEST(discovery)
{
    cka_err_t err = CKA_ERR_INIT;
    const char *ep = NULL;
    const char *ok = "{\"issuer\":\"" ISS "\",\"introspection_endpoint\":\"https://idp/i\"}";
    ck_assert_int_eq(cka_discovery_read(tu_pool, ok, strlen(ok), ISS, "introspection_endpoint",
                                        &ep, &err), CKA_OK);
    ck_assert_str_eq(ep, "https://idp/i");
    /* the same reader serves the key fetch's jwks_uri */
    const char *jw = "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"https://idp/k\"}";
    ck_assert_int_eq(cka_discovery_read(tu_pool, jw, strlen(jw), ISS, "jwks_uri", &ep, &err),
                     CKA_OK);
    ck_assert_str_eq(ep, "https://idp/k");
    ck_assert_int_eq(cka_discovery_read(tu_pool, jw, strlen(jw), ISS, "introspection_endpoint",
                                        &ep, &err), CKA_DISCOVERY_INVALID);
    const char *bad[] = {
        "{\"issuer\":\"https://other\",\"introspection_endpoint\":\"https://idp/i\"}",
        "{\"issuer\":\"" ISS "\",\"introspection_endpoint\":\"http://idp/i\"}",
        "{\"issuer\":\"" ISS "\"}",
        "{\"issuer\":\"" ISS "\",\"introspection_endpoint\":\"https://idp/ i\"}",
        "{\"issuer\":\"" ISS "\",\"introspection_endpoint\":7}",
        "not json",
    };
    for (int i = 0; i < TU_NELTS(bad); i++) {
        ck_assert_msg(cka_discovery_read(tu_pool, bad[i], strlen(bad[i]), ISS,
                                         "introspection_endpoint", &ep, &err)
                      == CKA_DISCOVERY_INVALID && err.reason == CKA_DISCOVERY_INVALID,
                      "row %d accepted", i);
    }
}
END_TEST

/* ---- names and records ------------------------------------------------------------*/

static cka_seal_t *test_seal(int which)
{
    unsigned char secret[32];
    memset(secret, which, sizeof(secret));
    const char *err = NULL;
    cka_seal_t *s = cka_seal_create(tu_pool, secret, sizeof(secret), &err);
    ck_assert_ptr_nonnull(s);
    return s;
}

START_TEST(binding_and_names)
{
    unsigned char ib[32], b1[32], b2[32], b3[32], b4[32], b5[32];
    memset(ib, 7, sizeof(ib));
    ck_assert_int_eq(cka_is_binding_id(ib, 32, "https://a/i", "c", CKA_IS_AUTH_BASIC, b1), 0);
    ck_assert_int_eq(cka_is_binding_id(ib, 32, "https://a/i", "c", CKA_IS_AUTH_POST, b2), 0);
    ck_assert_int_eq(cka_is_binding_id(ib, 32, "https://a/j", "c", CKA_IS_AUTH_BASIC, b3), 0);
    ck_assert_int_eq(cka_is_binding_id(ib, 32, NULL, "c", CKA_IS_AUTH_BASIC, b4), 0);
    ib[0] = 8;                               /* another issuer configuration */
    ck_assert_int_eq(cka_is_binding_id(ib, 32, "https://a/i", "c", CKA_IS_AUTH_BASIC, b5), 0);
    ck_assert(memcmp(b1, b2, 32) && memcmp(b1, b3, 32) && memcmp(b1, b4, 32)
              && memcmp(b1, b5, 32));
    cka_seal_t *s = test_seal(1);
    unsigned char n1[32], n2[32], n3[32], n4[32];
    ck_assert_int_eq(cka_is_name(s, b1, "tok", 3, n1), 0);
    ck_assert_int_eq(cka_is_name(s, b5, "tok", 3, n2), 0);
    ck_assert_int_eq(cka_is_name(s, b1, "tok2", 4, n3), 0);
    ck_assert_int_eq(cka_is_name(test_seal(2), b1, "tok", 3, n4), 0);
    ck_assert(memcmp(n1, n2, 32) && memcmp(n1, n3, 32) && memcmp(n1, n4, 32));
    ck_assert_int_ne(cka_is_name(s, b1, "x", CKA_MAX_TOKEN_LEN + 1, n1), 0);
}
END_TEST

START_TEST(records)
{
    cka_seal_t *s = test_seal(1), *other = test_seal(2);
    unsigned char name[32], name2[32];
    memset(name, 1, 32);
    memset(name2, 2, 32);
    const char *ans = "{\"active\":true,\"iss\":\"" ISS "\",\"sub\":\"u\"}";
    cka_is_record_t rec = { .state = 'A', .until = 2000000000, .at = 1999999000,
                            .answer = ans, .answer_len = strlen(ans) };
    memset(rec.binding, 9, 32);
    unsigned char *b;
    size_t n;
    ck_assert_int_eq(cka_is_record_seal(s, tu_pool, name, &rec, &b, &n), 0);
    ck_assert_ptr_null(memmem(b, n, "\"sub\"", 5));          /* nothing in clear */
    cka_is_record_t back;
    ck_assert_int_eq(cka_is_record_open(s, tu_pool, name, b, n, &back), 0);
    ck_assert_int_eq(back.state, 'A');
    ck_assert_int_eq(back.until, 2000000000);
    ck_assert_int_eq(back.at, 1999999000);
    ck_assert_int_eq(memcmp(back.binding, rec.binding, 32), 0);
    /* Each reader caps the reuse by its own TTL from the answer's time. */
    ck_assert_int_eq(cka_is_reader_until(&back, 1), 1999999001);
    ck_assert_int_eq(cka_is_reader_until(&back, 600), 1999999600);
    ck_assert_int_eq(cka_is_reader_until(&back, 86400), 2000000000);
    cka_is_record_t neg = { .state = 'I', .until = 1999999060, .at = 1999999000 };
    ck_assert_int_eq(cka_is_reader_until(&neg, 60), 1999999010);
    ck_assert_int_eq(cka_is_reader_until(&neg, 3), 1999999003);
    ck_assert_str_eq(json_string_value(json_object_get(back.claims, "sub")), "u");
    /* Another name, another secret, one changed byte: nothing opens. */
    ck_assert_int_ne(cka_is_record_open(s, tu_pool, name2, b, n, &back), 0);
    ck_assert_int_ne(cka_is_record_open(other, tu_pool, name, b, n, &back), 0);
    for (size_t i = 0; i < n; i += 7) {
        unsigned char *c = apr_pmemdup(tu_pool, b, n);
        c[i] ^= 1;
        ck_assert_msg(cka_is_record_open(s, tu_pool, name, c, n, &back) != 0, "byte %zu", i);
    }
    /* Inactive, pending and failed carry no answer. */
    const int states[] = { 'I', 'P', 'F' };
    for (int i = 0; i < 3; i++) {
        cka_is_record_t m = { .state = states[i], .until = 2000000000 };
        ck_assert_int_eq(cka_is_record_seal(s, tu_pool, name, &m, &b, &n), 0);
        ck_assert_int_eq(cka_is_record_open(s, tu_pool, name, b, n, &back), 0);
        ck_assert_int_eq(back.state, states[i]);
        ck_assert_ptr_null(back.answer);
    }
    /* What cannot be sealed. */
    cka_is_record_t bad1 = { .state = 'X', .until = 2000000000 };
    cka_is_record_t bad2 = { .state = 'A', .until = 2000000000 };
    cka_is_record_t bad3 = { .state = 'I', .until = 0 };
    cka_is_record_t bad4 = { .state = 'I', .until = 100, .at = 101 };   /* at after until */
    ck_assert_int_ne(cka_is_record_seal(s, tu_pool, name, &bad4, &b, &n), 0);
    ck_assert_int_ne(cka_is_record_seal(s, tu_pool, name, &bad1, &b, &n), 0);
    ck_assert_int_ne(cka_is_record_seal(s, tu_pool, name, &bad2, &b, &n), 0);
    ck_assert_int_ne(cka_is_record_seal(s, tu_pool, name, &bad3, &b, &n), 0);
}
END_TEST

START_TEST(record_framing)
{
    /* Plaintexts sealed with the right secret but framed wrongly. */
    cka_seal_t *s = test_seal(1);
    unsigned char name[32];
    memset(name, 1, 32);
    char fixed[4 + 1 + 8 + 8 + 32];
    memset(fixed, 0, sizeof(fixed));
    memcpy(fixed, "CKI2", 4);
    fixed[12] = 100;                     /* until = 100 */
    fixed[20] = 90;                      /* at = 90     */
    struct { char state; const char *tail; int ok; } rows[] = {
        { 'I', "",                         1 },
        { 'I', "x",                        0 },   /* inactive with an answer */
        { 'A', "",                         0 },   /* active without one      */
        { 'A', "{\"active\":true}",        1 },
        { 'A', "{\"active\":false}",       0 },   /* 'A' that is not active  */
        { 'A', "{\"active\":true",         0 },
        { 'A', "{\"a\":1,\"a\":2,\"active\":true}", 0 },
        { 'Z', "",                         0 },
    };
    /* The old framing (no answer time) and an answer time after until. */
    {
        char old1[4 + 1 + 8 + 32];
        memset(old1, 0, sizeof(old1));
        memcpy(old1, "CKI1", 4);
        old1[4] = 'I';
        old1[12] = 100;
        unsigned char *b;
        size_t n;
        cka_is_record_t back;
        ck_assert_int_eq(cka_seal(s, tu_pool, CKA_SEAL_INTROSPECT, name,
                                  (unsigned char *)old1, sizeof(old1), &b, &n), 0);
        ck_assert_int_ne(cka_is_record_open(s, tu_pool, name, b, n, &back), 0);
        char late[sizeof(fixed)];
        memcpy(late, fixed, sizeof(fixed));
        late[4] = 'I';
        late[20] = 101;
        ck_assert_int_eq(cka_seal(s, tu_pool, CKA_SEAL_INTROSPECT, name,
                                  (unsigned char *)late, sizeof(late), &b, &n), 0);
        ck_assert_int_ne(cka_is_record_open(s, tu_pool, name, b, n, &back), 0);
    }
    for (int i = 0; i < TU_NELTS(rows); i++) {
        fixed[4] = rows[i].state;
        char *pt = apr_pstrcat(tu_pool, apr_pstrmemdup(tu_pool, fixed, sizeof(fixed)), "", NULL);
        size_t tl = strlen(rows[i].tail);
        unsigned char *buf = apr_palloc(tu_pool, sizeof(fixed) + tl);
        memcpy(buf, fixed, sizeof(fixed));
        memcpy(buf + sizeof(fixed), rows[i].tail, tl);
        (void)pt;
        unsigned char *b;
        size_t n;
        cka_is_record_t back;
        ck_assert_int_eq(cka_seal(s, tu_pool, CKA_SEAL_INTROSPECT, name, buf,
                                  sizeof(fixed) + tl, &b, &n), 0);
        ck_assert_msg((cka_is_record_open(s, tu_pool, name, b, n, &back) == 0) == rows[i].ok,
                      "row %d", i);
    }
    /* A token-cache record never opens as an introspection record. */
    unsigned char *b;
    size_t n;
    cka_is_record_t back;
    memcpy(fixed + 0, "CKI2", 4);
    fixed[4] = 'I';
    ck_assert_int_eq(cka_seal(s, tu_pool, CKA_SEAL_TOKEN, name, (unsigned char *)fixed,
                              sizeof(fixed), &b, &n), 0);
    ck_assert_int_ne(cka_is_record_open(s, tu_pool, name, b, n, &back), 0);
}
END_TEST

Suite *suite_introspect(void)
{
    Suite *s = suite_create("introspect");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, tu_pool_setup, tu_pool_teardown);
    tcase_add_loop_test(tc, answer_table, 0, TU_NELTS(answers));
    tcase_add_test(tc, answer_limits);
    tcase_add_loop_test(tc, check_table, 0, TU_NELTS(checks));
    tcase_add_test(tc, check_jwt_mode_and_lifetime);
    tcase_add_test(tc, reuse_until);
    tcase_add_test(tc, request_bodies);
    tcase_add_loop_test(tc, assertion_table, 0, TU_NELTS(assertion_keys));
    tcase_add_test(tc, private_key_refused);
    tcase_add_loop_test(tc, secret_table, 0, TU_NELTS(secrets));
    tcase_add_test(tc, secret_too_large);
    tcase_add_test(tc, client_cert);
    tcase_add_test(tc, discovery);
    tcase_add_test(tc, binding_and_names);
    tcase_add_test(tc, records);
    tcase_add_test(tc, record_framing);
    suite_add_tcase(s, tc);
    return s;
}
