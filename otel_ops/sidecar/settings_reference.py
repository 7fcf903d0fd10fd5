"""Every sidecar and backup setting with its environment variable, default and meaning: for
``otel-ops sidecar --settings`` and the README, from the settings' own declarations."""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from otel_ops.sidecar.backup.settings import BackupSettings
from otel_ops.sidecar.settings import SidecarSettings

#: Each group: its title and its settings class.
GROUPS: tuple[tuple[str, type[BaseSettings]], ...] = (
    ("Sidecar", SidecarSettings),
    ("Backups (mappings and lists as JSON)", BackupSettings),
)


def _shown_default(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "shown_default" in extra:
        return str(extra["shown_default"])
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    else:
        value = field.default
    if value is None or value == [] or value == {}:
        return "unset"
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def rows(settings: type[BaseSettings]) -> list[tuple[str, str, str]]:
    """(environment variable, default, meaning) of every setting of ``settings``."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    return [
        (f"{prefix}{name.upper()}", _shown_default(field), field.description or "")
        for name, field in settings.model_fields.items()
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def markdown() -> str:
    """The reference as Markdown tables, one per group."""
    parts = []
    for title, settings in GROUPS:
        lines = [f"{title}:", "", "| Variable | Default | Meaning |", "| --- | --- | --- |"]
        lines += [
            f"| `{name}` | {_cell(default)} | {_cell(meaning)} |" for name, default, meaning in rows(settings)
        ]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
