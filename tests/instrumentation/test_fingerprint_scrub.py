"""Error fingerprints group the same bug across processes; the scrubber redacts secrets and keeps the rest."""

from __future__ import annotations

from otel_ops.instrumentation._fingerprint import fingerprint, normalize_message
from otel_ops.instrumentation._scrub import REDACTED, Scrubber
from tests.instrumentation.conftest import run_python, service_env

FINGERPRINT_SCRIPT = """
from otel_ops.instrumentation._fingerprint import fingerprint

def load_user(user_id):
    raise KeyError(f"user {user_id} not found in shard 0x{user_id:04x}")

try:
    load_user(N)
except KeyError as exc:
    print(fingerprint(exc))
"""


def _fingerprint_in_new_process(n: int) -> str:
    return run_python(FINGERPRINT_SCRIPT.replace("N)", f"{n})"), service_env(None)).stdout.strip()


def test_same_bug_same_fingerprint_across_processes():
    first, second = _fingerprint_in_new_process(17), _fingerprint_in_new_process(90210)
    assert len(first) == 16
    assert first == second


def test_different_bugs_get_different_fingerprints():
    def a() -> None:
        raise ValueError("bad value 1")

    def b() -> None:
        raise ValueError("bad value 1")

    prints = []
    for func in (a, b):
        try:
            func()
        except ValueError as exc:
            prints.append(fingerprint(exc))
    try:
        raise TypeError("bad value 1")
    except TypeError as exc:
        prints.append(fingerprint(exc))
    assert len(set(prints)) == 3


def test_message_normalisation():
    message = (
        "GET https://api.x.com/v1/u/42 for bob@example.com id=550e8400-e29b-41d4-a716-446655440000 took 3.5s"
    )
    assert normalize_message(message) == "GET <url> for <email> id=<uuid> took <n>s"


def test_scrubber_redacts_known_secret_shapes():
    scrub = Scrubber()
    cases = {
        "key sk-ant-api03-abcdefghijklmnopqrstuv": "key " + REDACTED,
        "Authorization: Bearer eyJhbGciOi.eyJzdWIiOiIx.SflKxwRJSMeK": "Authorization: Bearer " + REDACTED,
        "postgres://app:hunter2@db:5432/app": "postgres://app:" + REDACTED + "@db:5432/app",
        "/login?user=bob&password=s3cr3t&next=/": "/login?user=bob&password=" + REDACTED + "&next=/",
        "aws AKIAIOSFODNN7EXAMPLE": "aws " + REDACTED,
        # credentials after "Bearer", "Basic" and "token", the keyword in any case
        "sent BEARER hdr-bearer-Qp84Lz3Xc9Vt6Wm2 upstream": "sent BEARER " + REDACTED + " upstream",
        "header bearer 7f3c9a1e5b2d8f4a6c0e9b3d7a1f5c8e": "header bearer " + REDACTED,
        "retry with Basic YWRtaW46UzNjcjN0LUJhc2ljLVB3ZA==": "retry with Basic " + REDACTED,
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx.SflKxwRJSMeKKF2QT4f": "Bearer " + REDACTED,
        "deploy-bot (token ghp_U5rAg3ntT0k3nQ9vL4nT7wZ1cF5hJ3pS6yB0)": "deploy-bot (token " + REDACTED + ")",
        "token Refresh-2xQ9vL4n": "token " + REDACTED,
        "Größe İ: Bearer hdr-bearer-Qp84Lz3Xc9Vt6Wm2.": "Größe İ: Bearer " + REDACTED,
        # not secrets: English after those words, and numbers
        "tokens used: 1500": "tokens used: 1500",
        "no API token configured (OTEL_OPS_API_TOKEN / _FILE): the sidecar API is open": (
            "no API token configured (OTEL_OPS_API_TOKEN / _FILE): the sidecar API is open"
        ),
        "token refreshed successfully": "token refreshed successfully",
        "No token provided": "No token provided",
        "No token provided.": "No token provided.",
        "uses basic authentication": "uses basic authentication",
        "Bearer Authentication is required": "Bearer Authentication is required",
        "the refresh token expired": "the refresh token expired",
        "the token was re-issued, token re-issued again": "the token was re-issued, token re-issued again",
        "TOKEN rejected, token configuración inválida": "TOKEN rejected, token configuración inválida",
    }
    for given, expected in cases.items():
        assert scrub.text(given) == expected, given


def test_a_cut_value_loses_a_token_start_left_at_its_end_and_nothing_else():
    scrub = Scrubber()
    cases = {
        "payload ghp_R8mK2xQ9vL4nT7wZ1cF5hJ3pS6y": "payload " + REDACTED,  # 27 of the token's 36 characters
        "q=1&t%3Dsk-proj-abc": "q=1&t%3D" + REDACTED,
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdW": "jwt " + REDACTED,
        "id AKIA12": "id " + REDACTED,
        "on the desk-": "on the desk-",  # a word that only contains a token's start
        "some words": "some words",
    }
    for given, expected in cases.items():
        assert scrub.cut_text(given) == expected, given
        assert scrub.text(given) == given  # whole values: too short for any token shape
    long = {"payload": "p" * 100 + " ghp_R8mK2xQ9", "count": 3, "tags": ("a", "x " + "y" * 105 + " ghp_R8")}
    assert scrub.attributes(long, cut_at=113) == {
        "payload": "p" * 100 + " " + REDACTED,
        "count": 3,
        "tags": ("a", "x " + "y" * 105 + " " + REDACTED),
    }
    assert scrub.attributes(long, cut_at=200) is None  # shorter than the limit: not cut


def test_scrubber_sensitive_names_and_user_patterns():
    scrub = Scrubber(extra_patterns=[r"ACME-\d{6}"], extra_keys=["x-acme-session"])
    attributes = {
        "http.request.header.authorization": "Basic Zm9vOmJhcg==",
        "db.password": "x",
        "gen_ai.usage.input_tokens": 10,
        "note": "ticket ACME-123456 opened",
        "http.request.header.x-acme-session": "abc",
    }
    clean = scrub.attributes(attributes)
    assert clean == {
        "http.request.header.authorization": REDACTED,
        "db.password": REDACTED,
        "gen_ai.usage.input_tokens": 10,
        "note": f"ticket {REDACTED} opened",
        "http.request.header.x-acme-session": REDACTED,
    }
    assert scrub.attributes({"gen_ai.request.model": "gpt-4o"}) is None
