"""The monitoring files: Prometheus accepts the scrape config and the alert rules, each alert fires on the
series it is written for (promtool's rule tests), every alert is explained in the operations guide, and every
metric an alert or the Grafana dashboard reads is one ``shared/metrics.py`` defines, with the labels it has."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator

import yaml
from prometheus_client.metrics import MetricWrapperBase

import shared.metrics
from tests.support import ROOT

PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARDS = sorted((ROOT / "deploy" / "grafana").glob("*.json"))
JOBS = {"tidings-ingest", "tidings-query", "tidings-worker", "tidings-beat"}
# Labels Prometheus adds to every series (target labels) or to histogram buckets.
TARGET_LABELS = {"job", "instance", "le", "pod"}
# Series Prometheus makes itself, not the application.
PROMETHEUS_SERIES = {"up"}

_SERIES = re.compile(r"\b(tidings_[a-z0-9_]+)\b")
_SELECTOR = re.compile(r"\b(tidings_[a-z0-9_]+)\{([^}]*)\}")
_MATCHER_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: Debian's prometheus package ships it (.ci/run installs it)"
    return subprocess.run([promtool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)


def _defined() -> dict[str, tuple[str, ...]]:
    """Each series name shared/metrics.py exports, with the label names it carries."""
    series: dict[str, tuple[str, ...]] = {}
    for metric in vars(shared.metrics).values():
        if not isinstance(metric, MetricWrapperBase):
            continue
        name, labels, kind = metric._name, tuple(metric._labelnames), metric._type
        suffixes = {
            "counter": ("_total",),
            "gauge": ("",),
            "histogram": ("_bucket", "_sum", "_count"),
            "summary": ("", "_sum", "_count"),
        }[kind]
        for suffix in suffixes:
            series[name + suffix] = labels
    return series


def _alert_rules() -> list[dict]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _dashboard_exprs() -> Iterator[tuple[str, str]]:
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                yield f"{path.name}: {panel['title']}", target["expr"]


def _exprs() -> list[tuple[str, str]]:
    return [(rule["alert"], rule["expr"]) for rule in _alert_rules()] + list(_dashboard_exprs())


def test_prometheus_accepts_the_scrape_config_and_the_rules() -> None:
    checked = _promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = _promtool("check", "rules", "alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_each_alert_fires_on_its_series_and_not_on_healthy_ones() -> None:
    tested = _promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    cases = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    fired = {case["alertname"] for test in cases for case in test.get("alert_rule_test", []) if case.get("exp_alerts")}
    required = {
        "TidingsBacklogGrowing",
        "TidingsOldestTaskTooOld",
        "TidingsDeadLettersAppearing",
        "TidingsFeedQuiet",
        "TidingsHighServerErrorRate",
        "TidingsPostgresUnreachable",
        "TidingsRedisUnreachable",
    }
    assert required <= fired, f"alerts without a rule test that makes them fire: {required - fired}"


def test_the_scrape_jobs_are_the_agreed_ones() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert {job["job_name"] for job in config["scrape_configs"]} == JOBS
    assert config["rule_files"] == ["alerts.yml"]


def test_every_alert_is_explained_in_the_operations_guide() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    headings = {m.group(1).strip() for m in re.finditer(r"^#{2,4} +(.+)$", guide, flags=re.MULTILINE)}
    for rule in _alert_rules():
        assert rule["alert"] in headings, f"docs/operations.md has no section for {rule['alert']}"
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert anchor == rule["alert"].lower()
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}


def test_alerts_and_dashboards_read_only_metrics_shared_metrics_defines() -> None:
    defined = _defined()
    assert _exprs(), "no expressions found"
    unknown = {(where, name) for where, expr in _exprs() for name in _SERIES.findall(expr) if name not in defined}
    assert not unknown, f"series no metric in shared/metrics.py exports: {sorted(unknown)}"


def test_alerts_and_dashboards_use_labels_the_metrics_have() -> None:
    defined = _defined()
    for where, expr in _exprs():
        used = [name for name in _SERIES.findall(expr) if name in defined]
        known = TARGET_LABELS.union(*(defined[name] for name in used))
        for name, matchers in _SELECTOR.findall(expr):
            if name not in defined:
                continue  # reported by the test above
            for label in _MATCHER_LABEL.findall(matchers):
                assert label in defined[name] or label in TARGET_LABELS, f"{where}: {name} has no {label}"
        if used:
            for grouping in _GROUPING.findall(expr):
                for label in filter(None, (part.strip() for part in grouping.split(","))):
                    assert label in known, f"{where}: groups by {label}, which none of {used} carries"


def test_the_dashboard_covers_every_area_and_is_well_formed() -> None:
    assert DASHBOARDS, "no dashboard under deploy/grafana"
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        panels = dashboard["panels"]
        ids = [panel["id"] for panel in panels]
        assert len(ids) == len(set(ids)), f"{path.name}: panel ids repeat"
        assert dashboard["uid"] and dashboard["title"]
        for panel in panels:
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
            if panel["type"] == "row":
                continue
            assert panel["targets"], f"{path.name}: {panel['title']} shows nothing"
            for target in panel["targets"]:
                assert target["expr"].strip() and target["refId"]
                assert target["datasource"]["type"] == "prometheus"
        rows = {panel["title"] for panel in panels if panel["type"] == "row"}
        assert rows >= {"Queues", "Throughput", "Latency", "Errors", "Dedup and tags", "Feeds and deliveries"}
    read = {name for _, expr in _dashboard_exprs() for name in _SERIES.findall(expr)} | {
        name for _, expr in _dashboard_exprs() for name in PROMETHEUS_SERIES if re.search(rf"\b{name}\{{", expr)
    }
    for area in (
        "tidings_queue_depth",
        "tidings_articles_processed_total",
        "tidings_stage_seconds_bucket",
        "tidings_http_requests_total",
        "tidings_dedup_decisions_total",
        "tidings_tags_written_total",
        "tidings_feed_last_success_timestamp_seconds",
        "tidings_deliveries_total",
        "tidings_dependency_up",
    ):
        assert area in read, f"the dashboard shows no {area}"
