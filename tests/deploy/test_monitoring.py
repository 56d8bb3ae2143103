"""The Grafana dashboard and the Prometheus alert rules in deploy/monitoring load, every query
parses as PromQL, and every metric they name is one the services export."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import yaml
from prometheus_client import Counter, Gauge, Histogram

from docflow_shared import metrics

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
NAME = re.compile(r"\bdocflow_[a-z_]+")


def exported_names() -> set[str]:
    """The sample names the catalogue in docflow_shared.metrics produces."""
    names: set[str] = set()
    for item in vars(metrics).values():
        if isinstance(item, Counter):
            names.add(f"{item.describe()[0].name}_total")
        elif isinstance(item, Histogram):
            names.update(f"{item.describe()[0].name}{suffix}" for suffix in ("_bucket", "_count", "_sum"))
        elif isinstance(item, Gauge):
            names.add(item.describe()[0].name)
    return names


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((MONITORING / "alerts.yaml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_queries() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def check_query(expr: str) -> None:
    promql_parser.parse(expr)  # raises ValueError on a syntax error
    unknown = set(NAME.findall(expr)) - exported_names()
    assert not unknown, (expr, unknown)


class TestAlertRules:
    def test_the_alerts_the_operators_need(self) -> None:
        assert {rule["alert"] for rule in alert_rules()} >= {
            "DocflowDeadLetters", "DocflowOutboxStale", "DocflowHighErrorRate", "DocflowConsumerStalled"}

    def test_every_rule_parses_and_names_exported_metrics(self) -> None:
        for rule in alert_rules():
            check_query(rule["expr"])
            assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
            assert rule["annotations"]["summary"], rule["alert"]

    def test_the_outbox_alert_fires_past_one_minute(self) -> None:
        stale = next(rule for rule in alert_rules() if rule["alert"] == "DocflowOutboxStale")
        assert "docflow_outbox_oldest_pending_age_seconds" in stale["expr"] and stale["expr"].endswith("> 60")


class TestDashboard:
    def test_every_panel_query_parses_and_names_exported_metrics(self) -> None:
        queries = dashboard_queries()
        assert queries
        for expr in queries:
            check_query(expr)

    def test_every_metric_has_a_panel(self) -> None:
        shown = {name for expr in dashboard_queries() for name in NAME.findall(expr)}
        families = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in shown}
        for name in exported_names():
            assert re.sub(r"_(total|bucket|count|sum)$", "", name) in families, name

    def test_a_query_that_does_not_parse_is_caught(self) -> None:
        try:
            check_query("sum(rate(docflow_http_requests_total[5m])")
        except ValueError:
            return
        raise AssertionError("an unbalanced query passed")
