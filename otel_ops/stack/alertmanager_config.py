"""Which Alertmanager configuration the local stack runs, and the token its sidecar webhook sends.

The shared ``alertmanager/alertmanager.yml`` sends every alert to the ops sidecar's webhook at
``localhost:8000`` with the bearer token read from ``secrets/sidecar_token`` (relative to Alertmanager's
working directory); the sidecar reads the same file (``OTEL_OPS_API_TOKEN_FILE``), so the webhook is
accepted while the rest of the API stays closed. On the standard ports the shared file is used as it is.
Alertmanager cannot take the webhook address from flags or the environment, so with the sidecar on
another port a configuration is *derived* from the shared file at start: the same routes and receivers,
with each ``localhost:<standard port>`` webhook address replaced by the configured one and the template
paths made absolute. The shared file is the one of the stack files (:mod:`otel_ops.stack.files`).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from otel_ops.stack import files
from otel_ops.stack.derived_config import write_derived
from otel_ops.stack.ports import StackPorts

#: Where the shared configuration reads the sidecar's token, relative to Alertmanager's working directory.
SIDECAR_TOKEN_SECRET = Path("secrets") / "sidecar_token"


def shared_config() -> Path:
    """``alertmanager/alertmanager.yml`` of the stack files in use."""
    return files.path("alertmanager", "alertmanager.yml")


def _retarget_url(url: str, ports: StackPorts) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=ports.retarget(parts.netloc)))


def derive(shared: dict[str, Any], base_dir: Path, ports: StackPorts) -> dict[str, Any]:
    """The shared configuration (parsed) for ``ports``; template paths resolved against ``base_dir``."""
    config = dict(shared)
    config["templates"] = [str((base_dir / pattern).resolve()) for pattern in config.get("templates", [])]
    receivers = []
    for receiver in config.get("receivers", []):
        webhooks = [
            {**webhook, "url": _retarget_url(str(webhook["url"]), ports)}
            for webhook in receiver.get("webhook_configs", [])
        ]
        receivers.append({**receiver, "webhook_configs": webhooks} if webhooks else receiver)
    config["receivers"] = receivers
    return config


def alertmanager_config(ports: StackPorts, directory: Path, shared: Path | None = None) -> Path:
    """The shared file on the standard ports; else a configuration derived from it, in ``directory``."""
    shared = shared or shared_config()
    if ports.shared_files_apply:
        return shared
    derived = derive(yaml.safe_load(shared.read_text()), shared.parent, ports)
    return write_derived(shared, derived, directory)


def ensure_sidecar_token(working_dir: Path) -> Path:
    """``<working_dir>/secrets/sidecar_token``, created with a random token (mode 0600) when missing."""
    path = working_dir / SIDECAR_TOKEN_SECRET
    if path.is_file() and path.read_text(encoding="utf-8").strip():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(secrets.token_urlsafe(32) + "\n")
    return path
