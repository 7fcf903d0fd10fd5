"""Secret scrubbing: redact API keys, tokens, passwords and credentials before anything is exported.

Two rules, both applied to span attributes, log messages and log attributes:

* a value under a sensitive *name* (``authorization``, ``password``, ``api_key``, ``cookie``, ...) is
  replaced whole;
* a secret-looking *substring* of any string (``sk-...``, ``Bearer ...``, JWTs, cloud keys,
  ``password=...`` in URLs) is replaced, keeping the text around it.
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

# (pattern, replacement) pairs; replacements keep the non-secret prefix so the text stays readable.
_DEFAULT_VALUE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", REDACTED),
    (r"\b(?:sk|pk|rk)-(?:[A-Za-z]+-)?[A-Za-z0-9_\-]{16,}", REDACTED),
    (r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=\-]{8,}", r"\1 " + REDACTED),
    (r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}", REDACTED),
    (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", REDACTED),
    (r"\bgh[pousr]_[A-Za-z0-9]{30,}\b", REDACTED),
    (r"\bgithub_pat_[A-Za-z0-9_]{30,}\b", REDACTED),
    (r"\bxox[abprs]-[A-Za-z0-9\-]{10,}", REDACTED),
    (r"\bAIza[0-9A-Za-z_\-]{35}\b", REDACTED),
    (
        r"(?i)\b((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?token|client[_-]?secret)"
        r"[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;]+",
        r"\1" + REDACTED,
    ),
    (r"(://[^/\s:@]+:)[^@\s/]+@", r"\1" + REDACTED + "@"),
)


def _scoped(pattern: str) -> str:
    """A pattern as a group for an alternation, its leading inline flags made local to it."""
    if pattern.startswith("(?i)"):
        return f"(?i:{pattern[4:]})"
    return f"(?:{pattern})"


# Lower-case literals, one of which every default rule's match contains: text without any of them is clean,
# which one fast pass over the lower-cased text tells.
_TRIGGERS = (
    "-----begin",
    "sk-",
    "pk-",
    "rk-",
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
    "xox",
    "aiza",
    "pass",
    "pwd",
    "secret",
    "api",
    "access",
    "://",
)
_TRIGGER = re.compile("|".join(re.escape(t) for t in _TRIGGERS))


class Scrubber:
    """Redacts secrets; ``extra_patterns`` are regular expressions whose whole match is redacted."""

    def __init__(self, extra_patterns: Iterable[str] = (), extra_keys: Iterable[str] = ()) -> None:
        rules = [(re.compile(p), r) for p, r in _DEFAULT_VALUE_PATTERNS]
        user_rules = []
        for pattern in extra_patterns:
            try:
                user_rules.append((re.compile(pattern), REDACTED))
            except re.error as exc:
                raise ValueError(f"invalid scrub pattern {pattern!r}: {exc}") from exc
        self._rules = rules + user_rules
        self._user_any = (
            re.compile("|".join(_scoped(rule.pattern) for rule, _ in user_rules)) if user_rules else None
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
        if not _TRIGGER.search(value.lower()) and (
            self._user_any is None or not self._user_any.search(value)
        ):
            return value
        for rule, replacement in self._rules:
            value = rule.sub(replacement, value)
        return value

    def value(self, name: str, value: Any) -> Any:
        if self.sensitive_name(name):
            return REDACTED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (list, tuple)):
            return type(value)(self.text(v) if isinstance(v, str) else v for v in value)
        return value

    def attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any] | None:
        """A scrubbed copy, or None when nothing needed redacting (the common, allocation-free case)."""
        changed: dict[str, Any] | None = None
        for name, value in attributes.items():
            clean = self.value(name, value)
            if clean is not value and clean != value:
                if changed is None:
                    changed = dict(attributes)
                changed[name] = clean
        return changed
