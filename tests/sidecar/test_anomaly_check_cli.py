"""``otel-ops anomaly check``: a jobs file judged before the sidecar runs it, against a real Prometheus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from otel_ops.cli import app
from tests.collector.processes import Prometheus, free_port
from tests.support.tables import table_row

runner = CliRunner()


def jobs_file(tmp_path: Path, *jobs: dict[str, Any]) -> Path:
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps({"jobs": list(jobs)}))
    return path


def shards(count: int) -> str:
    return " or ".join(f'label_replace(vector(1), "shard", "{index}", "", "")' for index in range(count))


def test_good_jobs_pass_with_their_series_counted(prometheus: Prometheus, tmp_path: Path) -> None:
    path = jobs_file(
        tmp_path,
        {"name": "errors", "query": "vector(1)", "backfill_seconds": 86_400},
        {"name": "pods", "query": shards(3), "interval_seconds": 300, "max_series": 3},
        {"name": "future", "query": 'up{job="not-scraped-yet"}'},
    )
    result = runner.invoke(app, ["anomaly", "check", str(path), "--prometheus", prometheus.url])
    assert result.exit_code == 0, result.output
    assert table_row(result.stdout, "errors")[1:] == ["60 s", "60 s", "1440 points", "1 (max 50)", "ok"]
    assert table_row(result.stdout, "pods")[1:] == ["300 s", "300 s", "-", "3 (max 3)", "ok"]
    assert "no series now" in table_row(result.stdout, "future")[-1]
    assert "3 jobs valid, queries answered by" in result.stdout


def test_too_many_series_and_a_bad_query_fail_with_the_fix(prometheus: Prometheus, tmp_path: Path) -> None:
    path = jobs_file(
        tmp_path,
        {"name": "pods", "query": shards(4), "max_series": 2},
        {"name": "typo", "query": "sum(rate(http_requests_total[5m]"},
        {"name": "scalar", "query": "time()"},
        {"name": "fine", "query": "vector(1)"},
    )
    result = runner.invoke(
        app, ["anomaly", "check", str(path), "--prometheus", prometheus.url], env={"COLUMNS": "400"}
    )
    assert result.exit_code == 1, result.output
    assert "4 series, more than max_series 2: aggregate the query" in table_row(result.stdout, "pods")[-1]
    assert "HTTP 400" in table_row(result.stdout, "typo")[-1] and "parse error" in result.stdout
    assert "wrap it in vector(...)" in table_row(result.stdout, "scalar")[-1]
    assert table_row(result.stdout, "fine")[-1] == "ok"
    assert "3 of 4 jobs cannot run as configured" in result.stderr


def test_an_invalid_file_names_the_field_and_exits_2(tmp_path: Path) -> None:
    path = jobs_file(tmp_path, {"name": "errors", "query": "vector(1)", "max_series": 0})
    result = runner.invoke(app, ["anomaly", "check", str(path), "--no-query"])
    assert result.exit_code == 2, result.output
    assert "jobs.0.max_series" in result.stderr and "greater than or equal to 1" in result.stderr


def test_without_queries_only_the_file_is_checked(tmp_path: Path) -> None:
    path = jobs_file(tmp_path, {"name": "errors", "query": "vector(1)"})
    result = runner.invoke(app, ["anomaly", "check", str(path), "--no-query"])
    assert result.exit_code == 0, result.output
    assert table_row(result.stdout, "errors")[-2:] == ["-", "ok"]
    assert "1 job valid (queries not run)" in result.stdout


def test_an_unreachable_prometheus_is_a_failure(tmp_path: Path) -> None:
    path = jobs_file(tmp_path, {"name": "errors", "query": "vector(1)"})
    dead = f"http://127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["anomaly", "check", str(path)], env={"OTEL_OPS_PROMETHEUS_URL": dead})
    assert result.exit_code == 1, result.output
    assert "1 job valid, but their queries could not be checked" in result.stderr
    assert f"Prometheus at {dead} did not answer" in result.stderr and "--no-query" in result.stderr


def test_a_bad_prometheus_url_says_where_it_came_from(tmp_path: Path) -> None:
    path = jobs_file(tmp_path, {"name": "errors", "query": "vector(1)"})
    flag = runner.invoke(app, ["anomaly", "check", str(path), "--prometheus-url", "localhost:9090"])
    assert flag.exit_code == 2
    assert (
        "invalid Prometheus URL 'localhost:9090' (--prometheus): give it as http://host:port" in flag.stderr
    )
    env = {"OTEL_OPS_PROMETHEUS_URL": "nonsense", "OTEL_OPS_PORT": "abc"}
    from_env = runner.invoke(app, ["anomaly", "check", str(path)], env=env)
    assert from_env.exit_code == 2
    assert "'nonsense' (OTEL_OPS_PROMETHEUS_URL)" in from_env.stderr
    assert "OTEL_OPS_PORT" not in from_env.stderr  # the sidecar's other settings are not this command's


def test_a_backfill_shorter_than_the_warm_up_is_warned_about(tmp_path: Path) -> None:
    path = jobs_file(
        tmp_path,
        {"name": "short", "query": "vector(1)", "backfill_seconds": 86_400},
        {"name": "long", "query": "vector(1)", "backfill_seconds": 604_800},
    )
    result = runner.invoke(app, ["anomaly", "check", str(path), "--no-query"])
    assert result.exit_code == 0, result.output
    assert "job short: backfill 1 day; its detectors need about 2.5 days of history" in result.stderr
    assert "job long" not in result.stderr
