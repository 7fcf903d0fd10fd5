"""Which Alertmanager configuration the local stack runs, and the token its sidecar webhook sends.

The shared ``alertmanager/alertmanager.yml`` sends every alert to the ops sidecar's webhook at
``localhost:8000`` with the bearer token read from ``secrets/sidecar_token``; the sidecar reads the same
file (``OTEL_OPS_API_TOKEN_FILE``), so the webhook is accepted while the rest of the API stays closed.
Alertmanager opens a receiver's ``credentials_file`` relative to the directory of its configuration file,
and the global ``*_file`` secrets relative to its working directory, so the stack runs it on a copy of the
shared file *derived* at start in its working directory, where both find ``secrets/``: the same routes and
receivers, the template paths made absolute, and (Alertmanager cannot take the webhook address from flags
or the environment) each ``localhost:<standard port>`` webhook address replaced by this stack's port. The
shared file is the one of the stack files (:mod:`otel_ops.stack.files`).
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

#: Where the shared configuration reads the sidecar's token, relative to the configuration's directory.
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
    """The configuration derived from the shared file for ``ports``, written in ``directory`` (Alertmanager's
    working directory, which holds ``secrets/``)."""
    shared = shared or shared_config()
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
