"""The README is the manual: every directive the module registers is
documented there, and the README names no directive the module lacks."""
import os
import re

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def code_directives():
    src = read("src/httpd/directives.c")
    return set(re.findall(r'AP_INIT_[A-Z0-9_]+\(\s*"(ConduktorAuth[A-Za-z]+)"', src))


def readme_directives():
    return set(re.findall(r"\b(ConduktorAuth[A-Za-z]+)\b", read("README.md")))


def test_code_registers_directives():
    # Guard the regex itself: the SPEC's directives are there.
    assert {"ConduktorAuthIssuer", "ConduktorAuthAudience",
            "ConduktorAuthCORSAllowOrigin", "ConduktorAuthCache"} <= code_directives()


def test_every_directive_is_documented():
    missing = code_directives() - readme_directives()
    assert not missing, "directives missing from README.md: %s" % sorted(missing)


def test_readme_names_no_unknown_directive():
    unknown = readme_directives() - code_directives()
    assert not unknown, "README.md names directives the module lacks: %s" % sorted(unknown)


def test_every_directive_has_a_table_row():
    # Each directive appears as the first cell of a reference table row.
    rows = set(re.findall(r"^\| `(ConduktorAuth[A-Za-z]+)", read("README.md"), re.M))
    missing = code_directives() - rows
    assert not missing, "no reference-table row for: %s" % sorted(missing)
