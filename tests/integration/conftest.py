"""Fixtures: test keys, the Conduktor stand-in, and httpd instances.

    def test_x(httpd):
        h = httpd(protect("ConduktorAuthForwardToken Off"))
        r = h.get(token=h.mint(groups=["a"]))

`httpd(location, server=, global_=, issuers=, log_env=, expect_log=,
mpm=, htdocs=)` writes a whole httpd.conf (see harness.Httpd and
harness.CONF), starts it and returns a harness.Httpd. After the test it is stopped, and the test fails when its
error log holds a [warn]/[error] line the test did not declare with
expect_log=, or any piece of a token it sent.
Set CKA_KEEP_TMP=1 to keep the generated directories for a look.
"""
import os
import shutil

import pytest

import harness
from harness import AUDIENCE, ISSUER

ISSUER2 = "https://login.example.test/tenant-b/v2.0"
PEM_ISSUER = "https://pem.example.test"
OTHER_AUDIENCE = "api://other"


@pytest.fixture(scope="session")
def workdir():
    path = harness.make_tempdir("/tmp/cka-it-")
    yield path
    if not os.environ.get("CKA_KEEP_TMP"):
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def keys(workdir):
    return harness.mint.make_keys(os.path.join(workdir, "keys"))


@pytest.fixture(scope="session")
def backend(workdir, keys):
    b = harness.Backend(workdir, keys, [ISSUER, ISSUER2, PEM_ISSUER],
                        [AUDIENCE, OTHER_AUDIENCE])
    yield b
    b.stop()


@pytest.fixture(scope="session")
def module_path():
    if not os.path.exists(harness.MODULE):
        pytest.fail("module not built: %s (run `autoreconf -fi && ./configure"
                    " && make`, or set CKA_MODULE)" % harness.MODULE)
    return harness.MODULE


def _httpd_factory(node, workdir, keys, backend, module_path):
    started = []

    def factory(location="", **kw):
        h = harness.Httpd(workdir, keys, backend, location=location,
                          module=module_path, **kw)
        started.append(h)
        return h.start()

    node.cka_httpds = started
    yield factory
    for h in started:            # stop them all at once: each takes ~1.5 s
        h.stop(wait=False)
    problems = []
    for h in started:
        h.wait_stopped()
        problems += h.log_problems()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def httpd(request, workdir, keys, backend, module_path):
    """httpd(location, **kw): a started harness.Httpd for this test."""
    yield from _httpd_factory(request.node, workdir, keys, backend, module_path)


@pytest.fixture(scope="module")
def shared_httpd(request, workdir, keys, backend, module_path):
    """Like httpd, for one server shared by the tests of a module (its
    log checks run when the module's tests are done)."""
    yield from _httpd_factory(request.node, workdir, keys, backend, module_path)


@pytest.fixture
def apachectl_t(workdir, keys, backend, module_path):
    """apachectl_t(location, **kw) -> (rc, output) of `apache2 -t`."""
    def check(location="", **kw):
        h = harness.Httpd(workdir, keys, backend, location=location,
                          module=module_path, **kw)
        return h.check_config()
    return check


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the error log of a failing test's httpd to its report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and call.when == "call":
        httpds = getattr(item, "cka_httpds", []) + \
            getattr(item.getparent(pytest.Module), "cka_httpds", [])
        for h in httpds:
            tail = h.read_error_log().splitlines()[-40:]
            rep.sections.append(("httpd error_log (%s)" % h.root, "\n".join(tail)))
