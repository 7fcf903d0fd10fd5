"""Seeded secrets: credentials of the shapes services leak, each in the text it usually comes in.

Each :class:`Secret` has the ``value`` that must never leave the process and the ``text`` it is embedded
in (a log line, a URL, a header, a config fragment). The values are made up but shaped like the real thing,
so they exercise the same scrubbing rules. :data:`QUERY_SECRETS` and :data:`HEADER_SECRETS` arrive in
requests instead of being written by the app.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Secret:
    kind: str
    value: str  # what must not appear anywhere
    text: str  # how it appears in the app's data

    def __post_init__(self) -> None:
        assert self.value in self.text, self.kind


_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJ1c2VyLTQyIiwic2NvcGUiOiJhZG1pbiIsImlhdCI6MTcwMDAwMDAwMH0"
    ".Qk3vYw7Zr2Lm9Np4Xc6Tb1Hd8Fg0Js5Kq3Wa7Ue2Io"
)
_PEM_BODY = "MIIEowIBAAKCAQEAz8Qm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Ks4Xa8Ue6Io3Pq7Wm1Tz9Rc5Nb2Gh4Jf8Lk0"


def _secret(kind: str, value: str, text: str | None = None) -> Secret:
    return Secret(kind, value, text if text is not None else value)


SECRETS: tuple[Secret, ...] = (
    _secret("openai project key", "sk-proj-T3x8Qm2LpZ7vN4kR9wY1cB6dF0gH5jK3sA8eU2iO7tP4qW9zX1"),
    _secret("openai key", "sk-Jx4Lp9Qm2Rz7Vn3Kw8Yb1Cd6Fg0Hj5KsT3BlbkFJa8Xq2Wm"),
    _secret(
        "anthropic key",
        "sk-ant-api03-Zq8_Xw2-Lm4Np6Rt0Vy3Bc5Df7Gh9Jk1Ms2Qu4We6Ry8Ti0Op3As5Dg7Fj9Hl1Zx3Cv5Bn7Mq9Wr2Et4-AA",
    ),
    _secret("openrouter key", "sk-or-v1-4f9d2c7b1a8e6f3d0c5b9a7e2f4d1c8b6a3e0f9d7c2b5a8e1f4d6c9b3a7e"),
    _secret("stripe secret key", "sk_live_51Hx8Qm2Lp9Zr7Vn3Kw5Yb1CdTq"),
    _secret("jwt", _JWT, f"session token {_JWT} expired"),
    _secret(
        "bearer token",
        "7f3c9a1e5b2d8f4a6c0e9b3d7a1f5c8e",
        "Authorization: Bearer 7f3c9a1e5b2d8f4a6c0e9b3d7a1f5c8e",
    ),
    _secret(
        "basic credentials",
        "YWRtaW46UzNjcjN0LUJhc2ljLVB3ZA==",
        "Authorization: Basic YWRtaW46UzNjcjN0LUJhc2ljLVB3ZA==",
    ),
    _secret(
        "postgres password", "PgPassw0rd!9Xk2", "could not connect to postgresql://app:PgPassw0rd!9Xk2@db/app"
    ),
    _secret(
        "https password",
        "Gh-Deploy-Pass-4471",
        "git fetch https://deploy:Gh-Deploy-Pass-4471@git.example.com/r.git",
    ),
    _secret("redis password", "Rd-Pass-5530", "redis://:Rd-Pass-5530@cache:6379/0"),
    _secret("aws access key id", "AKIAZ3MPLE7Q4XKD9W2B", "using AWS key AKIAZ3MPLE7Q4XKD9W2B"),
    _secret(
        "aws secret key",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8Lm3Np5R",
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8Lm3Np5R",
    ),
    _secret(
        "aws secret key in json",
        "Hk2Lp9Qm4Rz7Vn3Kw8Yb1Cd6Fg0Hj5Ks+Tq3Wa7Ue",
        '{"AccessKeyId": "ASIAZ3MPLE7Q4XKD9W2C", '
        '"SecretAccessKey": "Hk2Lp9Qm4Rz7Vn3Kw8Yb1Cd6Fg0Hj5Ks+Tq3Wa7Ue"}',
    ),
    _secret("aws session key id", "ASIAZ3MPLE7Q4XKD9W2C", '{"AccessKeyId": "ASIAZ3MPLE7Q4XKD9W2C"}'),
    _secret("github token", "ghp_R8mK2xQ9vL4nT7wZ1cF5hJ3pS6yB0dG8aE2u"),
    _secret(
        "github fine-grained token",
        "github_pat_11ABCDEFG0Qm2Lp9Zr7Vn3_Kw5Yb1Cd6Fg0Hj2Ks4Xa8Ue6Io3Pq7Wm1Tz9Rc5Nb2Gh4Jf8Lk0Xy2Zw4Vu6",
    ),
    _secret("slack bot token", "xoxb-2749183746-5839201746358-Qw3Er5Ty7Ui9Op1As3Df5Gh7"),
    _secret(
        "slack webhook",
        "Xy7Zq3Wv9Ut5Sr1Pq8No6Ml4",
        "posting to https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/Xy7Zq3Wv9Ut5Sr1Pq8No6Ml4",
    ),
    _secret("google api key", "AIzaSyD4x8Qm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Kq"),
    _secret("google oauth token", "ya29.a0AfB_byC4x8Qm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2KsTq3Wa7Ue2Io"),
    _secret("hugging face token", "hf_Qm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2KsTqWaUe"),
    _secret(
        "private key",
        _PEM_BODY,
        f"-----BEGIN RSA PRIVATE KEY-----\n{_PEM_BODY}\n-----END RSA PRIVATE KEY-----",
    ),
    _secret(
        "escaped private key",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Qm2Lp9Zr7Vn3",
        '{"private_key": "-----BEGIN PRIVATE KEY-----'
        "\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7Qm2Lp9Zr7Vn3"
        '\\n-----END PRIVATE KEY-----\\n"}',
    ),
    _secret(
        "azure storage account key",
        "Qm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Ks4Xa8Ue6Io3Pq7Wm1Tz9Rc5Nb2Gh4Jf8Lk0Xy2Zw4Vu6Tq3Wa7Ue2Io9Pq==",
        "DefaultEndpointsProtocol=https;AccountName=acct;"
        "AccountKey=Qm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Ks4Xa8Ue6Io3Pq7Wm1Tz9Rc5Nb2Gh4Jf8Lk0Xy2Zw4Vu6Tq3Wa7Ue2Io9Pq==;"
        "EndpointSuffix=core.windows.net",
    ),
    _secret("gitlab token", "glpat-Qm2Lp9Zr7Vn3Kw5Yb1Cd"),
    _secret("groq key", "gsk_Qm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Ks4Xa8Ue6Io3Pq7Wm1Tz9Rc5Nb"),
    _secret("pypi token", "pypi-AgEIcHlwaS5vcmcCJDQm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Ks4Xa8Ue6Io3Pq7Wm1Tz9"),
    _secret("npm token", "npm_Qm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Ks4Xa8Ue"),
    _secret("stripe webhook secret", "whsec_Qm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Ks4Xa8"),
    _secret("connection string password", "Cs-Pass-8812", "Server=db;User Id=app;Password=Cs-Pass-8812;"),
    _secret(
        "password query parameter", "qp-Passw0rd-Vb93", "/login?user=bob&password=qp-Passw0rd-Vb93&next=/"
    ),
    _secret("token query parameter", "qp-token-Zx81Lm40Qw", "/feed?token=qp-token-Zx81Lm40Qw"),
    _secret("api_key query parameter", "qp-apikey-Rt55Kn2Pz", "/v1/search?q=x&api_key=qp-apikey-Rt55Kn2Pz"),
    _secret(
        "presigned url signature",
        "4f9d2c7b1a8e6f3d0c5b9a7e2f4d1c8b6a3e0f9d7c2b5a8e1f4d6c9b3a7e0f2d",
        "https://bucket.s3.amazonaws.com/k?X-Amz-Expires=60"
        "&X-Amz-Signature=4f9d2c7b1a8e6f3d0c5b9a7e2f4d1c8b6a3e0f9d7c2b5a8e1f4d6c9b3a7e0f2d",
    ),
    _secret(
        "sas signature",
        "Kq3Wa7Ue2Io9Pq7Wm1Tz9Rc5Nb2Gh4Jf8Lk0%3D",
        "https://acct.blob.core.windows.net/c/b?sv=2024-01-01&sp=r&sig=Kq3Wa7Ue2Io9Pq7Wm1Tz9Rc5Nb2Gh4Jf8Lk0%3D",
    ),
    _secret(
        "api key in json", "json-apikey-Lq73Zr9Wd", '{"api_key": "json-apikey-Lq73Zr9Wd", "model": "gpt-4o"}'
    ),
    _secret("client secret", "cs-Vm41Lp8Qa2Zx", "client_secret: cs-Vm41Lp8Qa2Zx"),
    _secret("cookie session", "sess-Zq82Lm4Xw7Kp1Rt", "Cookie: theme=dark; sessionid=sess-Zq82Lm4Xw7Kp1Rt"),
    _secret(
        "token in a sentence",
        "tk-Rv63Lm8Qw2Zx5Np",
        "no token refreshed; retrying with token tk-Rv63Lm8Qw2Zx5Np",
    ),
    _secret("upper-case bearer", "Up5tr3am-Bearer-Kx29Wq", "upstream rejected BEARER Up5tr3am-Bearer-Kx29Wq"),
)

# Sent by the test client in the request's query string: (parameter, value).
QUERY_SECRETS: tuple[tuple[str, str], ...] = (
    ("api_key", "qs-apikey-Hn26Wq8Lz"),
    ("token", "qs-token-Mx93Kd7Pv"),
    ("access_token", "qs-access-Ty62Tc7Bn"),
    ("password", "qs-Passw0rd-Jw51"),
    ("client_secret", "qs-clientsecret-Ud48Rz"),
    ("key", "AIzaSyQs8Qm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Zzq"),
    ("refresh_token", "qs-refresh-Gb74Xs1Qe"),
    # percent-encoded by the client: "...%3Faccess_token%3Dqs-encoded-...", "...%3Dghp_..."
    ("redirect", "https://app.example.com/cb?access_token=qs-encoded-Yt83Nq4Lm"),
    ("next", "/settings?github=ghp_Enc0dedQm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Ks4Xa"),
)

# Sent by the test client as request headers: (header, value, secret part).
HEADER_SECRETS: tuple[tuple[str, str, str], ...] = (
    ("authorization", "Bearer hdr-bearer-Qp84Lz3Xc9Vt6Wm2", "hdr-bearer-Qp84Lz3Xc9Vt6Wm2"),
    ("x-api-key", "hdr-apikey-Pn47Wz2Qx8", "hdr-apikey-Pn47Wz2Qx8"),
    ("cookie", "theme=dark; session=hdr-session-Kc59Tr3Vd", "hdr-session-Kc59Tr3Vd"),
    (
        "user-agent",
        "deploy-bot/2.1 (+ci; token ghp_U5rAg3ntT0k3nQ9vL4nT7wZ1cF5hJ3pS6yB0)",
        "ghp_U5rAg3ntT0k3nQ9vL4nT7wZ1cF5hJ3pS6yB0",
    ),
    ("referer", "https://app.example.com/cb?code=x&access_token=hdr-referer-Wd37Gk1", "hdr-referer-Wd37Gk1"),
)


# Written into the test app's source, on the line that raises: it reaches only stack traces.
HARDCODED_KEY = "sk-proj-HardC0dedQm2Lp9Zr7Vn3Kw5Yb1Cd6Fg0Hj2Ks4Xa8Ue"


def _secret_part(value: str) -> str:
    return value.rpartition("=")[2]


def secret_values() -> list[str]:
    """Every value that must not leave the process."""
    return [
        HARDCODED_KEY,
        *(s.value for s in SECRETS),
        *(_secret_part(value) for _, value in QUERY_SECRETS),
        *(secret for _, _, secret in HEADER_SECRETS),
    ]


def leaks(data: bytes | str, values: Iterable[str] | None = None) -> list[str]:
    """The secret values found in ``data``."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [value for value in (values if values is not None else secret_values()) if value in text]
