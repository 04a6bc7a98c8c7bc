"""The configuration examples in conf/: each passes `apache2 -t` as shipped
and with local key files standing in for the IdP, uses only directives the
module has, and - for the IdP examples - really serves: a token shaped like
that IdP's access tokens gets 200, a token it must refuse gets 401/403.

Each httpd here is private (own ServerRoot, loopback port); the system
apache is not touched.
"""
import json
import os
import re
import time

import pytest

import pkghelp
from pkghelp import Httpd, localize, read_example

IDP_EXAMPLES = ["keycloak.conf", "okta.conf", "entra-id.conf", "auth0.conf",
                "cognito.conf"]
REQUIRED = IDP_EXAMPLES + ["audit-log.conf", "conduktor-ci.conf", "mtls.conf"]
API = "/api/public/console/v2/kafka-cluster"

pytestmark = pytest.mark.skipif(not os.path.exists(pkghelp.APACHE),
                                reason="apache2 is not installed")


@pytest.fixture(scope="module")
def module_path():
    if not os.path.exists(pkghelp.MODULE):
        pytest.fail("module not built: %s (run `autoreconf -fi && ./configure && "
                    "make`, or set CKA_MODULE)" % pkghelp.MODULE)
    return pkghelp.MODULE


@pytest.fixture(scope="module")
def backend():
    b = pkghelp.EchoBackend()
    yield b
    b.stop()


def test_required_examples_exist():
    present = set(pkghelp.example_files())
    missing = [n for n in REQUIRED if n not in present]
    assert not missing, "missing examples in conf/: %s" % missing
    for name in ("conduktor_auth.load", "conduktor_auth.conf"):
        assert os.path.exists(os.path.join(pkghelp.CONF, name))


# ---- static checks ---------------------------------------------------------------
ALL_CONF = pkghelp.example_files() + ["conduktor_auth.conf"]


@pytest.mark.parametrize("name", ALL_CONF)
def test_only_existing_directives(name):
    """Every ConduktorAuth* word, live or commented, is a real directive."""
    known = pkghelp.module_directives()
    assert len(known) >= 20, "could not read cka_cmds from src/httpd/directives.c"
    # (a trailing "*" is a wildcard in prose: ConduktorAuthCORS*)
    used = set(re.findall(r"\b(ConduktorAuth[A-Za-z]+)(?![A-Za-z*])", read_example(name)))
    unknown = sorted(used - known)
    assert not unknown, "%s names directives the module lacks: %s" % (name, unknown)


@pytest.mark.parametrize("name", ALL_CONF)
def test_no_end_of_line_comments(name):
    """httpd has no end-of-line comments: `Directive arg  # note` would pass
    "#", "note" as arguments. Also checks the commented directives, which
    an administrator will uncomment."""
    bad = []
    for n, line in enumerate(read_example(name).splitlines(), 1):
        live = re.sub(r"^\s*(#\s*){0,2}", "", line)
        word = live.split(" ", 1)[0]
        if (word.startswith("ConduktorAuth") or word in pkghelp.HTTPD_WORDS) \
                and re.search(r"\s#", live):
            bad.append("%d: %s" % (n, line))
    assert not bad, "end-of-line comment in %s:\n%s" % (name, "\n".join(bad))


def test_load_file():
    text = read_example("conduktor_auth.load")
    lines = [l for l in text.splitlines() if l.strip() and not l.startswith("#")]
    assert lines == ["LoadModule conduktor_auth_module "
                     "/usr/lib/apache2/modules/mod_conduktor_auth.so"]
    # a2enmod reads "# Depends:" and enables the shared cache's provider.
    assert re.search(r"^# Depends: socache_shmcb$", text, re.M)


def test_mods_available_conf_is_all_comments():
    """Enabling the module must change nothing until the admin configures:
    conduktor_auth.conf holds only comments and the <IfModule> wrapper."""
    for line in read_example("conduktor_auth.conf").splitlines():
        s = line.strip()
        assert not s or s.startswith("#") or s in (
            "<IfModule conduktor_auth_module>", "</IfModule>"), line


# ---- apache2 -t ------------------------------------------------------------------
@pytest.mark.parametrize("name", pkghelp.example_files())
def test_example_configtest_as_shipped(name, workdir, module_path):
    """As shipped: discovery and https:// key sources are accepted at config
    time (nothing is fetched by `apache2 -t`)."""
    h = Httpd(workdir, [read_example(name)])
    rc, out = h.configtest()
    assert rc == 0 and "Syntax OK" in out, out


@pytest.mark.parametrize("name", pkghelp.example_files())
def test_example_configtest_local_keys(name, workdir, keys, module_path):
    text = read_example(name)
    local = localize(text, keys.jwks)
    if pkghelp.example_issuers(text):
        assert "file:" + keys.jwks in local
    h = Httpd(workdir, [local])
    rc, out = h.configtest()
    assert rc == 0 and "Syntax OK" in out, out


def test_mods_available_conf_configtest(workdir, keys, module_path):
    """conduktor_auth.conf as shipped, and with every commented directive
    uncommented (key files local): both load."""
    text = read_example("conduktor_auth.conf")
    live = pkghelp.uncomment_directives(text)
    assert live.count("ConduktorAuth") == text.count("ConduktorAuth")
    assert re.search(r"^\s*ConduktorAuthIssuer ", live, re.M)
    for t in (read_example("conduktor_auth.load").replace(
                  "/usr/lib/apache2/modules/mod_conduktor_auth.so", module_path)
              + "\n" + text, localize(live, keys.jwks)):
        # The .load line and the harness both load the module: drop ours.
        t = re.sub(r"^LoadModule conduktor_auth_module .*$", "", t, flags=re.M)
        h = Httpd(workdir, [t])
        rc, out = h.configtest()
        assert rc == 0 and "Syntax OK" in out, out


def test_configtest_names_a_bad_value(workdir, keys, module_path):
    """The harness is able to fail: a broken example is refused."""
    text = localize(read_example("keycloak.conf"), keys.jwks)
    text = text.replace("ConduktorAuthAudience conduktor-api",
                        "ConduktorAuthAudience")
    h = Httpd(workdir, [text])
    rc, out = h.configtest()
    assert rc != 0 and "ConduktorAuthAudience" in out, out


def test_mtls_example_with_mod_ssl(workdir, keys, module_path):
    """conf/mtls.conf is all inside <IfModule ssl_module> (so the tests above
    read past it): with mod_ssl loaded and its certificate paths pointing
    at a certificate made here, the virtual host is really read and passes."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    d = pkghelp.make_tempdir(os.path.join(workdir, "mtls-"))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME,
                                         "conduktor.example.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("conduktor.example.com")]), critical=False)
            .sign(key, hashes.SHA256()))
    crt, pem = os.path.join(d, "server.pem"), os.path.join(d, "server.key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(pem, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    text = read_example("mtls.conf")
    assert re.search(r"^\s*SSLVerifyClient optional_no_ca$", text, re.M)
    local = (localize(text, keys.jwks)
             .replace("/etc/ssl/certs/conduktor.example.com.pem", crt)
             .replace("/etc/ssl/private/conduktor.example.com.key", pem)
             .replace("*:443", "127.0.0.1:%d" % pkghelp.free_port()))
    assert crt in local and pem in local
    h = Httpd(workdir, [local], modules=["ssl"])
    rc, out = h.configtest()
    assert rc == 0 and "Syntax OK" in out, out
    # the <IfModule> was entered: a directive error inside it is reported
    broken = local.replace("ConduktorAuthAudience conduktor-api", "ConduktorAuthAudience")
    rc, out = Httpd(workdir, [broken], modules=["ssl"]).configtest()
    assert rc != 0 and "ConduktorAuthAudience" in out, out


# ---- the IdP examples serve ------------------------------------------------------
def now():
    return int(time.time())


# CASES below are made when the module is imported; the packaging suite
# may run this file minutes later (after the Debian package is built), so
# their times are moved forward to when they are sent.
IMPORTED = int(time.time())
TIME_CLAIMS = ("iat", "nbf", "exp", "auth_time")


def fresh(claims):
    shift = now() - IMPORTED
    return {k: v + shift if k in TIME_CLAIMS and isinstance(v, int) else v
            for k, v in claims.items()}


KC_ISS = "https://keycloak.example.com/realms/acme"
OKTA_ISS = "https://acme.okta.com/oauth2/default"
TENANT = "11111111-2222-3333-4444-555555555555"
APP_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
ENTRA_ISS = "https://login.microsoftonline.com/%s/v2.0" % TENANT
ENTRA_PLATFORM = "0b9f1e7c-5d4a-4c1b-9e2f-3a6d8c7b5e41"
AUTH0_ISS = "https://acme.eu.auth0.com/"
NS = "https://conduktor.example.com/"
COGNITO_ISS = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI"
COGNITO_CLIENT = "1example23456789abcdefghij"


def keycloak(**kw):
    c = {"iss": KC_ISS, "aud": ["conduktor-api", "account"], "azp": "backstage",
         "typ": "Bearer", "sub": "f3b1c2d4-0000-4000-8000-000000000001",
         "email": "alice@example.com", "email_verified": True,
         "preferred_username": "alice", "groups": ["/platform-team"],
         "realm_access": {"roles": ["offline_access", "default-roles-acme"]},
         "resource_access": {"account": {"roles": ["view-profile"]}},
         "scope": "openid email profile", "iat": now(), "exp": now() + 300}
    c.update(kw)
    return c


def okta(**kw):
    c = {"ver": 1, "jti": "AT.x", "iss": OKTA_ISS, "aud": "api://default",
         "sub": "alice@example.com", "uid": "00u1a2b3c4", "cid": "0oa9z8y7x6",
         "scp": ["openid", "conduktor"], "groups": ["Everyone", "conduktor-platform-team"],
         "iat": now(), "exp": now() + 300}
    c.update(kw)
    return c


def entra(**kw):
    c = {"iss": ENTRA_ISS, "aud": APP_ID, "ver": "2.0", "tid": TENANT,
         "oid": "99999999-8888-7777-6666-555555555555", "sub": "pairwise-sub",
         "azp": "bbbbbbbb-0000-0000-0000-000000000000", "scp": "access_as_user",
         "preferred_username": "alice@example.com", "groups": [ENTRA_PLATFORM],
         "iat": now(), "nbf": now(), "exp": now() + 300}
    c.update(kw)
    return c


def auth0(**kw):
    c = {"iss": AUTH0_ISS, "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
         "aud": ["https://conduktor.example.com/api", AUTH0_ISS + "userinfo"],
         "azp": "backstage-client", "scope": "openid profile email",
         NS + "groups": ["platform-team"], NS + "email": "alice@example.com",
         "permissions": [], "iat": now(), "exp": now() + 300}
    c.update(kw)
    return c


def cognito(**kw):
    c = {"iss": COGNITO_ISS, "sub": "aaaaaaaa-1111-2222-3333-444444444444",
         "client_id": COGNITO_CLIENT, "token_use": "access",
         "cognito:groups": ["platform-team"], "username": "alice",
         "scope": "aws.cognito.signin.user.admin", "auth_time": now(),
         "iat": now(), "exp": now() + 300, "jti": "j-1", "origin_jti": "o-1"}
    c.update(kw)
    return c


def without(claims, *names):
    return {k: v for k, v in claims.items() if k not in names}


# (example, token claims, expected status, expected user, reason code)
CASES = {
    "keycloak.conf": [
        (keycloak(), 200, "alice@example.com", "-"),
        # realm role instead of the group
        (keycloak(groups=[], realm_access={"roles": ["kafka-admin"]}), 200, "alice@example.com", "-"),
        # group without the full path: not the configured form
        (keycloak(groups=["platform-team"]), 403, "alice@example.com", "group_denied"),
        # no Audience mapper: aud is "account" only
        (keycloak(aud="account"), 401, "-", "wrong_audience"),
        # no email scope: preferred_username
        (without(keycloak(), "email"), 200, "alice", "-"),
    ],
    "okta.conf": [
        # no email claim: REMOTE_USER falls back to sub (the Okta login)
        (okta(), 200, "alice@example.com", "-"),
        (okta(groups=["Everyone"]), 403, "alice@example.com", "group_denied"),
        # scp is an array: the "conduktor" scope was not granted
        (okta(scp=["openid", "conduktor.read"]), 403, "alice@example.com", "scope_denied"),
        (okta(aud="api://other"), 401, "-", "wrong_audience"),
        # the org authorization server's tokens are not for us (not a JWT of
        # a trusted issuer: sorted as opaque, refused)
        (okta(iss="https://acme.okta.com"), 401, "-", "opaque_token_refused"),
    ],
    "entra-id.conf": [
        (entra(), 200, "alice@example.com", "-"),
        (entra(aud="api://" + APP_ID), 200, "alice@example.com", "-"),
        # scp is a string: split on spaces, each scope exact
        (entra(scp="User.Read access_as_user"), 200, "alice@example.com", "-"),
        (entra(scp="User.Read access_as_users"), 403, "alice@example.com", "scope_denied"),
        (entra(groups=["00000000-0000-0000-0000-000000000000"]), 403, "alice@example.com", "group_denied"),
        # groups overage: no groups claim, _claim_names instead
        (without(entra(_claim_names={"groups": "src1"},
                       _claim_sources={"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}),
                 "groups"), 403, "alice@example.com", "group_denied"),
        # ... an app role still lets the caller in
        (without(entra(_claim_names={"groups": "src1"}, roles=["Conduktor.Admin"]),
                 "groups"), 200, "alice@example.com", "-"),
        # a v1.0 token
        (entra(iss="https://sts.windows.net/%s/" % TENANT, ver="1.0"), 401, "-", "opaque_token_refused"),
    ],
    "auth0.conf": [
        (auth0(), 200, "alice@example.com", "-"),
        (without(auth0(permissions=["admin:conduktor"]), NS + "groups", NS + "email"),
         200, "auth0|5f7c8ec7c33c6c004bbafe82", "-"),
        # a non-namespaced "groups" claim is not the configured one
        (without(auth0(groups=["platform-team"]), NS + "groups"), 403, "alice@example.com", "group_denied"),
        (auth0(aud=AUTH0_ISS + "userinfo"), 401, "-", "wrong_audience"),
    ],
    "cognito.conf": [
        (cognito(), 200, "alice", "-"),
        # another app client
        (cognito(client_id="2other"), 403, "alice", "claim_denied"),
        # an ID token: token_use id, aud = the client
        (without(cognito(token_use="id", aud=COGNITO_CLIENT, email="alice@example.com",
                         **{"cognito:username": "alice"}), "client_id", "username", "scope"),
         403, "aaaaaaaa-1111-2222-3333-444444444444", "claim_denied"),
        (cognito(**{"cognito:groups": ["viewers"]}), 403, "alice", "group_denied"),
    ],
}


DENIED = ("group_denied", "claim_denied")


@pytest.mark.parametrize("name", IDP_EXAMPLES)
def test_idp_example_serves(name, workdir, keys, backend, module_path):
    text = read_example(name)
    issuers = pkghelp.example_issuers(text)
    assert len(issuers) == 1, issuers
    h = Httpd(workdir,
              [localize(text, keys.jwks, backend.url)])
    secrets = []
    h.start()
    try:
        status, headers, _ = h.get(API + "?case=none")
        assert status == 401, "no token"
        assert headers.get("www-authenticate", "").startswith('Bearer realm="Conduktor"')
        for i, (claims, want, user, reason) in enumerate(CASES[name]):
            token = keys.token(claims=fresh(claims), key="rsa")
            secrets.append(token)
            status, headers, body = h.get("%s?case=%d" % (API, i), token=token)
            assert status == want, (i, claims, body)
        lines = h.access_lines(1 + len(CASES[name]))
    finally:
        h.stop()
    # Requests are logged after the answer, not necessarily in order.
    logged = dict((re.search(r"\?case=(\w+)", l).group(1), l) for l in lines)
    assert len(logged) == 1 + len(CASES[name]), lines
    assert "error=no_token" in logged["none"]
    for i, (claims, want, user, reason) in enumerate(CASES[name]):
        line = logged[str(i)]
        assert " %d user=%s " % (want, user) in line, (line, claims)
        reasons = DENIED if reason in DENIED else (reason,)
        assert any("error=%s " % r in line for r in reasons), (line, claims)
    if name == "entra-id.conf":
        assert len([l for l in lines if "overage=1" in l]) == 2, lines
    # Only the allowed requests reached the backend, at the example's path.
    assert all(p.startswith("/api/public/") for _, p, _ in backend.seen)
    problems = h.log_problems(secrets)
    assert not problems, "\n".join(problems)


def test_audit_log_example(workdir, keys, backend, module_path):
    """audit-log.conf with the Keycloak example: user, groups and the
    denial reason are in the audit log; requests the module did not decide
    (outside the protected location) are not."""
    h = Httpd(workdir,
              [localize(read_example("keycloak.conf"), keys.jwks, backend.url),
               read_example("audit-log.conf")])
    audit = os.path.join(h.root, "logs", "conduktor-audit.log")
    audit_json = os.path.join(h.root, "logs", "conduktor-audit.json")
    ok = keys.token(claims=keycloak(groups=["/platform-team", "/kafka/admins"]), key="rsa")
    denied = keys.token(claims=keycloak(email="bob@example.com", groups=["/viewers"]), key="rsa")
    expired = keys.token(claims=keycloak(iat=now() - 900, exp=now() - 600), key="rsa")
    h.start()
    try:
        assert h.get(API + "?n=0")[0] == 401
        assert h.get(API + "?n=1", token=ok)[0] == 200
        assert h.get(API + "?n=2", token=denied)[0] == 403
        assert h.get(API + "?n=3", token=expired)[0] == 401
        assert h.get("/not-protected")[0] == 403
        h.access_lines(5)
        deadline = time.time() + 5
        while time.time() < deadline and (len(Httpd.read(audit).splitlines()) < 4
                                          or len(Httpd.read(audit_json).splitlines()) < 4):
            time.sleep(0.05)
    finally:
        h.stop()
    # The JSON form beside it: one valid object per decided request (two
    # child processes may write them in either order).
    events = [json.loads(l) for l in Httpd.read(audit_json).splitlines()]
    assert len(events) == 4 and all(e["url"]["path"] == API for e in events), events
    by = {(e["http"]["response"]["status_code"], e["event"].get("reason")): e for e in events}
    assert set(by) in ({(401, "no_token"), (200, None), (403, "group_denied"), (401, "token_expired")},
                       {(401, "no_token"), (200, None), (403, "claim_denied"), (401, "token_expired")}), by
    allowed = by[(200, None)]
    assert allowed["event"]["outcome"] == "success" and allowed["iss"] == KC_ISS
    assert allowed["user"]["name"] == "alice@example.com"
    assert allowed["groups"] == ["/platform-team", "/kafka/admins"]
    assert "user" not in by[(401, "token_expired")] and "user" not in by[(401, "no_token")]
    text = Httpd.read(audit)
    assert "/not-protected" not in text
    lines = dict((re.search(r"\?n=(\d)", l).group(1), l) for l in text.splitlines())
    assert sorted(lines) == ["0", "1", "2", "3"], text
    assert 'user="-"' in lines["0"] and "reason=no_token" in lines["0"]
    assert "kind=-" in lines["0"] and "kind=jwt" in lines["1"] and "kind=jwt" in lines["3"]
    assert ' 200 ' in lines["1"] and 'user="alice@example.com"' in lines["1"]
    assert 'groups="/platform-team,/kafka/admins"' in lines["1"]
    assert "reason=- " in lines["1"] and 'iss="%s"' % KC_ISS in lines["1"]
    assert ' 403 ' in lines["2"] and 'user="bob@example.com"' in lines["2"]
    assert 'groups="/viewers"' in lines["2"]
    assert "reason=group_denied" in lines["2"] or "reason=claim_denied" in lines["2"]
    assert ' 401 ' in lines["3"] and "reason=token_expired" in lines["3"]
    problems = h.log_problems([ok, denied, expired])
    assert not problems, "\n".join(problems)


def test_keycloak_example_steps_up_deletes(workdir, keys, backend, module_path):
    """keycloak.conf: reading needs the group, deleting also acr "2" from a
    login at most 900 s old (RFC 9470 challenge otherwise)."""
    h = Httpd(workdir, [localize(read_example("keycloak.conf"), keys.jwks, backend.url)])
    weak = keys.token(claims=keycloak(acr="1", auth_time=now() - 60), key="rsa")
    old = keys.token(claims=keycloak(acr="2", auth_time=now() - 3600), key="rsa")
    strong = keys.token(claims=keycloak(acr="2", auth_time=now() - 60), key="rsa")
    h.start()
    try:
        assert h.get(API, token=weak)[0] == 200
        status, headers, _ = h.get(API, token=weak, method="DELETE")
        assert status == 401
        challenge = headers.get("www-authenticate", "")
        assert 'error="insufficient_user_authentication"' in challenge
        assert 'acr_values="2"' in challenge and "max_age" not in challenge
        status, headers, _ = h.get(API, token=old, method="DELETE")
        assert status == 401 and 'max_age="900"' in headers.get("www-authenticate", "")
        assert h.get(API, token=strong, method="DELETE")[0] == 200
        h.access_lines(4)
    finally:
        h.stop()
    problems = h.log_problems([weak, old, strong])
    assert not problems, "\n".join(problems)


def test_resource_metadata_example(workdir, keys, backend, module_path):
    """resource-metadata.conf: the document at its well-known URL without a
    token, and resource_metadata in the 401 challenge."""
    h = Httpd(workdir, [localize(read_example("resource-metadata.conf"), keys.jwks,
                                 backend.url)])
    md = "/.well-known/oauth-protected-resource/api/public/"
    h.start()
    try:
        status, headers, body = h.get(md)
        status401, headers401, _ = h.get(API)
        h.access_lines(2)
    finally:
        h.stop()
    assert status == 200 and headers.get("access-control-allow-origin") == "*"
    assert json.loads(body) == {
        "resource": "https://conduktor.example.com/api/public/",
        "authorization_servers": [KC_ISS],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["conduktor:read", "conduktor:write"]}
    assert status401 == 401
    assert ('resource_metadata="https://conduktor.example.com%s"' % md
            in headers401.get("www-authenticate", ""))
    problems = h.log_problems([])
    assert not problems, "\n".join(problems)
