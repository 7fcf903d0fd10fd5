"""Secret scrubbing: redact API keys, tokens, passwords and credentials before anything is exported.

One :class:`Scrubber` serves every text otel-ops exports or prints: log messages, log attributes, exception
type, message and stack trace (JSON and text lines, OTLP log records), span and span event names, span
attributes, span event attributes (``exception.message``, ``exception.stacktrace``) and span status
descriptions. Two rules:

* a value under a sensitive *name* (``authorization``, ``password``, ``api_key``, ``cookie``, ...) is
  replaced whole, at any depth of a nested attribute value;
* a secret-looking *substring* of any string (``sk-...``, ``Bearer ...``, JWTs, cloud and provider keys,
  ``password=...`` pairs, passwords in URLs, webhook URLs) is replaced, keeping the text around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[REDACTED]"

_SENSITIVE_NAME = (
    r"(?:^|[._-])(?:password|passwd|pwd|secret|client[_-]?secret|authorization|proxy[_-]authorization|"
    r"auth[_-]?token|access[_-]?token|refresh[_-]?token|id[_-]?token|token|api[_-]?key|x[_-]api[_-]key|"
    r"cookie|set[_-]cookie|private[_-]?key|session[_-]?id|credentials?)(?:$|[._-])"
)

# Names ending a ``name=value`` / ``"name": "value"`` pair whose value is a secret (``aws_secret_access_key``,
# ``refresh_token``, ``X-Amz-Signature``, ``AccountKey``, ``sessionid``, ...).
_SECRET_PAIR_NAMES = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|private[_-]?key|"
    r"account[_-]?key|signing[_-]?key|master[_-]?key|credentials?|auth|session(?:[_-]?(?:id|key))?|"
    r"sig|signature"
)
# Provider key and token shapes, recognisable without context.
_TOKEN_SHAPES = (
    r"(?:sk|pk|rk)-(?:[A-Za-z]+-)?[A-Za-z0-9_\-]{16,}",  # OpenAI, Anthropic, OpenRouter, ...
    r"(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{10,}",  # Stripe
    r"whsec_[0-9A-Za-z]{20,}",
    r"(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
    r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub
    r"github_pat_[A-Za-z0-9_]{30,}",
    r"glpat-[0-9A-Za-z_\-]{20,}",  # GitLab
    r"xox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack
    r"AIza[0-9A-Za-z_\-]{35}",  # Google API keys
    r"ya29\.[0-9A-Za-z_\-]{20,}",  # Google OAuth access tokens
    r"hf_[0-9A-Za-z]{30,}",  # Hugging Face
    r"gsk_[0-9A-Za-z]{20,}",  # Groq
    r"xai-[0-9A-Za-z]{20,}",
    r"npm_[0-9A-Za-z]{30,}",
    r"pypi-AgE[0-9A-Za-z_\-]{30,}",
    r"eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}",  # JWTs
)

# The starts of those shapes. A value that a length limit cut (the SDK cuts span attributes as they are set,
# before anything can scrub them) can end inside a token, too short for its shape but most of the secret.
_TOKEN_STARTS = (
    r"(?:sk|pk|rk)[-_]",
    "whsec_",
    "AKIA",
    "ASIA",
    "gh[pousr]_",
    "github_pat_",
    "glpat-",
    "xox[abprs]-",
    "AIza",
    r"ya29\.",
    "hf_",
    "gsk_",
    "xai-",
    "npm_",
    "pypi-",
    "eyJ",
)
_TOKEN_START_AT_END = re.compile(
    r"(?:\b|(?<=%[0-9A-Fa-f]{2}))(?:" + "|".join(_TOKEN_STARTS) + r")[A-Za-z0-9_\-.]*\Z"
)

# A character of the credential after "Bearer", "Basic" or "token"; and a plain word (letters, lower case
# after an optional capital, parts joined by hyphens, full stops after it), which is English there, not a
# credential: "token refreshed successfully", "uses basic authentication", "No token provided.".
_AUTH_VALUE_CHAR = r"[A-Za-z0-9._~+/=\-]"
_PLAIN_WORD = r"[A-Za-z][a-z]*(?:-[a-z]+)*\.*(?!" + _AUTH_VALUE_CHAR + ")"

# Rules, applied in order: (pattern, group kept before the redaction, text put in place of the rest, whether
# the pattern, written in lower case, is matched case-insensitively). Keeping the non-secret prefix keeps the
# text readable.
_Spec = tuple[str, int, str, bool]
_DEFAULT_RULES: tuple[_Spec, ...] = (
    (r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", 0, REDACTED, False),
    # at a word boundary, or right after a percent-encoded character ("...%3Dghp_..." in an encoded URL)
    (r"(?:\b|(?<=%[0-9A-Fa-f]{2}))(?:" + "|".join(_TOKEN_SHAPES) + ")", 0, REDACTED, False),
    # matched against the text as written, since case tells a token from a word; the keyword in any case of
    # its ASCII letters (so the lower-cased text holds its trigger); "(?=[BbTt])" skips most places fast
    (
        r"(?=[BbTt])\b((?ai:bearer|basic|token))\s+(?!" + _PLAIN_WORD + ")" + _AUTH_VALUE_CHAR + "{8,}",
        1,
        " " + REDACTED,
        False,
    ),
    # a header's whole value: "Authorization: Digest ...", "Cookie: a=1; sessionid=..."
    (
        r"\b((?:proxy[_-])?authorization[\"']?\s*[=:]\s*[\"']?(?:[a-z]+\s+)?"
        r"|(?:set[_-])?cookie[\"']?\s*[=:]\s*[\"']?)[^\"'\r\n]+",
        1,
        REDACTED,
        True,
    ),
    (
        r"((?:" + _SECRET_PAIR_NAMES + r")[\"']?\s*(?:[=:]|%3d|%3a)\s*[\"']?)[^\s&\"',;]+",
        1,
        REDACTED,
        True,
    ),
    (r"(://[^/\s:@]*:)[^@\s/]+@", 1, REDACTED + "@", False),  # passwords in URLs
    (r"(hooks\.slack\.com/services/[^\s\"'/]+/[^\s\"'/]+/)[^\s\"'/?#&]+", 1, REDACTED, True),
    (r"(discord(?:app)?\.com/api/webhooks/\d+/)[^\s\"'/?#&]+", 1, REDACTED, True),
)


class _Rule:
    """One redaction rule. Case-insensitive rules (written in lower case) are matched against the lower-cased
    text, which Python's regular expressions scan many times faster than with ``re.IGNORECASE``; the match
    positions then apply to the original text."""

    __slots__ = ("folded", "ignorecase", "insert", "keep", "pattern")

    def __init__(self, pattern: str, keep: int, insert: str, folded: bool) -> None:
        self.pattern = re.compile(pattern)
        self.ignorecase = re.compile(pattern, re.IGNORECASE) if folded else self.pattern
        self.keep = keep
        self.insert = insert
        self.folded = folded

    def apply(self, text: str, lowered: str) -> str | None:
        """``text`` redacted, or None when the rule did not match."""
        if not self.folded:
            haystack, pattern = text, self.pattern
        elif len(lowered) == len(text):
            haystack, pattern = lowered, self.pattern
        else:  # lower-casing changed the length (some non-ASCII letters): positions would not line up
            haystack, pattern = text, self.ignorecase
        pieces: list[str] = []
        last = 0
        keep = self.keep
        for match in pattern.finditer(haystack):
            pieces.append(text[last : match.start()])
            if keep:
                pieces.append(text[match.start(keep) : match.end(keep)])
            pieces.append(self.insert)
            last = match.end()
        if not pieces:
            return None
        pieces.append(text[last:])
        return "".join(pieces)


def _scoped(pattern: str) -> str:
    """A pattern as a group for an alternation, its leading inline flags made local to it."""
    if pattern.startswith("(?i)"):
        return f"(?i:{pattern[4:]})"
    return f"(?:{pattern})"


# Lower-case literals, one of which every default rule's match contains once lower-cased: text without any of
# them is clean, which one fast pass over the lower-cased text tells.
_TRIGGERS = (
    "-----begin",
    "sk-",
    "pk-",
    "rk-",
    "sk_",
    "pk_",
    "rk_",
    "whsec_",
    "bearer",
    "basic",
    "token",
    "eyj",
    "akia",
    "asia",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "xox",
    "aiza",
    "ya29.",
    "hf_",
    "gsk_",
    "xai-",
    "npm_",
    "pypi-",
    "pass",
    "pwd",
    "secret",
    "api",
    "key",
    "cred",
    "auth",
    "cookie",
    "session",
    "sig",
    "://",
    "hooks.slack.com",
    "webhooks",
)


def _literal_trie(words: Iterable[str]) -> str:
    """A pattern matching any of ``words``, as a prefix tree: the regular expression engine then tries a
    few branches per position instead of every word (half the time of a flat alternation for clean text)."""
    tree: dict[str, Any] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return pattern(tree)


_TRIGGER = re.compile(_literal_trie(_TRIGGERS))
_CUT_TAIL_SEARCHED = 4096  # a token's start left by a cut is looked for this far from the end
_MAX_DEPTH = 8  # nested attribute values deeper than this are exported as their (scrubbed) text
_PLAIN_TYPES = (bool, int, float, bytes, type(None))


class Scrubber:
    """Redacts secrets; ``extra_patterns`` are regular expressions whose whole match is redacted."""

    def __init__(self, extra_patterns: Iterable[str] = (), extra_keys: Iterable[str] = ()) -> None:
        user_rules = []
        for pattern in extra_patterns:
            try:
                user_rules.append(_Rule(pattern, 0, REDACTED, False))
            except re.error as exc:
                raise ValueError(f"invalid scrub pattern {pattern!r}: {exc}") from exc
        self._rules = [_Rule(*spec) for spec in _DEFAULT_RULES] + user_rules
        self._user_any = (
            re.compile("|".join(_scoped(rule.pattern.pattern) for rule in user_rules)) if user_rules else None
        )
        names = [_SENSITIVE_NAME, *(rf"(?:^|[._-]){re.escape(k)}(?:$|[._-])" for k in extra_keys)]
        self._sensitive_name = re.compile("|".join(names), re.IGNORECASE)
        self._name_cache: dict[str, bool] = {}

    def sensitive_name(self, name: str) -> bool:
        cached = self._name_cache.get(name)
        if cached is None:
            cached = bool(self._sensitive_name.search(name))
            if len(self._name_cache) < 4096:
                self._name_cache[name] = cached
        return cached

    def text(self, value: str) -> str:
        lowered = value.lower()
        if not _TRIGGER.search(lowered) and (self._user_any is None or not self._user_any.search(value)):
            return value
        for rule in self._rules:
            redacted = rule.apply(value, lowered)
            if redacted is not None:
                value = redacted
                lowered = value.lower()
        return value

    def cut_text(self, value: str) -> str:
        """:meth:`text` for a value a length limit cut: a token's start left at its end is redacted too."""
        clean = self.text(value)
        tail = _TOKEN_START_AT_END.search(clean, max(0, len(clean) - _CUT_TAIL_SEARCHED))
        return clean if tail is None else clean[: tail.start()] + REDACTED

    def value(self, name: str, value: Any, depth: int = 0, cut_at: int | None = None) -> Any:
        """``value`` with its secrets redacted; the same object when there were none. Strings of
        ``cut_at`` characters or more are taken as cut there (:meth:`cut_text`)."""
        if self.sensitive_name(name):
            return REDACTED
        if isinstance(value, str):
            return self.cut_text(value) if cut_at is not None and len(value) >= cut_at else self.text(value)
        if isinstance(value, _PLAIN_TYPES):
            return value
        if depth < _MAX_DEPTH:
            if isinstance(value, Mapping):
                clean_map = {
                    key: self.value(str(key), item, depth + 1, cut_at) for key, item in value.items()
                }
                changed = any(clean_map[key] is not item for key, item in value.items())
                return clean_map if changed else value
            if isinstance(value, (list, tuple)):
                items = [self.value(name, item, depth + 1, cut_at) for item in value]
                changed = any(clean is not item for clean, item in zip(items, value, strict=True))
                return type(value)(items) if changed else value
        try:  # anything else is exported as its text
            text = str(value)
        except Exception:
            return REDACTED
        clean = self.text(text)
        return clean if clean != text else value

    def attributes(self, attributes: Mapping[str, Any], cut_at: int | None = None) -> dict[str, Any] | None:
        """A scrubbed copy, or None when nothing needed redacting (the common, allocation-free case); string
        values of ``cut_at`` characters or more are taken as cut there."""
        changed: dict[str, Any] | None = None
        for name, value in attributes.items():
            clean = self.value(name, value, cut_at=cut_at)
            if clean is not value:
                if changed is None:
                    changed = dict(attributes)
                changed[name] = clean
        return changed
