"""What the monitoring tests share: the rendered files, the real tools, statsd_exporter's mapping.

The statsd exporter has no offline binary here, so `map_metric` implements the part of its
mapping semantics (github.com/prometheus/statsd_exporter, pkg/mapper) this repository uses:

- a StatsD line is `name:value|type`: c counter, g gauge, ms/h/d timer (an observer);
- glob mappings are tried first, in file order; a glob is split on dots and each `*` matches
  the characters of one dot-separated part (never a dot), its text becoming $1, $2, ...;
- regex mappings (match_type: regex) are tried next, in file order, unanchored as Go's
  FindStringSubmatch is, their groups becoming $1, ...; the first match wins;
- `match_metric_type` restricts a mapping to one StatsD type; `action: drop` discards;
- an unmapped metric is exported under its name with every character outside
  [a-zA-Z0-9_] turned into `_`;
- an observer is exported as a histogram (name_bucket, name_sum, name_count) or, with
  observer_type summary, as a summary (name, name_sum, name_count).

`exported_metrics(root)` lists every series name the rendered exporters and rules produce;
the Grafana tests check their panels' queries against it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from conftest import require

ROOT = Path(__file__).resolve().parents[2]
#: Series Prometheus writes itself for every scrape target.
PROMETHEUS_SERIES = frozenset(
    {
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    }
)
#: The Qlik monitor's metrics (qlik/monitoring/replicate_monitor.py), scraped as qlik_replicate.
QLIK_SERIES = frozenset(
    {"qlik_replicate_up", "qlik_replicate_task_state", "qlik_replicate_task_latency_seconds"}
)
#: Where each tool comes from, for the message when it is missing.
PACKAGES = {
    "promtool": "promtool (Debian package prometheus)",
    "prometheus": "prometheus (Debian package prometheus)",
    "amtool": "amtool (Debian package prometheus-alertmanager)",
}
STATSD_TYPES = {"c": "counter", "g": "gauge", "ms": "observer", "h": "observer", "d": "observer"}
#: statsd_exporter's own checks of a mapping file (pkg/mapper/mapper.go).
GLOB_RE = re.compile(r"^(\*\.|[a-zA-Z_](-?[a-zA-Z0-9_])*\.)+(\*|[a-zA-Z_](-?[a-zA-Z0-9_])*)$")
NAME_RE = re.compile(r"^([a-zA-Z_]|\$\{?\d+\}?)([a-zA-Z0-9_]|\$\{?\d+\}?)*$")
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]+$")


def monitoring(root: Path) -> Path:
    return root / "monitoring"


def prometheus_dir(root: Path) -> Path:
    return monitoring(root) / "prometheus"


def tool(name: str) -> str:
    """The path of promtool, prometheus or amtool; skipped locally, failed in CI, when missing."""
    path = shutil.which(name)
    require(path is not None, PACKAGES.get(name, name))
    return str(path)


def run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


# --------------------------------------------------------------------------- rules


def rule_files(root: Path) -> list[Path]:
    return sorted((prometheus_dir(root) / "rules").glob("*.yml"))


def rule_groups(paths: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """Every rule group of these files: name -> its rules."""
    return {group["name"]: group["rules"] for path in paths for group in read_yaml(path)["groups"]}


def rules(root: Path) -> list[dict[str, Any]]:
    return [rule for group in rule_groups(rule_files(root)).values() for rule in group]


def promql_parses(exprs: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """promtool's parse error for each expression that does not parse, by its name.

    The expressions go into one rules file as recording rules expr_0, expr_1, ... and
    `promtool check rules` reports each rule that fails; its errors map back to the names.
    """
    names = list(exprs)
    document = {
        "groups": [
            {
                "name": "promql_parses",
                "rules": [
                    {"record": f"expr_{index}", "expr": exprs[name]}
                    for index, name in enumerate(names)
                ],
            }
        ]
    }
    path = tmp_path / "promql_parses.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    result = run([tool("promtool"), "check", "rules", str(path)])
    errors = {}
    for line in (result.stdout + result.stderr).splitlines():
        match = re.search(r'"expr_(\d+)": (.*)$', line)
        if match:
            errors[names[int(match.group(1))]] = match.group(2)
    if result.returncode != 0 and not errors:
        raise AssertionError(f"promtool check rules failed without a rule error: {result.stderr}")
    return errors


#: PromQL words that are not metric names.
PROMQL_KEYWORDS = frozenset(
    {
        "and",
        "or",
        "unless",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "offset",
        "bool",
        "atan2",
        "inf",
        "nan",
    }
)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (a small lexer, enough for these rules).

    Strings, label matchers {...}, ranges [...], grouping lists by (...) and numbers are
    removed; what remains is a function or aggregation when "(" follows, a keyword, or a
    metric name.
    """
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", text):
        name, call = match.groups()
        if not call and name not in PROMQL_KEYWORDS:
            names.add(name)
    return names


# --------------------------------------------------------------------------- statsd mapping


@dataclass(frozen=True)
class Mapping:
    """One mapping of statsd_mapping.yml, with the defaults applied."""

    match: str
    name: str
    match_type: str = "glob"
    action: str = "map"
    metric_type: str | None = None
    observer_type: str = "histogram"
    labels: dict[str, str] = field(default_factory=dict)

    def pattern(self) -> re.Pattern[str]:
        if self.match_type == "regex":
            return re.compile(self.match)
        parts = [
            "([^.]+)" if part == "*" else re.escape(part).replace(r"\*", "([^.]*)")
            for part in self.match.split(".")
        ]
        return re.compile("^" + r"\.".join(parts) + "$")


@dataclass(frozen=True)
class Mapped:
    """What the exporter makes of one StatsD metric."""

    name: str
    kind: str  # counter, gauge, histogram or summary
    labels: dict[str, str]

    def series(self) -> set[str]:
        if self.kind == "histogram":
            return {f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count"}
        if self.kind == "summary":
            return {self.name, f"{self.name}_sum", f"{self.name}_count"}
        return {self.name}


def load_mapping(path: Path) -> list[Mapping]:
    document = read_yaml(path)
    defaults = document.get("defaults") or {}
    return [
        Mapping(
            match=entry["match"],
            name=entry.get("name", ""),
            match_type=entry.get("match_type", defaults.get("match_type", "glob")),
            action=entry.get("action", "map"),
            metric_type=entry.get("match_metric_type"),
            observer_type=entry.get("observer_type", defaults.get("observer_type", "histogram")),
            labels={str(k): str(v) for k, v in (entry.get("labels") or {}).items()},
        )
        for entry in document.get("mappings") or []
    ]


def mapping_errors(mappings: list[Mapping]) -> list[str]:
    """What statsd_exporter would refuse when it loads the file (pkg/mapper/mapper.go)."""
    errors = []
    for mapping in mappings:
        if not mapping.name:
            errors.append(f"{mapping.match}: no name")
        elif not NAME_RE.match(mapping.name):
            errors.append(f"{mapping.match}: metric name {mapping.name!r} is invalid")
        errors += [
            f"{mapping.match}: invalid label key {key!r}"
            for key in mapping.labels
            if not LABEL_RE.match(key)
        ]
        if mapping.match_type == "glob" and not GLOB_RE.match(mapping.match):
            errors.append(f"invalid match: {mapping.match}")
        if mapping.match_type == "regex":
            try:
                re.compile(mapping.match)
            except re.error as error:
                errors.append(f"invalid regex {mapping.match}: {error}")
        if mapping.action not in {"map", "drop"}:
            errors.append(f"{mapping.match}: unknown action {mapping.action!r}")
    return errors


def expand(template: str, groups: tuple[str, ...]) -> str:
    return re.sub(r"\$\{?(\d+)\}?", lambda m: groups[int(m.group(1)) - 1], template)


def map_metric(mappings: list[Mapping], name: str, statsd_type: str) -> Mapped | None:
    """The Prometheus metric of one StatsD metric; None when a mapping drops it."""
    kind = STATSD_TYPES[statsd_type]
    ordered = [m for m in mappings if m.match_type != "regex"]
    ordered += [m for m in mappings if m.match_type == "regex"]
    for mapping in ordered:
        if mapping.metric_type and mapping.metric_type != kind:
            continue
        found = mapping.pattern().search(name)
        if not found:
            continue
        if mapping.action == "drop":
            return None
        groups = found.groups()
        labels = {key: expand(value, groups) for key, value in mapping.labels.items()}
        return Mapped(expand(mapping.name, groups), observed(kind, mapping.observer_type), labels)
    return Mapped(re.sub(r"[^a-zA-Z0-9_]", "_", name), observed(kind, "histogram"), {})


def observed(kind: str, observer_type: str) -> str:
    return observer_type if kind == "observer" else kind


def parse_datagrams(payloads: list[bytes]) -> list[tuple[str, str]]:
    """(name, type) of each StatsD line `name:value|type[|@rate][|#tags]` of the payloads."""
    lines = [line for payload in payloads for line in payload.decode().splitlines() if line]
    parsed = []
    for line in lines:
        match = re.fullmatch(r"([^:]+):[^|]*\|([a-z]+)(\|.*)?", line)
        assert match, f"not a StatsD line: {line!r}"
        parsed.append((match.group(1), match.group(2)))
    return parsed


def mapped_series(root: Path) -> set[str]:
    """The series names the statsd_mapping.yml mappings produce (not the unmapped ones)."""
    series = set()
    for mapping in load_mapping(prometheus_dir(root) / "statsd_mapping.yml"):
        if mapping.action != "drop":
            kind = observed(mapping.metric_type or "observer", mapping.observer_type)
            series |= Mapped(mapping.name, kind, {}).series()
    return series


def exported_metrics(root: Path) -> set[str]:
    """Every Prometheus series name the rendered exporters and rules produce.

    The statsd mapping's names (by each mapping's match_metric_type: a timer as a histogram
    with _bucket/_sum/_count), the recording rules, Prometheus's own per-target series
    (`up`, ...), and with qlik/ the Qlik monitor's metrics.
    """
    names = mapped_series(root) | set(PROMETHEUS_SERIES)
    names |= {rule["record"] for rule in rules(root) if "record" in rule}
    if (root / "qlik").is_dir():
        names |= QLIK_SERIES
    return names
