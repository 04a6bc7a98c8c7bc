"""Fixtures for the packaging tests (tests/packaging).

    /usr/bin/python3 -m pytest -q tests/packaging

test_examples.py  conf/ examples: apache2 -t, and served by a private httpd
test_rpm.py       rpmbuild -bs from the `make dist` tarball, rpmspec -P
test_deb.py       builds the .deb, lintian, installs it on this machine,
                  a2enmod, starts the system apache on a loopback port,
                  401/200, purges it; root only (skipped otherwise)

The `make dist` tarball is built once per session from a copy of the source
tree (the tree itself is not touched); set CKA_DIST_TARBALL to use one made
already (`make dist`, or `make check-packaging` does that). CKA_KEEP_TMP=1
keeps the temporary directories.
"""
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pkghelp  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "root: needs root (installs a package, drives the system apache)")


@pytest.fixture(scope="session")
def workdir():
    path = pkghelp.make_tempdir("/tmp/cka-pkg-")
    yield path
    if not os.environ.get("CKA_KEEP_TMP"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def keys(workdir):
    return pkghelp.mint.make_keys(os.path.join(workdir, "keys"))


@pytest.fixture(scope="session")
def dist_tarball(workdir):
    """The `make dist` tarball (CKA_DIST_TARBALL, or built from a copy)."""
    given = os.environ.get("CKA_DIST_TARBALL")
    if given:
        if not os.path.isfile(given):
            pytest.fail("CKA_DIST_TARBALL=%s: no such file" % given)
        return os.path.abspath(given)
    return pkghelp.make_dist(os.path.join(workdir, "dist"))
