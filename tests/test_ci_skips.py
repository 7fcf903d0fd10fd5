"""In CI a test that skips for a missing component fails the run; elsewhere it stays a skip."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

_SUITE_CONFTEST = Path(__file__).with_name("conftest.py")
_TESTS = """
import pytest

def test_needs_a_component():
    pytest.skip("frobnicator is not installed")

@pytest.mark.skipif(True, reason="needs Debian's frobnicator package")
def test_marked():
    pass

@pytest.mark.xfail(reason="known bug")
def test_expected_failure():
    assert False
"""


# In CI the skip in the test body fails; the skipif mark (evaluated at set-up) is an error. Both fail the run.
@pytest.mark.parametrize(("ci", "failed", "errors", "skipped"), [("true", 1, 1, 0), ("", 0, 0, 2)])
def test_skips_fail_only_in_ci(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    ci: str,
    failed: int,
    errors: int,
    skipped: int,
) -> None:
    monkeypatch.setenv("CI", ci)
    pytester.makeconftest(_SUITE_CONFTEST.read_text())
    pytester.makepyfile(_TESTS)
    result = pytester.runpytest()
    result.assert_outcomes(failed=failed, errors=errors, skipped=skipped, xfailed=1)
    assert result.ret == (1 if ci else 0)
    if failed:
        result.stdout.fnmatch_lines(["*skipped in CI*frobnicator is not installed*"])
