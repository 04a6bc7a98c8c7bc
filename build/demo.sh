#!/usr/bin/env bash
# build/demo.sh - mod_conduktor_auth in one command, on a fresh Debian 12.
#
#   sudo build/demo.sh            install packages, build, run the demo, stop
#   sudo build/demo.sh --keep     ... and leave httpd + the stub running
#
# Options:
#   --keep        keep httpd and the Conduktor stand-in running afterwards
#   --no-apt      skip apt-get (packages already installed)
#   --no-build    skip the build (use an already built module)
#   -h, --help    this text
# Environment: CKA_MODULE (path of mod_conduktor_auth.so to load),
#   CKA_DEMO_DIR (work directory; default a new one under /tmp).
#
# What it does: installs the build and demo dependencies with apt-get,
# builds the module (autoreconf -fi && ./configure && make), generates
# throw-away signing keys, starts a local stand-in for Conduktor Console's
# API and an httpd of its own (own ServerRoot, loopback port) that checks
# tokens with the module and proxies to the stand-in, allowing only the
# group "platform-team". Then it calls the API with curl: without a token
# (401), with a valid token (200 and the identity the backend saw), and as a
# user outside the group (403); then a CI job's Conduktor API key, passed on
# unverified from the allowed network (200: the stand-in checks the key as
# Conduktor does) and refused where only another network may send keys (403);
# and the Conduktor CLI's "Basic client_id:secret", exchanged at a local
# TLS IdP's token endpoint for a token that passes (200).
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEP=0 APT=1 BUILD=1
for arg in "$@"; do
    case "$arg" in
        --keep) KEEP=1 ;;
        --no-apt) APT=0 ;;
        --no-build) BUILD=0 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "demo.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

APACHE=/usr/sbin/apache2
MODDIR=/usr/lib/apache2/modules
PY=/usr/bin/python3
ISSUER=https://idp.example.test/realms/platform
AUDIENCE=conduktor
REALM="Conduktor"

if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD="" PLAIN=""; fi
say()  { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }
info() { printf '   %s\n' "$*"; }
die()  { printf 'demo.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages and starts httpd as user nobody)"

# ---- 1. packages -----------------------------------------------------------
PACKAGES="apache2 apache2-dev libjansson-dev libcurl4-openssl-dev
          libhiredis-dev libmemcached-dev
          libssl-dev check autoconf automake libtool pkg-config
          python3 python3-jwcrypto python3-cryptography python3-requests curl"
if [ "$APT" = 1 ]; then
    say "Installing packages (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $PACKAGES
fi

# ---- 2. work directory and cleanup -----------------------------------------
WORK=${CKA_DEMO_DIR:-$(mktemp -d /tmp/cka-demo.XXXXXX)}
mkdir -p "$WORK"
chmod 755 "$WORK"         # httpd's children run as nobody
STUB_PID="" IDP_PID="" CLI_SECRET="" CIKEY=""
HTTPD_CONF="$WORK/httpd/httpd.conf"
HTTPD_PIDFILE="$WORK/httpd/run/httpd.pid"

stop_all() {
    if [ -f "$HTTPD_PIDFILE" ]; then
        local pid
        pid=$(cat "$HTTPD_PIDFILE")
        "$APACHE" -f "$HTTPD_CONF" -k stop 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    local p
    for p in "$STUB_PID" "$IDP_PID"; do
        [ -n "$p" ] || continue
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
}
cleanup() {
    local rc=$?
    if [ "$KEEP" = 1 ] && [ "$rc" = 0 ]; then
        return
    fi
    stop_all
    if [ "$rc" != 0 ]; then
        echo "demo.sh: failed (exit $rc); logs kept in $WORK" >&2
        [ -f "$WORK/httpd/logs/error_log" ] && tail -n 20 "$WORK/httpd/logs/error_log" >&2
    elif [ -z "${CKA_DEMO_DIR:-}" ]; then
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 3. build ----------------------------------------------------------------
MODULE=${CKA_MODULE:-$TOP/.libs/mod_conduktor_auth.so}
if [ "$BUILD" = 1 ] && [ -z "${CKA_MODULE:-}" ]; then
    say "Building the module (log: $WORK/build.log)"
    (
        cd "$TOP"
        if [ ! -f Makefile ] || [ configure.ac -nt Makefile ] || [ Makefile.am -nt Makefile ]; then
            autoreconf -fi
            ./configure
        fi
        make -j"$(nproc)"
    ) > "$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log" >&2; die "the build failed"; }
    info "built $MODULE"
fi
[ -f "$MODULE" ] || die "module not found at $MODULE (build it, or set CKA_MODULE)"

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- 4. keys and the Conduktor stand-in ------------------------------------
say "Generating demo signing keys"
"$PY" "$TOP/tests/tools/mint.py" keys "$WORK/keys" >/dev/null
info "JWKS: $WORK/keys/jwks.json"

say "Starting a local IdP over TLS (discovery, keys, a client-credentials token endpoint)"
CLI_ID=conduktor-cli
CLI_SECRET=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')
mkdir -p "$WORK/idp"
"$PY" "$TOP/tests/idp/idp_server.py" --dir "$WORK/idp" --client "$CLI_ID:$CLI_SECRET" \
    --audience "$AUDIENCE" > "$WORK/idp.out" 2>&1 &
IDP_PID=$!
for _ in $(seq 100); do grep -q "^listening on" "$WORK/idp.out" 2>/dev/null && break; sleep 0.1; done
grep -q "^listening on" "$WORK/idp.out" || die "the IdP did not start: $(cat "$WORK/idp.out")"
IDP_ISSUER=$(sed -n 's/.*(issuer \([^,]*\), CA .*/\1/p' "$WORK/idp.out")
IDP_CA=$(sed -n 's/.*, CA \(.*\))$/\1/p' "$WORK/idp.out")
chmod -R a+rX "$WORK/idp"
info "IdP:     $IDP_ISSUER (CA $IDP_CA)"

say "Starting the Conduktor stand-in (it re-validates every token, like Conduktor)"
"$PY" "$TOP/tests/backend/conduktor_stub.py" --port 0 \
    --jwks "$WORK/keys/jwks.json" --issuer "$ISSUER" --audience "$AUDIENCE" \
    --jwks "$WORK/idp/jwks.json" --issuer "$IDP_ISSUER" \
    --api-keys "$WORK/keys/api-keys.json" \
    --access-log "$WORK/backend-access.log" > "$WORK/stub.out" 2>&1 &
STUB_PID=$!
for _ in $(seq 100); do grep -q "^listening on" "$WORK/stub.out" 2>/dev/null && break; sleep 0.1; done
grep -q "^listening on" "$WORK/stub.out" || die "the stand-in did not start: $(cat "$WORK/stub.out")"
BACKEND_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/stub.out")
info "backend: http://127.0.0.1:$BACKEND_PORT"

# ---- 5. httpd with the module in front of it -------------------------------
say "Starting httpd with mod_conduktor_auth"
PORT=$(free_port)
mkdir -p "$WORK/httpd/logs" "$WORK/httpd/run"
chmod -R 755 "$WORK/httpd"
load() {
    # Modules compiled into apache2 must not be loaded again.
    local m
    for m in "$@"; do
        "$APACHE" -l | grep -q "mod_$m\.c" || echo "LoadModule ${m}_module $MODDIR/mod_$m.so"
    done
}
cat > "$HTTPD_CONF" <<EOF
# Generated by build/demo.sh
ServerRoot "$WORK/httpd"
DefaultRuntimeDir "$WORK/httpd/run"
PidFile "$HTTPD_PIDFILE"
Listen 127.0.0.1:$PORT
ServerName 127.0.0.1
User nobody
Group nogroup
$(load mpm_event unixd log_config authn_core authz_core authz_user authz_host \
       headers proxy proxy_http socache_shmcb)
LoadModule conduktor_auth_module $MODULE
ErrorLog "$WORK/httpd/logs/error_log"
LogLevel warn conduktor_auth:info
LogFormat "%h \"%r\" %>s user=%u kind=%{CONDUKTOR_AUTH_CREDENTIAL}e groups=\"%{CONDUKTOR_AUTH_GROUPS}e\" denied=%{CONDUKTOR_AUTH_ERROR}e" demo
CustomLog "$WORK/httpd/logs/access_log" demo

# Whose tokens we trust, and where their keys are: the demo keys, and the
# local IdP (discovery over TLS, its test CA).
ConduktorAuthIssuer $ISSUER file:$WORK/keys/jwks.json
ConduktorAuthIssuer $IDP_ISSUER
ConduktorAuthCAFile $IDP_CA

ProxyRequests Off
ProxyPass "/api/" "http://127.0.0.1:$BACKEND_PORT/api/"
ProxyPass "/ci-net-only/api/" "http://127.0.0.1:$BACKEND_PORT/api/"

<Location "/api/">
  AuthType conduktor-jwt
  AuthName "$REALM"
  ConduktorAuthAudience $AUDIENCE
  # Who the caller is, for the backend (forged copies are removed).
  ConduktorAuthIdentityHeader email X-Auth-Email
  ConduktorAuthIdentityHeader groups X-Auth-Groups
  # The Backstage frontend may call the API from the browser.
  ConduktorAuthCORSAllowOrigin https://backstage.example.test
  # Conduktor API keys (CI, CLI, Terraform) go to Conduktor unverified and
  # without identity, from the CI network only (here: this machine).
  ConduktorAuthOpaqueTokens pass
  # The Conduktor CLI's Basic client_id:secret, exchanged at the IdP.
  ConduktorAuthClientCredentials $IDP_ISSUER/protocol/openid-connect/token
  ConduktorAuthUserClaim email client_id
  <RequireAny>
    Require conduktor-group platform-team
    <RequireAll>
      Require conduktor-credential opaque
      Require ip 127.0.0.1
    </RequireAll>
    Require conduktor-credential client_credentials
  </RequireAny>
</Location>

# The same API where API keys may only come from another network.
<Location "/ci-net-only/api/">
  AuthType conduktor-jwt
  AuthName "$REALM"
  ConduktorAuthAudience $AUDIENCE
  ConduktorAuthOpaqueTokens pass
  <RequireAll>
    Require conduktor-credential opaque
    Require ip 10.20.0.0/16
  </RequireAll>
</Location>
EOF
"$APACHE" -t -f "$HTTPD_CONF" >/dev/null 2>&1 || { "$APACHE" -t -f "$HTTPD_CONF"; die "httpd.conf refused"; }
"$APACHE" -f "$HTTPD_CONF" -k start
for _ in $(seq 100); do
    [ -f "$HTTPD_PIDFILE" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
[ -f "$HTTPD_PIDFILE" ] || die "httpd did not start"
BASE="http://127.0.0.1:$PORT"
API="$BASE/api/public/console/v2/kafka-cluster"
info "httpd:   $BASE  (config: $HTTPD_CONF)"

# ---- 6. tokens ---------------------------------------------------------------
mint() { "$PY" "$TOP/tests/tools/mint.py" token "$WORK/keys" --iss "$ISSUER" --aud "$AUDIENCE" "$@"; }
ALICE=$(mint --email alice@example.test --sub alice --groups platform-team,developers)
BOB=$(mint --key ec --email bob@example.test --sub bob --groups marketing)
say "Freshly minted tokens (signed with the demo keys, valid 5 minutes)"
info "alice (groups platform-team, developers): ALICE=$ALICE"
info "bob   (group marketing):                  BOB=$BOB"
CIKEY=$("$PY" -c 'import json, sys; print(next(k for k, v in json.load(open(sys.argv[1])).items() if v["name"] == "ci-pipeline"))' "$WORK/keys/api-keys.json")
info "a CI job's Conduktor API key (the stand-in knows it): CIKEY=$CIKEY"

# ---- 7. calls ----------------------------------------------------------------
FAILED=0
shown() {  # the command line as one would type it, tokens as $ALICE / $BOB
    local a out="curl -s -i"
    for a in "$@"; do
        a=${a//$ALICE/\$ALICE}
        a=${a//$BOB/\$BOB}
        a=${a//"$CIKEY"/\$CIKEY}
        a=${a//"$CLI_SECRET"/\$CLI_SECRET}
        case "$a" in *[[:space:]]*) out+=" \"$a\"" ;; *) out+=" $a" ;; esac
    done
    printf '   $ %s\n' "$out"
}
call() {   # call TITLE EXPECTED_STATUS curl-args...
    local title=$1 want=$2
    shift 2
    say "$title"
    shown "$@"
    local out status
    out=$(curl -s -i "$@")
    status=$(printf '%s\n' "$out" | sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p')
    printf '%s\n' "$out" | sed -n '1p; /^[Ww][Ww][Ww]-[Aa]uthenticate:/p; /^[Aa]ccess-[Cc]ontrol-[Aa]llow-[Oo]rigin:/p' | sed 's/^/   < /'
    BODY=$(printf '%s\n' "$out" | sed '1,/^\r\{0,1\}$/d')
    if [ "$status" = "$want" ]; then
        info "-> $status, as expected"
    else
        info "-> $status, but $want was expected"
        FAILED=1
    fi
}

call "No token: refused at the edge" 401 "$API"
info "body: $BODY"

call "Alice, in platform-team: let through to Conduktor" 200 -H "Authorization: Bearer $ALICE" "$API"
printf '%s' "$BODY" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
e = d["echo"]
print("   clusters:         %s" % ", ".join(c["metadata"]["name"] for c in d["clusters"]))
print("   backend saw:      token %s, identity %s" % (e["token"], json.dumps(e["identity"])))
print("   identity headers: X-Auth-Email: %s, X-Auth-Groups: %s"
      % (e["headers"].get("x-auth-email"), e["headers"].get("x-auth-groups")))'

call "Alice trying to forge her identity header: removed at the edge" 200 \
    -H "Authorization: Bearer $ALICE" -H "X-Auth-Groups: kafka-admins" -H "X_Auth_Email: root@example.test" "$API"
printf '%s' "$BODY" | "$PY" -c '
import json, sys
e = json.load(sys.stdin)["echo"]
seen = [(k, v) for k, v in e["header_list"] if k.lower().replace("_", "-") in ("x-auth-groups", "x-auth-email")]
print("   backend saw only: %s" % seen)'

call "Bob, not in platform-team: authenticated, but not allowed" 403 -H "Authorization: Bearer $BOB" "$API"
info "body: $BODY"

call "A browser preflight from the Backstage frontend: answered at the edge" 204 -X OPTIONS \
    -H "Origin: https://backstage.example.test" -H "Access-Control-Request-Method: GET" \
    -H "Access-Control-Request-Headers: authorization" "$API"

call "A CI job's API key from the allowed network: passed on, checked by Conduktor" 200 \
    -H "Authorization: Bearer $CIKEY" "$API"
printf '%s' "$BODY" | "$PY" -c '
import json, sys
e = json.load(sys.stdin)["echo"]
print("   backend saw:      token %s, API key %s, user headers %s"
      % (e["token"], e["identity"]["api_key"],
         [k for k in e["headers"] if k in ("x-auth-email", "x-auth-groups")] or "none"))'
call "The same key where keys may only come from 10.20.0.0/16: refused at the edge" 403 \
    -H "Authorization: Bearer $CIKEY" "$BASE/ci-net-only/api/public/console/v2/kafka-cluster"
info "body: $BODY"
call "The Conduktor CLI's client credentials (Basic): exchanged at the IdP, the token passes" 200 \
    -u "$CLI_ID:$CLI_SECRET" "$API"
printf '%s' "$BODY" | "$PY" -c '
import json, sys
e = json.load(sys.stdin)["echo"]
print("   backend saw:      %s token of %s (the Basic secret never reaches it)"
      % (e["token"], e["identity"]["sub"]))'
say "httpd's access log (user, credential kind, groups, and why a request was denied)"
sleep 0.3
sed 's/^/   /' "$WORK/httpd/logs/access_log"
say "What reached the Conduktor stand-in"
sed 's/^/   /' "$WORK/backend-access.log"

if [ "$FAILED" != 0 ]; then
    die "some answers were not the expected ones (see above)"
fi

if [ "$KEEP" = 1 ]; then
    say "Still running (--keep)"
    info "try:   curl -i -H \"Authorization: Bearer \$($PY $TOP/tests/tools/mint.py token $WORK/keys --iss $ISSUER --groups platform-team)\" $API"
    info "stop:  $APACHE -f $HTTPD_CONF -k stop; kill $STUB_PID $IDP_PID; rm -rf $WORK"
else
    say "Done; stopping httpd and the stand-in"
fi
