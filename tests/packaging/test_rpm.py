"""The RPM spec (build/rpm/mod_conduktor_auth.spec): it parses with
`rpmspec -P` (with the httpd-devel macros given on the command line, and
without them through the spec's own fallbacks), `rpmbuild -bs` makes a
source RPM from the `make dist` tarball, and - as a smoke test of %build,
%install and %files on this Debian host - `rpmbuild -bb --nodeps` builds
the binary RPM with the expected file list.

The Debian package "rpm" provides rpmbuild/rpmspec; it is installed with
apt-get when missing (as root; otherwise the tests are skipped).
"""
import glob
import os
import re
import shutil

import pytest

import pkghelp
from pkghelp import run

TOP = pkghelp.TOP
SPEC = os.path.join(TOP, "build", "rpm", "mod_conduktor_auth.spec")
# What Fedora's macros.httpd defines (x86_64).
HTTPD_MACROS = {
    "_httpd_apxs": "/usr/bin/apxs",
    "_httpd_mmn": "20120211x8664",
    "_httpd_moddir": "/usr/lib64/httpd/modules",
    "_httpd_modconfdir": "/etc/httpd/conf.modules.d",
    "_httpd_confdir": "/etc/httpd/conf.d",
}


def defines(macros):
    out = []
    for name, value in macros.items():
        out += ["--define", "%s %s" % (name, value)]
    return out


@pytest.fixture(scope="module")
def rpm_tools():
    if not shutil.which("rpmbuild") or not shutil.which("rpmspec"):
        if os.geteuid() != 0:
            pytest.skip("rpmbuild/rpmspec missing and not root (apt-get install rpm)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "rpm"],
            timeout=600, env=env, check=False)
        if not shutil.which("rpmbuild"):
            run(["apt-get", "update", "-q"], timeout=600, env=env)
            run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "rpm"],
                timeout=600, env=env)
    return True


@pytest.fixture(scope="module")
def topdir(workdir, dist_tarball, rpm_tools):
    top = os.path.join(workdir, "rpmbuild")
    os.makedirs(os.path.join(top, "SOURCES"), exist_ok=True)
    shutil.copy2(dist_tarball, os.path.join(top, "SOURCES"))
    return top


def configure_ac_version():
    with open(os.path.join(TOP, "configure.ac")) as f:
        return re.search(r"AC_INIT\(\[[^]]*\],\s*\[([^]]+)\]", f.read()).group(1)


def spec_field(name):
    with open(SPEC) as f:
        return re.search(r"^%s:\s*(\S+)" % name, f.read(), re.M).group(1)


def test_versions_agree(dist_tarball):
    """configure.ac, the tarball, the spec and debian/changelog name the
    same upstream version."""
    version = configure_ac_version()
    assert os.path.basename(dist_tarball) == "mod_conduktor_auth-%s.tar.gz" % version
    assert spec_field("Version") == version
    with open(os.path.join(TOP, "build", "debian", "changelog")) as f:
        first = f.readline()
    assert re.match(r"^libapache2-mod-conduktor-auth \(%s-\d+\) " % re.escape(version),
                    first), first


def test_spec_parses_with_httpd_macros(rpm_tools):
    out = run(["rpmspec", "-P", SPEC] + defines(HTTPD_MACROS)).stdout
    assert "/usr/lib64/httpd/modules/mod_conduktor_auth.so" in out
    assert "/etc/httpd/conf.modules.d/10-conduktor_auth.conf" in out
    assert "/etc/httpd/conf.d/conduktor_auth.conf" in out
    assert re.search(r"^Requires:\s+httpd-mmn = 20120211x8664$", out, re.M)
    assert "--with-apxs=/usr/bin/apxs --with-moddir=/usr/lib64/httpd/modules" in out
    assert "LoadModule conduktor_auth_module modules/mod_conduktor_auth.so" in out


def test_spec_parses_without_httpd_macros(rpm_tools):
    """Where macros.httpd is missing (this Debian host) the fallbacks apply."""
    out = run(["rpmspec", "-P", SPEC]).stdout
    assert "%{_httpd" not in out
    assert re.search(r"/httpd/modules/mod_conduktor_auth\.so$", out, re.M)


def test_spec_build_requires(rpm_tools):
    out = run(["rpmspec", "-q", "--buildrequires", SPEC]).stdout
    names = {line.split()[0] for line in out.splitlines() if line.strip()}
    for dep in ("httpd-devel", "jansson-devel", "openssl-devel", "libcurl-devel"):
        assert dep in names, out
    assert "cjose-devel" not in names, out     # nothing calls cjose (README, Dependencies)
    out = run(["rpmspec", "-q", "--buildrequires", "--without", "check", SPEC]).stdout
    assert "check-devel" not in out


def test_source_rpm(topdir):
    version = configure_ac_version()
    run(["rpmbuild", "-bs", "--nodeps", "--define", "_topdir " + topdir, SPEC],
        timeout=300)
    srpms = glob.glob(os.path.join(topdir, "SRPMS", "*.src.rpm"))
    assert [os.path.basename(s) for s in srpms] == \
        ["mod_conduktor_auth-%s-1.src.rpm" % version]
    files = run(["rpm", "-qpl", srpms[0]]).stdout.split()
    assert sorted(files) == ["mod_conduktor_auth-%s.tar.gz" % version,
                             "mod_conduktor_auth.spec"]
    info = run(["rpm", "-qp", "--qf", "%{NAME} %{VERSION} %{RELEASE}", srpms[0]]).stdout
    assert info.strip() == "mod_conduktor_auth %s 1" % version


def test_binary_rpm_smoke(topdir):
    """%build, %install and %files against the real tarball, on this host
    (Debian's apxs and pkg-config stand in for httpd-devel and friends;
    %check is the `make check` that the Debian build runs too)."""
    p = run(["rpmbuild", "-bb", "--nodeps", "--without", "check",
             "--define", "_topdir " + topdir] + defines(HTTPD_MACROS) + [SPEC],
            timeout=900, check=False)
    assert p.returncode == 0, p.stdout[-6000:]
    rpms = glob.glob(os.path.join(topdir, "RPMS", "*", "mod_conduktor_auth-*.rpm"))
    rpms = [r for r in rpms if "debug" not in os.path.basename(r)]
    assert len(rpms) == 1, rpms
    files = set(run(["rpm", "-qpl", rpms[0]]).stdout.split())
    for f in ["/usr/lib64/httpd/modules/mod_conduktor_auth.so",
              "/etc/httpd/conf.modules.d/10-conduktor_auth.conf",
              "/etc/httpd/conf.d/conduktor_auth.conf"]:
        assert f in files, sorted(files)
    assert not [f for f in files if f.endswith(".la")]
    for example in ("keycloak", "okta", "entra-id", "auth0", "cognito", "audit-log"):
        assert any(f.endswith("/%s.conf" % example) and "/doc/" in f for f in files), example
    assert any(f.endswith("/grafana-dashboard.json") and "/doc/" in f for f in files), files
    configs = set(run(["rpm", "-qpc", rpms[0]]).stdout.split())
    assert configs == {"/etc/httpd/conf.modules.d/10-conduktor_auth.conf",
                       "/etc/httpd/conf.d/conduktor_auth.conf"}
