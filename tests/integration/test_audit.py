"""The audit event (SPEC "Status", audit paragraph; issue 18): on every
request the module decided - allowed, refused by check_authn or by Require,
a preflight answered or refused - CONDUKTOR_AUTH_AUDIT holds one JSON
object, and the log format item %^CA writes it as valid JSON through a
real CustomLog (`env=CONDUKTOR_AUTH_AUDIT`: nothing for the requests the
module did not decide). Each line is parsed and compared with what that
request was; no line holds a piece of any token sent.
"""
import datetime
import json
import re
import time
import uuid

from harness import AUDIENCE, CLUSTERS, ISSUER, _token_pieces, protect

ORIGIN = "https://backstage.example.test"
AUDIT = 'CustomLog "{root}/logs/audit.json" "%^CA" env=CONDUKTOR_AUTH_AUDIT'
STATIC = """
<Location "/static">
  AuthType None
  Require all granted
</Location>"""
SERVER = STATIC + """
<Location "/admins/">
  AuthType conduktor-jwt
  ConduktorAuthAudience %s
  ConduktorAuthCORSAllowOrigin %s
  Require conduktor-group admins
</Location>
<Location "/conduktor-auth-status">
  SetHandler conduktor-auth-status
  Require ip 127.0.0.1
</Location>""" % (AUDIENCE, ORIGIN)


def audit_lines(h, want, timeout=5.0):
    """The audit log's lines once there are `want` of them (the access log,
    which the harness waits for, is written just before it)."""
    path = h.root + "/logs/audit.json"
    deadline = time.time() + timeout
    while True:
        try:
            with open(path, "rb") as f:
                lines = f.read().split(b"\n")
        except FileNotFoundError:
            lines = [b""]
        assert lines[-1] == b"", "audit log does not end with a newline"
        lines = lines[:-1]
        if len(lines) >= want or time.time() > deadline:
            return lines
        time.sleep(0.05)


def parse(line):
    """One line: UTF-8, one JSON object, nothing else, no raw control byte."""
    text = line.decode("utf-8")          # raises on bytes that are not UTF-8
    # No raw control character: C0, DEL, C1, line/paragraph separators.
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029]", text), text
    return json.loads(text)


def assert_common(ev, method, path, status, outcome, reason=None):
    stamp = datetime.datetime.strptime(ev["@timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    age = time.time() - stamp.replace(tzinfo=datetime.timezone.utc).timestamp()
    assert -5 < age < 120, ev["@timestamp"]
    assert ev["event"]["outcome"] == outcome, ev
    assert ev["event"].get("reason") == reason, ev
    assert ev["event"]["category"] == ["authentication"], ev
    assert ev["client"]["ip"] == "127.0.0.1", ev
    assert ev["http"]["request"]["method"] == method, ev
    assert ev["http"]["response"]["status_code"] == status, ev
    assert ev["url"]["path"] == path, ev
    assert ev["server"]["address"] == "127.0.0.1", ev


WHO = ("user", "groups", "iss", "sub", "jti", "azp", "client_id", "exp", "kid")


def assert_nobody(ev):
    """A refused or absent token: nothing about who the caller claims to be."""
    for name in WHO:
        assert name not in ev, (name, ev)


def test_one_line_per_decision_kind(httpd):
    h = httpd(protect("ConduktorAuthCORSAllowOrigin " + ORIGIN), server=SERVER, global_=AUDIT,
              log_env=["CONDUKTOR_AUTH_AUDIT"],
              htdocs={"static/plain.txt": "not protected\n"})
    jti = uuid.uuid4().hex
    good = h.mint(jti=jti, azp="backstage", client_id="cli-1", groups=["platform-team", "ops"])
    exp = json.loads(__import__("base64").urlsafe_b64decode(good.split(".")[1] + "=="))["exp"]
    forged = h.mint(key="rogue-rsa", email="mallory@evil.test", sub="mallory",
                    jti="forged-jti", groups=["admins"])
    expired = h.mint(exp=int(time.time()) - 600, email="old@example.test")
    sent = []        # (method, path, status, check) for each decided request

    def send(method, path, status, check, **kw):
        r = h.request(method, path, **kw)
        assert r.status == status, r
        if check is not None:
            sent.append((method, path.split("?")[0], status, check))
            # Its line before the next request: the n-th line is the n-th
            # decision, whichever child process writes it.
            assert len(audit_lines(h, len(sent))) == len(sent)
        return r

    def allowed(ev):
        assert_common(ev, "GET", CLUSTERS, 200, "success")
        assert ev["user"] == {"name": "alice@example.test", "email": "alice@example.test"}
        assert ev["groups"] == ["platform-team", "ops"]
        assert (ev["iss"], ev["sub"], ev["jti"], ev["azp"], ev["client_id"], ev["exp"]) == \
            (ISSUER, "user-0001", jti, "backstage", "cli-1", exp), ev
        assert ev["credential"] == "jwt" and ev["kid"] == "rsa-1", ev

    send("GET", CLUSTERS + "?secret=query", 200, allowed, token=good)   # full check
    send("GET", CLUSTERS, 200, allowed, token=good)                      # cache hit

    def no_token(ev):
        assert_common(ev, "GET", CLUSTERS, 401, "failure", "no_token")
        assert_nobody(ev)
        assert "credential" not in ev, ev
    send("GET", CLUSTERS, 401, no_token)

    def forged_check(ev):
        assert_common(ev, "GET", CLUSTERS, 401, "failure", "bad_signature")
        assert_nobody(ev)
        assert ev["credential"] == "jwt"
    send("GET", CLUSTERS, 401, forged_check, token=forged)

    def expired_check(ev):
        assert_common(ev, "GET", CLUSTERS, 401, "failure", "token_expired")
        assert_nobody(ev)
    send("GET", CLUSTERS, 401, expired_check, token=expired)

    def denied(ev):
        # Require refused a verified token: who it is, and why refused.
        assert_common(ev, "GET", "/admins/x", 403, "failure", "group_denied")
        assert ev["user"]["name"] == "alice@example.test"
        assert ev["sub"] == "user-0001" and ev["kid"] == "rsa-1"
    send("GET", "/admins/x", 403, denied, token=good)

    pre = {"Origin": ORIGIN, "Access-Control-Request-Method": "GET",
           "Access-Control-Request-Headers": "authorization"}

    def answered(ev):
        assert_common(ev, "OPTIONS", "/api/x", 204, "success")
        assert_nobody(ev)
        assert "credential" not in ev
    send("OPTIONS", "/api/x", 204, answered, headers=pre)

    def refused(ev):
        assert_common(ev, "OPTIONS", "/api/x", 403, "failure", "cors_origin_denied")
        assert_nobody(ev)
    send("OPTIONS", "/api/x", 403, refused, headers=dict(pre, Origin="https://evil.test"))

    # Not decided by the module: no audit line, no variable.
    send("GET", "/static/plain.txt", 200, None)
    send("GET", "/conduktor-auth-status", 200, None)

    lines = audit_lines(h, len(sent))
    time.sleep(0.3)
    lines = audit_lines(h, len(sent))
    assert len(lines) == len(sent), [l[:200] for l in lines]
    for (method, path, status, check), line in zip(sent, lines):
        check(parse(line))
    text = b"\n".join(lines).decode()
    for tok in h.secrets:
        for piece in _token_pieces(tok):
            assert piece not in text, "token material in the audit log"
    assert "mallory" not in text and "forged-jti" not in text and "old@example" not in text
    assert "secret=query" not in text

    # The variable itself, as %{...}e sees it: set exactly on the decided
    # requests (escaped there, which is why %^CA exists).
    entries = h.access_entries()
    marked = [(e["method"], e["path"]) for e in entries if e["env:CONDUKTOR_AUTH_AUDIT"] != "-"]
    assert marked == [(m, p) for m, p, _, _ in sent], marked
    assert all(e["env:CONDUKTOR_AUTH_AUDIT"].startswith('{\\"') for e in entries
               if e["env:CONDUKTOR_AUTH_AUDIT"] != "-")


def header_safe(s):
    """REMOTE_USER as the module hands it on: control characters as \\xNN."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: "\\x%02x" % ord(m.group()), s)


def test_hostile_claims_and_bytes_stay_valid_json(httpd, keys):
    """Claims with quotes, backslashes, control characters, line and
    paragraph separators; a path with bytes that are not UTF-8; a token
    whose payload is not UTF-8: every line is still one valid object, with
    the values of that request."""
    h = httpd(protect(), global_=AUDIT)
    email = 'eve"\\\x01\x1b[31m\n}{"x":1@example.test'
    groups = ['a"b', "c\\d", "\x1fus", "line\u2028sep", "caf\u00e9 \U0001F600", "tab\tend"]
    sub = "s\"\\\r\n\x7f"
    tok = h.mint(email=email, groups=groups, sub=sub, jti="j\"\\\x02", azp="a\u0085z")
    r = h.get(CLUSTERS, token=tok)
    assert r.status == 200, r
    # Raw bytes in the path: %FF is not UTF-8, %0A a newline, %22 a quote.
    r = h.get("/api/%FF%22%0Ax%5C", token=tok)
    assert r.status == 200, r
    # A signed token whose payload is not UTF-8: refused as malformed.
    from mint import sign, default_claims
    payload = json.dumps(default_claims()).encode().replace(b"alice", b"al\xffice")
    bad = sign(keys.private["rsa"], "RS256", {"alg": "RS256", "kid": "rsa-1"}, payload)
    r = h.get(CLUSTERS, token=bad)
    assert r.status == 401, r

    lines = audit_lines(h, 3)
    assert len(lines) == 3, lines
    first, second, third = (parse(l) for l in lines)
    for ev in (first, second):
        assert ev["user"]["email"] == email
        assert ev["user"]["name"] == header_safe(email)
        assert ev["groups"] == groups
        assert ev["sub"] == sub and ev["jti"] == "j\"\\\x02" and ev["azp"] == "a\u0085z"
        assert ev["event"]["outcome"] == "success"
    assert first["url"]["path"] == CLUSTERS
    assert second["url"]["path"] == "/api/\ufffd\"\nx\\", second["url"]
    assert third["event"] == dict(third["event"], outcome="failure", reason="malformed_token")
    assert_nobody(third)
    # Written with JSON escapes, never raw: one event is one line.
    assert b"\\n" in lines[1] and b"\\u0001" in lines[0]


def test_audit_item_without_the_env_condition(httpd):
    """%^CA in an ordinary format: "-" for a request the module did not
    decide (httpd's own convention), the object for one it did."""
    h = httpd(protect(), server=STATIC,
              global_='CustomLog "{root}/logs/audit.json" "%>s %^CA"',
              htdocs={"static/plain.txt": "x\n"})
    assert h.get("/static/plain.txt").status == 200
    assert h.get(CLUSTERS).status == 401
    lines = audit_lines(h, 2)
    assert lines[0] == b"200 -"
    status, _, obj = lines[1].partition(b" ")
    assert status == b"401" and parse(obj)["event"]["reason"] == "no_token"


def test_error_document_redirect_is_one_event(httpd):
    """A local ErrorDocument is served by an internal redirect to a
    location the module does not protect: still one event, the original
    request's, with the status the client got."""
    h = httpd(protect(), global_=AUDIT, server=STATIC + """
        ErrorDocument 401 /static/denied.html
        ErrorDocument 403 /static/denied.html
        <Location "/admins/">
          Require conduktor-group admins
        </Location>""", htdocs={"static/denied.html": "<p>denied</p>\n"})
    r = h.get(CLUSTERS)
    assert r.status == 401 and b"denied" in r.body, r
    r = h.get("/admins/x", token=h.mint())
    assert r.status == 403 and b"denied" in r.body, r
    lines = audit_lines(h, 2)
    time.sleep(0.2)
    lines = audit_lines(h, 2)
    assert len(lines) == 2, lines
    first, second = parse(lines[0]), parse(lines[1])
    assert_common(first, "GET", CLUSTERS, 401, "failure", "no_token")
    assert_common(second, "GET", "/admins/x", 403, "failure", "group_denied")
    assert second["user"]["name"] == "alice@example.test"


def test_unavailable_keys_and_misconfiguration(httpd):
    """503 (the issuer's keys were never obtained) and 500 (no audience for
    the location): failures with their reasons; a token was presented in
    the first, so its kind is there, but nothing of who."""
    import harness
    from idp_fixtures import UNAVAILABLE_PATTERN, fail_pattern
    down = "https://127.0.0.1:%d/down" % harness.free_port()
    h = httpd(protect(audience=None), global_=AUDIT,
              issuers=["ConduktorAuthIssuer %s %s/keys" % (down, down),
                       "ConduktorAuthIssuer %s file:{keys}/jwks.json" % ISSUER],
              server="""
        <Location "/keys/">
          ConduktorAuthAudience {audience}
        </Location>""",
              expect_log=[fail_pattern(down), UNAVAILABLE_PATTERN,
                          r"conduktor_auth:error.*not_configured"])
    assert h.get("/keys/x", token=h.mint(iss=down)).status == 503
    assert h.get(CLUSTERS, token=h.mint()).status == 500
    lines = audit_lines(h, 2)
    time.sleep(0.2)
    lines = audit_lines(h, 2)
    assert len(lines) == 2, lines
    first, second = parse(lines[0]), parse(lines[1])
    assert_common(first, "GET", "/keys/x", 503, "failure", "keys_unavailable")
    assert first["credential"] == "jwt"
    assert_nobody(first)
    assert_common(second, "GET", CLUSTERS, 500, "failure", "not_configured")
    assert_nobody(second)


def test_a_forged_variable_is_never_written(httpd):
    """Configuration that copies a client header into CONDUKTOR_AUTH_AUDIT
    (SetEnvIf) cannot make %^CA write the client's text: the module's own
    event replaces it, and on a request the module did not decide the
    variable is removed (so env= skips it)."""
    forged = '{"event":{"outcome":"success"},"user":{"name":"admin"}}\n{"x":1}'
    h = httpd(protect(), global_=AUDIT + "\nSetEnvIf X-Forge (.*) CONDUKTOR_AUTH_AUDIT=$1",
              server=STATIC, htdocs={"static/plain.txt": "x\n"})
    hdr = {"X-Forge": forged.replace("\n", " ")}
    assert h.get("/static/plain.txt", headers=hdr).status == 200
    assert h.get(CLUSTERS, headers=hdr).status == 401
    lines = audit_lines(h, 1)
    time.sleep(0.2)
    lines = audit_lines(h, 1)
    assert len(lines) == 1, lines
    ev = parse(lines[0])
    assert_common(ev, "GET", CLUSTERS, 401, "failure", "no_token")
    assert "user" not in ev and b"admin" not in lines[0]


def test_event_made_only_where_a_log_reads_it(httpd):
    """Issue 24: the event is made only where something reads it. With
    %^CA in a format but no mention of CONDUKTOR_AUTH_AUDIT anywhere in the
    configuration, post_config finds no mention (and says so at debug
    level), so log_transaction never makes the event for the variable; the
    %^CA item still gets it, made by its own handler. (Whether the variable
    is set cannot be watched from the configuration without mentioning its
    name, which turns it on: the other tests here mention it and read it.)
    With a mention, post_config says so."""
    h = httpd(protect(), global_='CustomLog "{root}/logs/audit.json" "%^CA"')
    r = h.get(token=h.mint())
    assert r.status == 200, r
    lines = audit_lines(h, 1)
    assert len(lines) == 1, lines
    ev = parse(lines[0])
    assert_common(ev, "GET", CLUSTERS, 200, "success")
    assert ev["user"]["name"] == "alice@example.test", ev
    log = h.read_error_log()
    assert "audit: no mention of CONDUKTOR_AUTH_AUDIT" in log, log[-2000:]
    assert "audit: the configuration mentions CONDUKTOR_AUTH_AUDIT" not in log

    h2 = httpd(protect(), global_=AUDIT, log_env=["CONDUKTOR_AUTH_AUDIT"])
    r = h2.get(token=h2.mint())
    assert r.status == 200, r
    assert parse(audit_lines(h2, 1)[0])["event"]["outcome"] == "success"
    assert h2.last_access()["env:CONDUKTOR_AUTH_AUDIT"].startswith('{\\"')
    log = h2.read_error_log()
    assert "audit: the configuration mentions CONDUKTOR_AUTH_AUDIT" in log, log[-2000:]
    assert "audit: no mention of CONDUKTOR_AUTH_AUDIT" not in log
