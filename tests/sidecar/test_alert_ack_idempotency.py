"""An alert has one acknowledgement: concurrent and repeated acks give one silence in a real Alertmanager."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from otel_ops.sidecar.settings import SidecarSettings
from tests.collector.processes import free_port
from tests.sidecar.servers import Alertmanager, Sidecar


def unique_labels() -> dict[str, str]:
    return {"alertname": f"AckTest{uuid.uuid4().hex[:8]}", "severity": "page", "service_name": "checkout"}


def silences_of(alertmanager: Alertmanager, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every silence (any state) whose matchers are exactly these labels."""
    return [
        s
        for s in alertmanager.silences()
        if {(m["name"], m["value"]) for m in s["matchers"]} == set(labels.items())
    ]


def active(silences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for s in silences if s["status"]["state"] == "active"]


def ends_at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def start_sidecar(alertmanager: Alertmanager, data_dir: Path) -> Sidecar:
    settings = SidecarSettings(
        port=free_port(), data_dir=data_dir, alertmanager_url=alertmanager.url, check_interval=3600
    )
    return Sidecar(settings)


@pytest.fixture
def sidecar(alertmanager: Alertmanager, data_dir: Path) -> Iterator[Sidecar]:
    with start_sidecar(alertmanager, data_dir) as server:
        yield server


def ack_all_at_once(urls: list[str], body: dict[str, str]) -> list[httpx.Response]:
    """POSTs ``body`` to every URL from its own thread, all released together."""
    start = threading.Barrier(len(urls))
    responses: list[httpx.Response] = []
    lock = threading.Lock()

    def post(url: str) -> None:
        with httpx.Client(timeout=30) as client:
            start.wait()
            response = client.post(url, json=body)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=post, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(responses) == len(urls), "some acknowledgements never got an answer"
    return responses


def test_fifty_concurrent_acks_of_one_alert_create_one_silence(
    alertmanager: Alertmanager, sidecar: Sidecar
) -> None:
    labels = unique_labels()
    fingerprint = alertmanager.post(labels)
    url = f"{sidecar.url}/api/v1/alerts/{fingerprint}/ack"
    responses = ack_all_at_once([url] * 50, {"author": "alice", "comment": "on it", "expires": "1h"})

    assert sorted(r.status_code for r in responses) == [200] * 49 + [201], [r.text for r in responses]
    answers = [r.json() for r in responses]
    assert sorted(a["outcome"] for a in answers) == ["created"] + ["existing"] * 49
    [silence] = silences_of(alertmanager, labels)  # one silence in Alertmanager, not 50
    assert silence["status"]["state"] == "active"
    assert {a["silenceId"] for a in answers} == {silence["id"]}
    assert {a["expiresAt"] for a in answers} == {answers[0]["expiresAt"]}
    [alert] = [a for a in alertmanager.alerts() if a["fingerprint"] == fingerprint]
    assert alert["status"]["silencedBy"] == [silence["id"]]


def test_acks_through_two_sidecars_at_once_leave_one_active_silence(
    alertmanager: Alertmanager, tmp_path: Path
) -> None:
    """Two processes acknowledging the same alert (two sidecars, or the CLI and a sidecar) race in
    Alertmanager itself; they settle on the silence Alertmanager started first."""
    labels = unique_labels()
    fingerprint = alertmanager.post(labels)
    with (
        start_sidecar(alertmanager, tmp_path / "one") as one,
        start_sidecar(alertmanager, tmp_path / "two") as two,
    ):
        urls = [f"{server.url}/api/v1/alerts/{fingerprint}/ack" for server in (one, two) for _ in range(10)]
        responses = ack_all_at_once(urls, {"author": "alice", "comment": "on it", "expires": "1h"})
        assert {r.status_code for r in responses} <= {200, 201}, [r.text for r in responses]
        [kept] = active(silences_of(alertmanager, labels))
        with one.client() as client:
            again = client.post(
                f"/api/v1/alerts/{fingerprint}/ack",
                json={"author": "bob", "comment": "me too", "expires": "1h"},
            )
    assert again.status_code == 200 and again.json()["silenceId"] == kept["id"]
    assert again.json()["outcome"] == "existing" and again.json()["acknowledgedBy"] == "alice"


def test_a_repeated_ack_keeps_the_silence_extends_it_when_later_and_never_shortens_it(
    alertmanager: Alertmanager, sidecar: Sidecar
) -> None:
    labels = unique_labels()
    fingerprint = alertmanager.post(labels)
    with sidecar.client() as client:

        def ack(author: str, expires: str) -> dict[str, Any]:
            response = client.post(
                f"/api/v1/alerts/{fingerprint}/ack",
                json={"author": author, "comment": f"{author} looks", "expires": expires},
            )
            assert response.status_code in (200, 201), response.text
            return {**response.json(), "status": response.status_code}

        first = ack("alice", "1h")
        shorter = ack("bob", "30m")
        longer = ack("carol", "4h")
        same = ack("dave", "4h")
        history = client.get("/api/v1/alerts/history", params={"fingerprint": fingerprint}).json()["entries"]

    assert (first["status"], first["outcome"]) == (201, "created")
    assert (shorter["status"], shorter["outcome"]) == (200, "existing")
    assert shorter["expiresAt"] == first["expiresAt"] and shorter["acknowledgedBy"] == "alice"
    assert (longer["status"], longer["outcome"]) == (200, "extended")
    assert ends_at(longer["expiresAt"]) - ends_at(first["expiresAt"]) > dt.timedelta(hours=2, minutes=59)
    assert (same["outcome"], same["expiresAt"]) == ("existing", longer["expiresAt"])

    [silence] = active(silences_of(alertmanager, labels))
    assert silence["id"] == longer["silenceId"] == same["silenceId"]
    assert (silence["createdBy"], silence["comment"]) == ("carol", "carol looks")
    assert ends_at(silence["endsAt"]) == ends_at(longer["expiresAt"])
    # Every acknowledgement is in the audit log with what it did.
    assert [(e["actor"], e["outcome"]) for e in reversed(history)] == [
        ("alice", "created"),
        ("bob", "existing"),
        ("carol", "extended"),
        ("dave", "existing"),
    ]


@pytest.mark.parametrize(
    ("expires", "length"), [("1m", dt.timedelta(minutes=1)), ("90d", dt.timedelta(days=90))]
)
def test_the_shortest_and_longest_acknowledgements_are_accepted(
    alertmanager: Alertmanager, sidecar: Sidecar, expires: str, length: dt.timedelta
) -> None:
    labels = unique_labels()
    fingerprint = alertmanager.post(labels)
    before = dt.datetime.now(dt.UTC)
    with sidecar.client() as client:
        response = client.post(
            f"/api/v1/alerts/{fingerprint}/ack", json={"author": "a", "comment": "c", "expires": expires}
        )
    assert response.status_code == 201, response.text
    [silence] = active(silences_of(alertmanager, labels))
    second = dt.timedelta(seconds=1)  # Alertmanager keeps milliseconds
    assert before + length - second <= ends_at(silence["endsAt"]) <= dt.datetime.now(dt.UTC) + length
