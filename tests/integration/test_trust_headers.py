"""Identity headers on every path, as an attacker would try them (issue 13,
points 1, 5 and 7; SPEC `ConduktorAuthIdentityHeader`,
`ConduktorAuthGroupsSeparator`, "Trust is bound to the configuration that
declared it").

A client sends its own copies of the identity headers -- the configured
name in another case, with `_` for `-` -- and tries to get them to the
backend along paths where httpd does not run header_parser: a mod_include
subrequest from a page outside the protected location, an internal
redirect (ErrorDocument), a fast redirect (DirectoryIndex naming a
protected URL). Each test also shows a valid token still passing on the
same server, with exactly the module's values at the backend.

Also here: single-string groups escaped like array members,
RequireType compared as media types, and a Cache-Control header sent last
by the IdP.
"""
import json
import re

import pytest

from harness import assert_denied, headers_named, protect
from idp_fixtures import (SigningKey, fetch_successes, idp, jwks, pki,  # noqa: F401
                          remote_issuer, send)

IDENTITY = "\n".join([
    "ConduktorAuthIdentityHeader email X-Auth-Email",
    "ConduktorAuthIdentityHeader groups X-Auth-Groups",
    "ConduktorAuthIdentityHeader claim:tenant.id X-Tenant",
])
NAMES = ("X-Auth-Email", "X-Auth-Groups", "X-Tenant")

# What an attacker with a valid account (no tenant claim, groups g1) adds.
FORGED = [("X-Auth-Groups", "kafka-admins"),
          ("x-auth-groups", "kafka-admins-2"),
          ("X_Auth_Groups", "kafka-admins-3"),
          ("X-Tenant", "other-tenant"),          # a claim the token lacks
          ("x_tenant", "other-tenant-2"),
          ("X_Auth_Email", "mallory@evil.test"),
          ("x-auth-email", "mallory2@evil.test"),
          ("X-AUTH-EMAIL", "mallory3@evil.test")]
FORGED_VALUES = {v for _, v in FORGED}

# Pages and directories under DocumentRoot, reached as /static/...
STATIC_DIR = """\
<Directory "{root}/htdocs">
  Require all granted
  Options +Includes
  AddOutputFilter INCLUDES .shtml
</Directory>"""


def include_page(target):
    """A page that is nothing but an include of target (so the answer's
    body is the included answer)."""
    return '<!--#include virtual="%s" -->' % target


def seen(echo):
    """Every value the backend got for each identity header, any variant."""
    return {name: headers_named(echo, name) for name in NAMES}


def no_forgery(echo):
    """No forged value arrived under any header name."""
    values = {v for _, v in echo["header_list"]}
    assert not values & FORGED_VALUES, echo["header_list"]


def module_values(email="alice@example.test", groups="g1"):
    return {"X-Auth-Email": [email], "X-Auth-Groups": [groups], "X-Tenant": []}


def stripped():
    return {name: [] for name in NAMES}


# -- mod_include subrequests ----------------------------------------------------------
@pytest.fixture(scope="module")
def inc(shared_httpd):
    """/static/page*.shtml (outside any protected location) include:
    /api/ (protected, identity headers), /open/ (identity headers, no
    authentication)."""
    return shared_httpd(
        "",
        server="\n".join([
            STATIC_DIR,
            '<Location "/api/">', protect(IDENTITY), "</Location>",
            '<Location "/open/">', IDENTITY, "Require all granted", "</Location>",
        ]),
        modules=["include"],
        htdocs={"static/page.shtml": include_page("/api/echo"),
                "static/open.shtml": include_page("/open/echo")},
        expect_log=[r"\[include:error\] .*unable to include \"/api/echo\""])


def test_include_into_protected_location_keeps_no_client_copy(inc):
    h = inc
    r = h.get("/static/page.shtml", token=h.mint(groups=["g1"]), headers=FORGED)
    assert r.status == 200, r
    echo = r.echo
    assert echo["path"] == "/api/echo" and echo["token"] == "valid"
    no_forgery(echo)
    assert seen(echo) == module_values()


def test_include_with_tenant_claim_gets_exactly_the_module_value(inc):
    h = inc
    r = h.get("/static/page.shtml", headers=FORGED,
              token=h.mint(groups=["g1"], tenant={"id": "acme"}))
    assert r.status == 200, r
    no_forgery(r.echo)
    assert seen(r.echo) == dict(module_values(), **{"X-Tenant": ["acme"]})


def test_include_into_unauthenticated_scope_strips(inc):
    h = inc
    r = h.get("/static/open.shtml", headers=FORGED)
    assert r.status == 200, r
    assert r.echo["path"] == "/open/echo"
    no_forgery(r.echo)
    assert seen(r.echo) == stripped()
    # A token does not matter there (no authentication in that scope).
    r = h.get("/static/open.shtml", token=h.mint(), headers=FORGED)
    assert seen(r.echo) == stripped()


def test_include_without_token_never_reaches_the_backend(inc, backend):
    h = inc
    before = len(backend.requests())
    r = h.get("/static/page.shtml", headers=FORGED)
    assert r.status == 200, r                   # the page; the include failed
    assert "echo" not in r.text
    assert len(backend.requests()) == before
    # The same server still passes a valid token.
    assert h.get("/static/page.shtml", token=h.mint(groups=["g1"])).echo["token"] == "valid"


def test_include_reusing_the_main_requests_authentication(httpd):
    """A subrequest with the main request's configuration skips
    authentication (httpd reuses r->main's user): the module's values are
    put back after the strip, the client's copies stay out. The main
    request is a POST whose body (echoed by the backend) holds the
    include, so both are proxied through the same <Location>."""
    h = httpd("", server="\n".join([
        '<Location "/api/">', protect(IDENTITY), "Options +Includes",
        "SetOutputFilter INCLUDES", "</Location>"]), modules=["include"])
    r = h.request("POST", "/api/page", token=h.mint(groups=["g1"]), headers=FORGED,
                  body="<!--#include virtual='/api/inner' -->")
    assert r.status == 200, r
    text = r.text
    at = text.find('{\n "echo"', 1)
    assert at > 0, text[:500]
    inner, _ = json.JSONDecoder().raw_decode(text[at:])
    echo = inner["echo"]
    assert echo["path"] == "/api/inner" and echo["token"] == "valid"
    no_forgery(echo)
    assert seen(echo) == module_values()
    log = h.read_error_log()
    assert re.search(r"identity headers of the main request put back", log), \
        "the subrequest did not reuse the main request's authentication"


# -- internal and fast redirects ------------------------------------------------------
def test_error_document_redirect_into_protected_location(httpd):
    h = httpd("", server="\n".join([
        STATIC_DIR, "ErrorDocument 404 /api/echo",
        '<Location "/api/">', protect(IDENTITY), "</Location>"]))
    r = h.get("/static/missing.html", token=h.mint(groups=["g1"]), headers=FORGED)
    assert r.status in (200, 404), r       # the proxied ErrorDocument's own status
    echo = json.loads(r.body)["echo"]
    assert echo["path"] == "/api/echo" and echo["token"] == "valid"
    no_forgery(echo)
    assert seen(echo) == module_values()


def test_error_document_redirect_into_unauthenticated_scope(httpd):
    h = httpd("", server="\n".join([
        STATIC_DIR, "ErrorDocument 404 /open/echo",
        '<Location "/open/">', IDENTITY, "Require all granted", "</Location>"]))
    r = h.get("/static/missing.html", headers=FORGED)
    assert r.status in (200, 404), r
    echo = json.loads(r.body)["echo"]
    assert echo["path"] == "/open/echo"
    no_forgery(echo)
    assert seen(echo) == stripped()


def test_directory_index_fast_redirect_into_protected_location(httpd):
    """mod_dir serves a DirectoryIndex URL by a fast redirect: the request
    takes the subrequest's configuration and handler but keeps its own
    headers (never stripped: /static/ is outside the protected scope)."""
    h = httpd("", server="\n".join([
        STATIC_DIR,
        '<Directory "{root}/htdocs/static/d">', "DirectoryIndex /api/echo", "</Directory>",
        '<Location "/api/">', protect(IDENTITY), "</Location>"]),
        modules=["dir"], htdocs={"static/d/readme.txt": "x"})
    r = h.get("/static/d/", token=h.mint(groups=["g1"]), headers=FORGED)
    assert r.status == 200, r
    echo = r.echo
    assert echo["path"] == "/api/echo" and echo["token"] == "valid"
    no_forgery(echo)
    assert seen(echo) == module_values()


# -- direct requests: variants, unauthenticated, preflight ----------------------------
@pytest.fixture(scope="module")
def direct(shared_httpd):
    return shared_httpd(
        "",
        server="\n".join([
            '<Location "/api/">', protect(IDENTITY), "</Location>",
            '<Location "/open/">', IDENTITY, "Require all granted", "</Location>"]))


def test_set_header_leaves_no_variant(direct):
    h = direct
    r = h.get("/api/echo", token=h.mint(email="erin@example.test", groups=["g1"]),
              headers=FORGED)
    assert r.status == 200, r
    no_forgery(r.echo)
    # Exactly one header of each set name, under the configured spelling.
    names = [k for k, _ in r.echo["header_list"]]
    assert [n for n in names if n.lower().replace("_", "-") == "x-auth-email"] == \
        ["X-Auth-Email"], names
    assert seen(r.echo) == module_values(email="erin@example.test")


def test_unauthenticated_request_in_scope_is_stripped(direct):
    h = direct
    r = h.get("/open/echo", headers=FORGED)
    assert r.status == 200, r
    no_forgery(r.echo)
    assert seen(r.echo) == stripped()


def test_refused_token_never_reaches_the_backend(direct, backend):
    h = direct
    before = len(backend.requests())
    assert_denied(h.get("/api/echo", headers=FORGED), 401)
    assert len(backend.requests()) == before


def test_preflight_in_scope_is_stripped(direct):
    # A preflight the module does not answer (no CORS configured there)
    # goes to the backend like any request: without the client's copies.
    h = direct
    r = h.request("OPTIONS", "/open/echo", headers=FORGED + [
        ("Origin", "https://app.example.test"), ("Access-Control-Request-Method", "GET"),
        ("Access-Control-Request-Headers", "x-auth-groups")])
    assert r.status == 200, r
    assert r.echo["method"] == "OPTIONS"
    no_forgery(r.echo)
    assert seen(r.echo) == stripped()


def test_answered_preflight_then_request_in_cors_scope(httpd, backend):
    h = httpd("", server="\n".join([
        '<Location "/api/">', protect(IDENTITY),
        "ConduktorAuthCORSAllowOrigin https://app.example.test", "</Location>"]))
    before = len(backend.requests())
    r = h.request("OPTIONS", "/api/echo", headers=FORGED + [
        ("Origin", "https://app.example.test"), ("Access-Control-Request-Method", "GET")])
    assert r.status == 204, r
    assert len(backend.requests()) == before      # answered at the edge
    r = h.get("/api/echo", token=h.mint(groups=["g1"]),
              headers=FORGED + [("Origin", "https://app.example.test")])
    assert r.status == 200, r
    no_forgery(r.echo)
    assert seen(r.echo) == module_values()


# -- groups: a single string is one group ---------------------------------------------
@pytest.mark.parametrize("groups", ["admins,kafka-admins", ["admins,kafka-admins"]],
                         ids=["string", "array"])
def test_single_string_groups_escaped_like_an_array(direct, groups):
    h = direct
    r = h.get("/api/echo", token=h.mint(groups=groups))
    assert r.status == 200, r
    assert headers_named(r.echo, "X-Auth-Groups") == [r"admins\,kafka-admins"]
    assert h.last_access()["groups"] == r"admins\\,kafka-admins"   # access log escapes "\"


def test_single_string_groups_is_not_two_groups_for_require(httpd):
    h = httpd(protect(IDENTITY, require="Require conduktor-group kafka-admins"))
    assert_denied(h.get(token=h.mint(groups="admins,kafka-admins")), 403,
                  error="insufficient_scope")
    assert h.get(token=h.mint(groups=["admins", "kafka-admins"])).status == 200


# -- typ compared as a media type -----------------------------------------------------
def test_require_type_as_media_type(httpd):
    h = httpd(protect("ConduktorAuthRequireType application/at+jwt"))
    for typ in ("at+jwt", "AT+JWT", "application/at+jwt", "Application/At+Jwt"):
        assert h.get(token=h.mint(header={"typ": typ})).status == 200, typ
    for typ in ("JWT", "application/jwt", "text/at+jwt", "application/"):
        r = h.get(token=h.mint(header={"typ": typ}))
        assert_denied(r, 401, error="invalid_token")
        assert h.last_access()["error"] == "wrong_type", typ


# -- Cache-Control as the IdP's last header -------------------------------------------
@pytest.mark.parametrize("cache_control,fresh", [
    ("max-age=120", 120),
    ("public, max-age=7200", 7200),
    ("no-store", 60),           # no-store: the shortest freshness (clamped to 60 s)
    ("no-cache", 60),
], ids=["max_age", "public_max_age", "no_store", "no_cache"])
def test_cache_control_as_last_header(httpd, idp, pki, cache_control, fresh):
    ip = idp()
    iss = ip.url + "/tenant"
    key = SigningKey("cc-1")
    ip.route("/tenant/jwks", body=jwks(key), cache_control=cache_control,
             cache_control_last=True)
    h = httpd(protect(), issuers=remote_issuer(pki, iss, ip.url + "/tenant/jwks",
                                               miss=60, refresh=900))
    r = send(h, key.token(iss))
    assert r.status == 200, r
    assert fetch_successes(h.read_error_log().splitlines(), iss) == [(iss, "refresh", fresh)]
