"""The Debian package: built from the `make dist` tarball by build/mkdeb.sh,
lintian clean, and - as root - installed on this machine and used the way
an administrator would:

    apt-get install ./libapache2-mod-conduktor-auth_*.deb
    a2enmod conduktor_auth            (pulls in socache_shmcb)
    a2enmod proxy_http; a2enconf/a2ensite the test's snippet and site
    apache2ctl configtest; apache2ctl start
    -> 401 without a token, 200 with one, 403 outside the group
    apache2ctl stop; apt-get purge libapache2-mod-conduktor-auth

The system apache listens on a free 127.0.0.1:18xxx port only: ports.conf's
`Listen 80` is commented out for the duration (and restored byte for
byte). The site is the packaged Keycloak example with a local JWKS file
standing in for the IdP and a loopback echo server standing in for
Conduktor. Afterwards everything the test or the package added is removed,
and the test checks that /etc/apache2, /var/lib/apache2 (a2enmod's state),
the module directory and apache's run and log directories are as they were
before; whatever differs is put back from a copy taken at the start.

Building and checking the package needs no root. The install test is
marked `root` (deselect with -m "not root") and skipped when not root, when
apache2 is not installed, when the system apache is running, or when the
package is already installed (it will not disturb a machine that uses
them).
"""
import glob
import hashlib
import os
import re
import shutil
import stat
import tarfile
import time

import pytest

import pkghelp
from pkghelp import PACKAGE, run

pytestmark = pytest.mark.skipif(not shutil.which("dpkg-buildpackage"),
                                reason="dpkg-dev is not installed")
not_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: installs "
                              "a package and drives the system apache")
no_apache = pytest.mark.skipif(not os.path.exists("/usr/sbin/a2enmod"),
                               reason="apache2 is not installed")

TOP = pkghelp.TOP
API = "/api/public/console/v2/kafka-cluster"
KC_ISS = "https://keycloak.example.com/realms/acme"
PIDFILE = "/var/run/apache2/apache2.pid"
PORTS_CONF = "/etc/apache2/ports.conf"
EXAMPLES = "/usr/share/doc/%s/examples" % PACKAGE
NAME = "cka-pkgtest"
# Watched for changes; restored from a copy when the test is done.
WATCHED = ["/etc/apache2", "/var/lib/apache2", "/usr/lib/apache2/modules",
           "/usr/share/doc/" + PACKAGE, "/usr/share/lintian/overrides/" + PACKAGE,
           "/run/apache2", "/var/lock/apache2"]
LOGDIR = "/var/log/apache2"
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")


# ---- building ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def deb(workdir, dist_tarball):
    """Build with build/mkdeb.sh (which runs lintian and fails on any error
    or warning); return the output directory and the .deb's path."""
    out = os.path.join(workdir, "deb")
    env = dict(os.environ)
    if "CKA_DEB_BUILD_OPTIONS" in os.environ:
        env["DEB_BUILD_OPTIONS"] = os.environ["CKA_DEB_BUILD_OPTIONS"]
    p = run(["sh", os.path.join(TOP, "build", "mkdeb.sh"), dist_tarball, out],
            timeout=1500, check=False, env=env)
    assert p.returncode == 0, "build/mkdeb.sh failed:\n" + p.stdout[-8000:]
    debs = glob.glob(os.path.join(out, "%s_*.deb" % PACKAGE))
    assert len(debs) == 1, os.listdir(out)
    return out, debs[0]


def deb_field(path, field):
    return run(["dpkg-deb", "-f", path, field]).stdout.strip()


def test_lintian_clean(deb):
    out, _ = deb
    with open(os.path.join(out, "lintian.txt")) as f:
        report = f.read()
    tags = [l for l in report.splitlines() if re.match(r"^[EW]: ", l)]
    assert not tags, report
    # Each override in use carries its reason (a comment before it).
    overridden = re.findall(r"^O: \S+(?: source)?: (\S+)", report, re.M)
    assert set(overridden) <= {"initial-upload-closes-no-bugs",
                               "debian-watch-file-is-missing", "no-homepage-field"}, report


def test_deb_contents(deb):
    _, path = deb
    listing = run(["dpkg-deb", "-c", path]).stdout
    for f in ["./usr/lib/apache2/modules/mod_conduktor_auth.so",
              "./etc/apache2/mods-available/conduktor_auth.load",
              "./etc/apache2/mods-available/conduktor_auth.conf",
              "./usr/share/doc/%s/copyright" % PACKAGE]:
        assert re.search(r"\s%s$" % re.escape(f), listing, re.M), (f, listing)
    for example in ["keycloak", "okta", "entra-id", "auth0", "cognito", "audit-log"]:
        assert "%s/%s.conf" % (EXAMPLES, example) in listing, example
    assert re.search(r"%s/grafana-dashboard\.json(\.gz)?$" % re.escape(EXAMPLES), listing, re.M), listing
    assert ".la\n" not in listing
    assert deb_field(path, "Package") == PACKAGE
    depends = deb_field(path, "Depends")
    # (no libcjose0: keys and signatures are on OpenSSL alone, and cjose is
    # no longer a build dependency either.)
    for dep in ("apache2-api-20120211", "libjansson4", "libssl3", "libcurl4"):
        assert dep in depends, depends
    tmp = os.path.join(os.path.dirname(path), "control")
    run(["dpkg-deb", "-e", path, tmp])
    with open(os.path.join(tmp, "conffiles")) as f:
        assert set(f.read().split()) == {"/etc/apache2/mods-available/conduktor_auth.load",
                                         "/etc/apache2/mods-available/conduktor_auth.conf"}
    # Installing enables nothing (the admin runs a2enmod) ...
    assert not os.path.exists(os.path.join(tmp, "postinst"))
    # ... removing disables the module, purging forgets it.
    with open(os.path.join(tmp, "prerm")) as f:
        assert "apache2_invoke dismod" in f.read()
    with open(os.path.join(tmp, "postrm")) as f:
        assert "apache2_invoke dismod" in f.read()


def test_source_package(deb):
    """The source package is the dist tarball plus debian/."""
    out, _ = deb
    dsc = glob.glob(os.path.join(out, "*.dsc"))
    assert len(dsc) == 1
    with open(dsc[0]) as f:
        text = f.read()
    assert "Format: 3.0 (quilt)" in text
    assert re.search(r"\.orig\.tar\.gz$", text, re.M)
    assert re.search(r"\.debian\.tar\.xz$", text, re.M)


# ---- the machine's state -------------------------------------------------------------
def state(roots=WATCHED):
    """path -> (kind, mode, content hash or link target) under roots."""
    out = {}

    def add(p):
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            out[p] = ("link", 0, os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            out[p] = ("dir", stat.S_IMODE(st.st_mode), st.st_uid)
        elif stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            out[p] = ("file", stat.S_IMODE(st.st_mode), digest)
        else:
            out[p] = ("other", stat.S_IMODE(st.st_mode), "")

    for root in roots:
        if not os.path.lexists(root):
            continue
        add(root)
        if os.path.isdir(root) and not os.path.islink(root):
            for dirpath, dirnames, filenames in os.walk(root):
                for name in dirnames + filenames:
                    add(os.path.join(dirpath, name))
    return out


def differences(before, after):
    lines = []
    for p in sorted(set(before) | set(after)):
        if p not in after:
            lines.append("missing:  " + p)
        elif p not in before:
            lines.append("added:    " + p)
        elif before[p] != after[p]:
            lines.append("changed:  %s %s -> %s" % (p, before[p][:2], after[p][:2]))
    return lines


class Machine:
    """What the test changes on the machine, and how to put it back."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.before = state()
        self.backup = os.path.join(workdir, "system-backup.tar")
        with tarfile.open(self.backup, "w") as tar:
            for root in WATCHED:
                if os.path.lexists(root):
                    tar.add(root)
        self.mods_before = set(os.listdir("/etc/apache2/mods-enabled"))
        self.logs_before = {}
        for name in os.listdir(LOGDIR):
            self.logs_before[name] = os.path.getsize(os.path.join(LOGDIR, name))
        self.ports_conf_backup = os.path.join(workdir, "ports.conf.orig")
        shutil.copy2(PORTS_CONF, self.ports_conf_backup)
        self.system_log = ""

    # -- apache ---------------------------------------------------------------------
    @staticmethod
    def apache_pid():
        try:
            with open(PIDFILE) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return pid if pkghelp.alive(pid) else None

    def stop_apache(self):
        pid = self.apache_pid()
        if pid is None:
            return
        run(["apache2ctl", "stop"], check=False, timeout=60)
        deadline = time.time() + 20
        while time.time() < deadline and pkghelp.alive(pid):
            time.sleep(0.1)
        if pkghelp.alive(pid):
            os.kill(pid, 9)

    # -- putting it back ----------------------------------------------------------
    def restore(self):
        """Stop apache, purge the package, drop our files, restore ports.conf,
        the logs and anything else that differs; return what differed
        before the copy was put back (empty when everything was clean)."""
        self.stop_apache()
        if installed():
            run(["apt-get", "purge", "-y", "-q", PACKAGE], check=False, timeout=300,
                env=APT_ENV)
        shutil.copy2(self.ports_conf_backup, PORTS_CONF)
        self.restore_logs()
        diff = differences(self.before, state())
        if diff:
            self.restore_from_backup()
        return diff

    def restore_logs(self):
        """Keep what the test's apache appended to the system logs (for the
        report) and cut the logs back to what they were."""
        text = []
        for name in sorted(os.listdir(LOGDIR)):
            path = os.path.join(LOGDIR, name)
            size = self.logs_before.get(name)
            with open(path, "rb") as f:
                f.seek(size or 0)
                added = f.read().decode("utf-8", "replace")
            if added:
                text.append("--- %s\n%s" % (path, added))
            if size is None:
                os.unlink(path)
            elif os.path.getsize(path) != size:
                os.truncate(path, size)
        self.system_log = "\n".join(text)

    def restore_from_backup(self):
        now = state()
        for p in sorted(set(now) - set(self.before), reverse=True):
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            elif os.path.lexists(p):
                os.unlink(p)
        changed = [p for p in self.before if now.get(p) != self.before[p]]
        with tarfile.open(self.backup) as tar:
            members = {"/" + m.name: m for m in tar.getmembers()}
            for p in sorted(changed):
                m = members.get(p)
                if m is None:
                    continue
                if os.path.lexists(p) and not os.path.isdir(p):
                    os.unlink(p)
                tar.extract(m, "/", set_attrs=True)


def installed():
    p = run(["dpkg-query", "-W", "-f", "${Status}", PACKAGE], check=False)
    return p.returncode == 0 and "installed" in p.stdout.split()[-1:]


# ---- install, enable, serve, purge ---------------------------------------------------------
@pytest.mark.root
@not_root
@no_apache
def test_install_enable_serve_purge(deb, workdir, keys):
    _, path = deb
    if installed():
        pytest.skip("%s is already installed here; not touching it" % PACKAGE)
    if Machine.apache_pid() is not None:
        pytest.skip("the system apache is running; not touching it")
    port = pkghelp.free_port(18000, 19000)
    backend = pkghelp.EchoBackend()
    machine = Machine(pkghelp.make_tempdir(os.path.join(workdir, "system-")))
    logs = pkghelp.make_tempdir(os.path.join(workdir, "site-logs-"))
    secrets = []
    try:
        # ---- install: nothing enabled yet -------------------------------------
        p = run(["apt-get", "install", "-y", "-q", "--no-install-recommends", path],
                timeout=600, env=APT_ENV)
        assert installed(), p.stdout
        for f in ["/usr/lib/apache2/modules/mod_conduktor_auth.so",
                  "/etc/apache2/mods-available/conduktor_auth.load",
                  "/etc/apache2/mods-available/conduktor_auth.conf",
                  EXAMPLES + "/keycloak.conf"]:
            assert os.path.exists(f), f
        assert not os.path.lexists("/etc/apache2/mods-enabled/conduktor_auth.load")

        # ---- a2enmod: the module and its dependency ---------------------------
        out = run(["a2enmod", "conduktor_auth"]).stdout
        for f in ("conduktor_auth.load", "conduktor_auth.conf", "socache_shmcb.load"):
            assert os.path.exists("/etc/apache2/mods-enabled/" + f), out
        assert run(["a2query", "-m", "conduktor_auth"], check=False).returncode == 0
        run(["a2enmod", "proxy_http"])

        # ---- a loopback port only, and a site from the packaged example -------
        with open(PORTS_CONF) as f:
            ports = f.read()
        with open(PORTS_CONF, "w") as f:
            f.write(re.sub(r"^(\s*Listen\b)", r"#\1", ports, flags=re.M))
        with open("/etc/apache2/conf-available/%s.conf" % NAME, "w") as f:
            f.write("# written by tests/packaging/test_deb.py; removed afterwards\n"
                    "Listen 127.0.0.1:%d\nServerName 127.0.0.1\n" % port)
        with open(EXAMPLES + "/keycloak.conf") as f:
            example = pkghelp.localize(f.read(), keys.jwks, backend.url)
        with open("/etc/apache2/sites-available/%s.conf" % NAME, "w") as f:
            f.write("# written by tests/packaging/test_deb.py; removed afterwards\n"
                    "<VirtualHost 127.0.0.1:%d>\n"
                    "    ServerName 127.0.0.1\n"
                    "    ErrorLog %s/error.log\n"
                    "    LogLevel info\n"
                    "    CustomLog %s/access.log \"%%h %%u %%>s %%{CONDUKTOR_AUTH_ERROR}e\"\n"
                    "%s\n"
                    "    <Location /conduktor-auth-status>\n"
                    "        SetHandler conduktor-auth-status\n"
                    "        Require ip 127.0.0.1\n"
                    "    </Location>\n"
                    "</VirtualHost>\n" % (port, logs, logs, example))
        run(["a2enconf", NAME])
        run(["a2ensite", NAME])
        p = run(["apache2ctl", "configtest"], check=False)
        assert p.returncode == 0 and "Syntax OK" in p.stdout, p.stdout

        # ---- start the system apache; 401, 200, 403 ----------------------------
        p = run(["apache2ctl", "start"], check=False, timeout=60)
        assert p.returncode == 0, p.stdout
        # (httpd listens first, then detaches and writes its pid file)
        deadline = time.time() + 20
        while time.time() < deadline and not (pkghelp.port_open(port)
                                              and machine.apache_pid()):
            time.sleep(0.1)
        assert pkghelp.port_open(port) and machine.apache_pid(), \
            "apache did not come up:\n" + pkghelp.Httpd.read(logs + "/error.log") \
            + pkghelp.Httpd.read(LOGDIR + "/error.log")

        status, headers, body = pkghelp.get(port, API)
        assert status == 401, body
        assert headers["www-authenticate"].startswith('Bearer realm="Conduktor"')

        now = int(time.time())
        claims = {"iss": KC_ISS, "aud": ["conduktor-api", "account"], "azp": "backstage",
                  "sub": "u-1", "email": "alice@example.com", "groups": ["/platform-team"],
                  "realm_access": {"roles": ["default-roles-acme"]},
                  "iat": now, "exp": now + 300}
        good = keys.token(claims=claims, key="rsa")
        other = keys.token(claims=dict(claims, groups=["/viewers"]), key="rsa")
        secrets += [good, other]
        status, _, body = pkghelp.get(port, API, token=good)
        assert status == 200, body
        seen = [s for s in backend.seen if s[1] == API]
        assert len(seen) == 1, backend.seen
        assert seen[0][2].get("Authorization") == "Bearer " + good
        status, _, body = pkghelp.get(port, API, token=other)
        assert status == 403, body
        status, _, body = pkghelp.get(port, "/conduktor-auth-status")
        assert status == 200 and b"conduktor" in body.lower(), body

        # ---- stop, purge, clean up ---------------------------------------------
        p = run(["apache2ctl", "stop"], check=False, timeout=60)
        assert p.returncode == 0, p.stdout
        deadline = time.time() + 20
        while time.time() < deadline and machine.apache_pid() is not None:
            time.sleep(0.1)
        assert machine.apache_pid() is None, "apache did not stop"

        run(["a2dissite", "-q", "-p", NAME])
        run(["a2disconf", "-q", "-p", NAME])
        os.unlink("/etc/apache2/sites-available/%s.conf" % NAME)
        os.unlink("/etc/apache2/conf-available/%s.conf" % NAME)
        p = run(["apt-get", "purge", "-y", "-q", PACKAGE], timeout=300, env=APT_ENV)
        assert not installed(), p.stdout
        for f in ["/usr/lib/apache2/modules/mod_conduktor_auth.so",
                  "/etc/apache2/mods-available/conduktor_auth.load",
                  "/etc/apache2/mods-available/conduktor_auth.conf",
                  "/etc/apache2/mods-enabled/conduktor_auth.load",
                  "/var/lib/apache2/module/enabled_by_admin/conduktor_auth",
                  "/usr/share/doc/" + PACKAGE]:
            assert not os.path.lexists(f), "left behind by the purge: " + f
        assert not glob.glob("/var/lib/dpkg/info/%s.*" % PACKAGE)
        # What the test itself enabled (the purge leaves dependencies alone,
        # as a2dismod does).
        for mod in ("proxy_http", "proxy", "socache_shmcb"):
            if mod + ".load" not in machine.mods_before:
                run(["a2dismod", "-q", "-f", "-p", mod])
        # a2enmod/a2dismod keep their state (enabled_by_admin, disabled_by_maint,
        # ...) in directories they create on first use; after -p they are empty.
        for p in sorted(set(state(["/var/lib/apache2"])) - set(machine.before), reverse=True):
            assert os.path.isdir(p) and not os.listdir(p), "left behind: " + p
            os.rmdir(p)
        # apache2ctl start creates its runtime directories (APACHE_RUN_DIR with
        # socks/, APACHE_LOCK_DIR) on a machine where apache never ran; after
        # the stop they hold no file. Put the machine back as it was.
        for root in ("/run/apache2", "/var/lock/apache2"):
            if root in machine.before or not os.path.isdir(root):
                continue
            for dirpath, _, filenames in os.walk(root):
                assert not filenames, "left behind in %s: %s" % (dirpath, filenames)
            shutil.rmtree(root)
        shutil.copy2(machine.ports_conf_backup, PORTS_CONF)
    finally:
        backend.stop()
        diff = machine.restore()
    site_log = pkghelp.Httpd.read(logs + "/error.log") + pkghelp.Httpd.read(logs + "/access.log")
    for secret in secrets:
        for piece in [secret] + secret.split("."):
            if len(piece) >= 16:
                assert piece not in site_log + machine.system_log, "token in a log"
    bad = [l for l in site_log.splitlines() + machine.system_log.splitlines()
           if re.search(r":(error|crit|alert|emerg)\]", l)
           and "AH01631" not in l]
    assert not bad, "\n".join(bad)
    assert not diff, "the machine was not left as found (now restored):\n" + "\n".join(diff)
