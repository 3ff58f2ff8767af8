"""The Grafana dashboard and the docs name the metrics hems really exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import promql_parser
import pytest

from hems.metrics.definitions import ALL

ROOT = Path(__file__).resolve().parents[4]
DASHBOARD = json.loads((ROOT / "deploy" / "grafana" / "hems.json").read_text())
PANELS = [panel for panel in DASHBOARD["panels"] if panel["type"] != "row"]
EXPRESSIONS = [(panel["title"], target["expr"]) for panel in PANELS for target in panel["targets"]]
# Labels Prometheus adds to every scraped series, and the buckets' own.
TARGET_LABELS = {"instance", "job"}
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"), "gauge": ("",)}
# Grafana's own variables, replaced as Grafana would before the query reaches Prometheus.
GRAFANA_BUILTINS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}


def exported() -> dict[str, set[str]]:
    """Every sample name hems exports, with the labels it can carry."""
    names = {}
    for metric in ALL:
        (family,) = metric.describe()
        for suffix in SUFFIXES[family.type]:
            names[family.name + suffix] = set(metric._labelnames) | ({"le"} if suffix == "_bucket" else set())
    return names


def variables() -> set[str]:
    return {variable["name"] for variable in DASHBOARD["templating"]["list"]}


def substitute(expr: str) -> str:
    for builtin, value in GRAFANA_BUILTINS.items():
        expr = expr.replace(builtin, value)
    for name in variables():
        expr = expr.replace(f"${name}", ".*")
    assert "$" not in expr, f"a variable the dashboard does not define: {expr}"
    return expr


def selectors(node) -> list:
    found = []
    promql_parser.walk(node, lambda n: found.append(n) if isinstance(n, promql_parser.VectorSelector) else None)
    return found


def test_the_dashboard_is_a_grafana_dashboard():
    assert DASHBOARD["title"] and re.fullmatch(r"[a-z0-9-]{1,40}", DASHBOARD["uid"])
    assert isinstance(DASHBOARD["schemaVersion"], int) and DASHBOARD["schemaVersion"] >= 36
    assert {"time", "templating", "panels", "annotations", "refresh"} <= set(DASHBOARD)
    (source,) = [v for v in DASHBOARD["templating"]["list"] if v["type"] == "datasource"]
    assert source["query"] == "prometheus" and source["name"] == "datasource"
    ids = [panel["id"] for panel in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    cells = set()
    for panel in DASHBOARD["panels"]:
        assert panel["type"] in {"row", "timeseries", "stat"} and panel["title"], panel
        box = panel["gridPos"]
        assert all(isinstance(box[k], int) for k in "hwxy") and box["x"] >= 0 and box["x"] + box["w"] <= 24, panel
        mine = {(x, y) for x in range(box["x"], box["x"] + box["w"]) for y in range(box["y"], box["y"] + box["h"])}
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine
    for panel in PANELS:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        refs = [target["refId"] for target in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), panel["title"]
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]


@pytest.mark.parametrize("title, expr", EXPRESSIONS, ids=[f"{t}-{e[:40]}" for t, e in EXPRESSIONS])
def test_each_expression_is_promql_over_metrics_and_labels_that_exist(title, expr):
    names = exported()
    tree = promql_parser.parse(substitute(expr))  # raises on a syntax error
    used = selectors(tree)
    assert used, "an expression that reads no metric"
    labels = set(TARGET_LABELS)
    for selector in used:
        assert selector.name in names, f"{selector.name} is not a metric hems exports"
        labels |= names[selector.name]
        for matcher in selector.matchers.matchers:
            assert matcher.name in names[selector.name] | TARGET_LABELS, f"{selector.name} has no label {matcher.name}"

    def check_grouping(node):
        if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            assert set(node.modifier.labels) <= labels, f"grouped by a label none of its metrics has: {expr}"

    promql_parser.walk(tree, check_grouping)


def test_the_dashboard_shows_every_metric_of_the_tick_and_the_api():
    shown = {selector.name for _, expr in EXPRESSIONS for selector in selectors(promql_parser.parse(substitute(expr)))}
    for metric in ALL:
        (family,) = metric.describe()
        assert any(name.startswith(family.name) for name in shown), f"{family.name} has no panel"


def test_the_operations_guide_lists_every_metric_with_its_labels():
    guide = (ROOT / "docs" / "operations.md").read_text()
    for metric in ALL:
        (family,) = metric.describe()
        name = family.name + ("_total" if family.type == "counter" else "")
        line = next((line for line in guide.splitlines() if f"`{name}`" in line), None)
        assert line, f"docs/operations.md does not list {name}"
        for label in metric._labelnames:
            assert f"`{label}`" in line, f"{name}'s label {label} is not in its line"


def test_the_readme_documents_every_setting_of_the_metrics():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", readme))
    read = set()
    for path in [*(ROOT / "platform" / "hems" / "metrics").glob("*.py"), ROOT / "platform" / "hems" / "settings.py"]:
        read |= set(re.findall(r"\b(HEMS_METRICS_[A-Z_]+|PROMETHEUS_MULTIPROC_DIR)\b", path.read_text()))
    read |= set(re.findall(r"\$\{(HEMS_METRICS_[A-Z_]+)", (ROOT / "bin" / "hems").read_text()))
    assert {"HEMS_METRICS_ALLOW", "HEMS_METRICS_TOKEN", "HEMS_METRICS_DIR", "PROMETHEUS_MULTIPROC_DIR"} <= read
    assert read <= documented, read - documented
