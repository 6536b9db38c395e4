"""grafana/ and monitoring/grafana/, checked without a Grafana server.

grafana/ is what Grafana loads: dashboards/ (the JSON models and dashboards.yml, their
provider), datasources/ and alerting/. monitoring/grafana/grafana.ini is how the local stack
runs Grafana. No Grafana server runs offline, so these checks stand in for one:
- grafana-foundation-sdk: every dashboard goes through `Dashboard.from_json` and back to JSON.
  The SDK keeps only the keys its schema of the dashboard, panel, query and panel options
  knows, so a key missing after the round trip is unknown to Grafana (misspelled, outdated).
- promtool (`promql_parses` of monitoring_helpers): every PromQL expression of every panel,
  template variable and Grafana alert rule parses. Grafana's variables are first replaced by
  valid values (`promql_for_promtool`): `$__range`, `$__rate_interval`, `$__interval` by a
  duration, a dashboard variable (`$dag_id`, `${dag_id}`) by `.*`, since the dashboards only
  use variables in regex label matchers; a `$name` the dashboard does not define is an error.
- The project's own check: every metric a panel or alert rule queries (`metric_names`, a
  PromQL lexer) is one the statsd exporter's mapping or the recording rules produce
  (`exported_metrics`); both come from monitoring_helpers, shared with the Prometheus tests.
- grafana.ini: configparser parses it, and every section and key is one of Grafana's
  documented settings (`DOCUMENTED_SETTINGS`, the project's own list: Grafana is not here to
  reject an unknown key); the settings that keep an offline Grafana quiet are set.
"""

from __future__ import annotations

import configparser
import copy
import fnmatch
import importlib.util
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from conftest import ROOT, require
from monitoring_helpers import exported_metrics, metric_names, promql_parses, read_yaml, rule_files

GRAFANA = "grafana"
DASHBOARDS = f"{GRAFANA}/dashboards"
DASHBOARD_PROVIDER = f"{DASHBOARDS}/dashboards.yml"
ALERTING = f"{GRAFANA}/alerting"
DATASOURCES = f"{GRAFANA}/datasources"
#: How the local monitoring stack runs Grafana (its server configuration).
GRAFANA_INI = "monitoring/grafana/grafana.ini"
#: Where the grafana/grafana image reads its configuration.
CONTAINER_INI = "/etc/grafana/grafana.ini"
LOKI = "monitoring/logs/loki.yaml"
MAPPING = "monitoring/prometheus/statsd_mapping.yml"
RULES = "monitoring/prometheus/rules/"
PROMETHEUS = "monitoring/prometheus/prometheus.yml"
SOURCES = "dbt/models/staging/_sources.yml"
FRESHNESS = "airflow_pipeline_data_loaded_at_seconds"
#: A `job` label matcher naming one job or alternatives (job="airflow", job=~"a|b").
JOB = re.compile(r'\bjob\s*=~?\s*"([\w|-]+)"')
#: Grafana's expression engine (reduce, math, threshold) in alert rules: not a datasource.
EXPRESSION_DATASOURCE = "__expr__"
#: Grafana's built-in interval variables and the value each gets before promtool parses it.
BUILTIN_DURATIONS = {"__range": "1d", "__rate_interval": "1m", "__interval": "1m"}
#: $name, ${name} and the deprecated [[name]]; not $1 (a regex group in label_replace).
VARIABLE = re.compile(r"\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)|\[\[([A-Za-z_]\w*)\]\]")
#: Where grafana/ lands under Grafana's provisioning path ([paths] provisioning of grafana.ini).
PROVISIONING_MOUNTS = {
    f"./{DATASOURCES}": "datasources",
    f"./{ALERTING}": "alerting",
    f"./{DASHBOARD_PROVIDER}": "dashboards/dashboards.yml",
}
#: The one role of each folder: what it may hold (fnmatch patterns of file names).
ROLES = {
    GRAFANA: ("README.md",),
    DASHBOARDS: ("*.json", "dashboards.yml"),
    DATASOURCES: ("*.yml",),
    ALERTING: ("*.yml",),
    "monitoring/grafana": ("grafana.ini",),
}
#: The grafana.ini sections and keys this repository may use: the project's own check, against
#: Grafana 12's documented defaults (conf/defaults.ini, "Configure Grafana" in its docs), since
#: no Grafana server runs offline to reject an unknown key. Add a key only after finding it in
#: that file, under that section.
DOCUMENTED_SETTINGS = {
    "paths": {"data", "logs", "plugins", "provisioning", "temp_data_lifetime"},
    "server": {
        "protocol",
        "http_addr",
        "http_port",
        "domain",
        "enforce_domain",
        "root_url",
        "serve_from_sub_path",
        "router_logging",
        "enable_gzip",
    },
    "security": {
        "admin_user",
        "admin_email",
        "disable_initial_admin_creation",
        "disable_gravatar",
        "cookie_secure",
        "cookie_samesite",
        "allow_embedding",
    },
    "users": {
        "allow_sign_up",
        "allow_org_create",
        "auto_assign_org",
        "auto_assign_org_role",
        "default_theme",
    },
    "auth": {"disable_login_form", "disable_signout_menu"},
    "auth.anonymous": {"enabled", "org_name", "org_role", "hide_version"},
    "analytics": {
        "reporting_enabled",
        "check_for_updates",
        "check_for_plugin_updates",
        "feedback_links_enabled",
    },
    "news": {"news_feed_enabled"},
    "snapshots": {"enabled", "external_enabled"},
    "plugins": {"preinstall_disabled", "plugin_admin_enabled"},
    "dashboards": {"versions_to_keep", "min_refresh_interval", "default_home_dashboard_path"},
    "log": {"mode", "level", "filters"},
}
#: What keeps a Grafana without internet quiet and closed: section -> key -> value.
REQUIRED_SETTINGS = {
    "analytics": {
        "reporting_enabled": False,
        "check_for_updates": False,
        "check_for_plugin_updates": False,
    },
    "users": {"allow_sign_up": False},
    "auth.anonymous": {"enabled": False},
}
#: Keys that hold secrets: they stay in the environment (.env), never in grafana.ini.
SECRET_KEY = re.compile(r"password|secret|token|key$", re.IGNORECASE)
#: The only GF_ variables Compose may set: secrets (grafana.ini holds every other setting).
SECRET_VARIABLES = {"GF_SECURITY_ADMIN_PASSWORD"}

LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*\w+\s*\)\s*$", re.DOTALL)


# -- reading the files ------------------------------------------------------------------------
def dashboards(root: Path) -> dict[str, dict[str, Any]]:
    """Every dashboard JSON model of grafana/dashboards/, by its path from the root."""
    return {
        str(path.relative_to(root)): json.loads(path.read_text())
        for path in sorted((root / DASHBOARDS).glob("*.json"))
    }


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    """The panels of a dashboard, those inside collapsed rows included."""
    found = []
    for panel in board.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def alerting(root: Path) -> dict[str, dict[str, Any]]:
    """Every file of grafana/alerting/, parsed, by its path from the root."""
    folder = root / ALERTING
    return {
        str(path.relative_to(root)): yaml.safe_load(path.read_text())
        for path in sorted(folder.glob("*.y*ml"))
    }


def alert_rules(files: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Grafana's alert rules of the provisioning files, by `<file> rule <title>`."""
    return {
        f"{name} rule {rule.get('title')}": rule
        for name, content in files.items()
        for group in (content or {}).get("groups", [])
        for rule in group.get("rules", [])
    }


def queries(root: Path) -> dict[str, str]:
    """Every PromQL expression of the dashboards and alert rules, by where it is."""
    found: dict[str, str] = {}
    for name, board in dashboards(root).items():
        found.update(dashboard_queries(name, board))
    for where, rule in alert_rules(alerting(root)).items():
        for query in rule.get("data", []):
            if query.get("datasourceUid") != EXPRESSION_DATASOURCE:
                found[f"{where} query {query.get('refId')}"] = query["model"]["expr"]
    return found


def dashboard_queries(name: str, board: dict[str, Any]) -> dict[str, str]:
    found = {}
    for panel in panels(board):
        for target in panel.get("targets", []):
            where = f"{name} panel {panel.get('id')} '{panel.get('title')}' {target.get('refId')}"
            found[where] = target.get("expr", "")
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable["query"]
            text = query if isinstance(query, str) else query.get("query", "")
            values = LABEL_VALUES.match(text)
            found[f"{name} variable ${variable['name']}"] = values.group(1) if values else text
    return found


def variables(board: dict[str, Any]) -> set[str]:
    return {variable["name"] for variable in board.get("templating", {}).get("list", [])}


def datasource_uids(root: Path) -> set[str]:
    """The uids of the datasources grafana/datasources/ provisions."""
    uids = set()
    for path in (root / DATASOURCES).glob("*.y*ml"):
        uids |= {source["uid"] for source in yaml.safe_load(path.read_text())["datasources"]}
    return uids


# -- the checks -------------------------------------------------------------------------------
def round_trip_differences(board: dict[str, Any]) -> list[str]:
    """What a dashboard loses or changes in grafana-foundation-sdk's from_json/to_json."""
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.cog.plugins import register_default_plugins
    from grafana_foundation_sdk.models.dashboard import Dashboard

    # Without the plugins, panel options and queries would pass through unchecked.
    register_default_plugins()
    back = json.loads(json.dumps(Dashboard.from_json(copy.deepcopy(board)), cls=JSONEncoder))
    return differences(board, back, "")


def differences(original: Any, back: Any, path: str) -> list[str]:
    """Keys of `original` missing from `back` and values that changed, by JSON path."""
    if isinstance(original, dict) and isinstance(back, dict):
        found = []
        for key, value in original.items():
            if key not in back:
                found.append(f"{path}.{key}: unknown key")
            else:
                found += differences(value, back[key], f"{path}.{key}")
        return found
    if isinstance(original, list) and isinstance(back, list) and len(original) == len(back):
        return [
            problem
            for index, (item, returned) in enumerate(zip(original, back, strict=True))
            for problem in differences(item, returned, f"{path}[{index}]")
        ]
    return [] if original == back else [f"{path}: {original!r} came back as {back!r}"]


def promql_for_promtool(expr: str, defined: set[str]) -> tuple[str, set[str]]:
    """The expression with Grafana's variables replaced, and the variables nobody defines."""
    unknown = set()

    def value(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        if name in BUILTIN_DURATIONS:
            return BUILTIN_DURATIONS[name]
        if name in defined:
            return ".*"
        unknown.add(name)
        return match.group(0)

    return VARIABLE.sub(value, expr), unknown


def unknown_metrics(expressions: dict[str, str], known: set[str]) -> dict[str, set[str]]:
    found = {where: metric_names(expr) - known for where, expr in expressions.items()}
    return {where: names for where, names in found.items() if names}


def datasource_problems(board_or_rules: dict[str, Any], provisioned: set[str]) -> list[str]:
    """Datasource uids a dashboard or alerting file references that nothing provisions."""
    found = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            uid = node.get("datasourceUid")
            reference = node.get("datasource")
            if isinstance(reference, dict) and reference.get("type") != EXPRESSION_DATASOURCE:
                uid = reference.get("uid")
            if uid not in (None, EXPRESSION_DATASOURCE) and uid not in provisioned:
                found.append(f"{path}: datasource uid {uid!r}")
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{path}[{index}]")

    walk(board_or_rules, "")
    return found


def alerting_problems(files: dict[str, dict[str, Any]], boards: dict[str, Any]) -> list[str]:
    """Departures from Grafana's file-provisioning format for alerting (apiVersion 1)."""
    problems = []
    for name, content in files.items():
        if (content or {}).get("apiVersion") != 1:
            problems.append(f"{name}: apiVersion must be 1")
        if not {"contactPoints", "policies", "groups"} & set(content or {}):
            problems.append(f"{name}: none of contactPoints, policies, groups")
        problems += contact_point_problems(name, content or {})
        for group in (content or {}).get("groups", []):
            if not {"name", "folder", "interval", "rules"} <= set(group):
                problems.append(f"{name}: group {group.get('name')} needs name, folder, interval")
    receivers = {
        point.get("name")
        for content in files.values()
        for point in (content or {}).get("contactPoints", [])
    }
    for name, content in files.items():
        for policy in (content or {}).get("policies", []):
            if policy.get("receiver") not in receivers:
                problems.append(f"{name}: policy receiver {policy.get('receiver')!r} is unknown")
    rules = alert_rules(files)
    uids = [rule.get("uid") for rule in rules.values()]
    if len(uids) != len(set(uids)):
        problems.append(f"alert rule uids repeat: {sorted(uids)}")
    for where, rule in rules.items():
        problems += rule_problems(where, rule, boards)
    return problems


def contact_point_problems(name: str, content: dict[str, Any]) -> list[str]:
    """Receivers without uid, type or settings, and webhook URLs written into git."""
    problems = []
    for point in content.get("contactPoints", []):
        for receiver in point.get("receivers", []):
            if not {"uid", "type", "settings"} <= set(receiver):
                problems.append(
                    f"{name}: a receiver of {point.get('name')} lacks uid/type/settings"
                )
            url = str(receiver.get("settings", {}).get("url", ""))
            if url and not VARIABLE.fullmatch(url):
                problems.append(f"{name}: {point.get('name')} has a literal URL, not a $VARIABLE")
    return problems


def rule_problems(where: str, rule: dict[str, Any], boards: dict[str, Any]) -> list[str]:
    problems = []
    if not {"uid", "title", "condition", "data"} <= set(rule):
        problems.append(f"{where}: needs uid, title, condition, data")
    refs = {query.get("refId") for query in rule.get("data", [])}
    if rule.get("condition") not in refs:
        problems.append(
            f"{where}: condition {rule.get('condition')!r} is not one of {sorted(refs)}"
        )
    if "dashboardUid" in rule:
        board = next((b for b in boards.values() if b.get("uid") == rule["dashboardUid"]), None)
        if board is None:
            problems.append(f"{where}: no dashboard has uid {rule['dashboardUid']!r}")
        elif rule.get("panelId") not in {panel.get("id") for panel in panels(board)}:
            problems.append(
                f"{where}: dashboard {rule['dashboardUid']} has no panel {rule.get('panelId')}"
            )
    return problems


def compose_services(root: Path) -> dict[str, Any]:
    return yaml.safe_load((root / "docker-compose.yml").read_text())["services"]


def compose_volumes(root: Path) -> list[list[str]]:
    """The grafana service's volumes in docker-compose.yml: [source, target(, mode)] each."""
    return [volume.split(":") for volume in compose_services(root)["grafana"].get("volumes", [])]


def compose_mounts(root: Path) -> dict[str, str]:
    """The grafana service's bind mounts in docker-compose.yml: host path -> container path."""
    return {parts[0]: parts[1] for parts in compose_volumes(root) if parts[0].startswith("./")}


def compose_environment(root: Path) -> dict[str, Any]:
    environment = compose_services(root)["grafana"].get("environment", {})
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return environment


def grafana_ini(root: Path) -> configparser.ConfigParser:
    """monitoring/grafana/grafana.ini as Grafana reads it: sections, case-sensitive keys."""
    config = configparser.ConfigParser(interpolation=None, strict=True)
    config.optionxform = str  # type: ignore[assignment,method-assign]
    config.read_string((root / GRAFANA_INI).read_text(), source=GRAFANA_INI)
    return config


def ini_problems(config: configparser.ConfigParser) -> list[str]:
    """Undocumented sections and keys, secrets, and required settings missing or wrong."""
    problems = []
    for section in config.sections():
        documented = DOCUMENTED_SETTINGS.get(section)
        if documented is None:
            problems.append(f"[{section}]: not a section of Grafana's defaults.ini")
            continue
        for key in config.options(section):
            if key not in documented:
                problems.append(f"[{section}] {key}: not a key of [{section}] in defaults.ini")
            if SECRET_KEY.search(key):
                problems.append(f"[{section}] {key}: a secret, keep it in .env (GF_ variable)")
    for section, keys in REQUIRED_SETTINGS.items():
        for key, wanted in keys.items():
            try:
                value: bool | None = config.getboolean(section, key)
            except (configparser.Error, ValueError):
                value = None
            if value is not wanted:
                problems.append(f"[{section}] {key} must be {str(wanted).lower()}, not {value}")
    return problems


def environment_name(section: str, key: str) -> str:
    """The GF_ variable that overrides a grafana.ini key (Grafana's GF_<SECTION>_<KEY>)."""
    return f"GF_{section}_{key}".replace(".", "_").replace("-", "_").upper()


def grafana_files(root: Path) -> dict[str, bytes]:
    """Every file of grafana/ and monitoring/grafana/, by its path from the root."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for folder in (GRAFANA, "monitoring/grafana")
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
    }


def role_problems(files: dict[str, bytes]) -> list[str]:
    """Files outside the folders with a role, or not of their folder's role, and copies."""
    problems = []
    for name in files:
        folder, _, base = name.rpartition("/")
        patterns = ROLES.get(folder)
        if patterns is None:
            problems.append(f"{name}: in none of the folders {sorted(ROLES)}")
        elif not any(fnmatch.fnmatchcase(base, pattern) for pattern in patterns):
            problems.append(f"{name}: {folder}/ holds only {', '.join(patterns)}")
    copies: dict[bytes, list[str]] = {}
    for name, content in files.items():
        copies.setdefault(content, []).append(name)
    problems += [f"the same file twice: {names}" for names in copies.values() if len(names) > 1]
    return problems


def environment_variables(files: dict[str, dict[str, Any]]) -> set[str]:
    """The $VARIABLEs of the contact points, which Grafana expands from its environment."""
    return {
        name
        for content in files.values()
        for point in (content or {}).get("contactPoints", [])
        for receiver in point.get("receivers", [])
        for value in receiver.get("settings", {}).values()
        for match in VARIABLE.finditer(str(value))
        for name in match.groups()
        if name
    }


# -- tests ------------------------------------------------------------------------------------
def require_sdk() -> None:
    found = importlib.util.find_spec("grafana_foundation_sdk") is not None
    require(found, "grafana-foundation-sdk (a dev package of the grafana component)")


def test_every_dashboard_round_trips_through_the_sdk(root: Path) -> None:
    require_sdk()
    boards = dashboards(root)
    assert boards, f"no dashboard in {DASHBOARDS}/"
    problems = {name: round_trip_differences(board) for name, board in boards.items()}
    problems = {name: found for name, found in problems.items() if found}
    assert not problems, (
        "keys grafana-foundation-sdk does not know (fix the spelling or drop them):\n"
        + "\n".join(f"{name}{problem}" for name, found in problems.items() for problem in found)
    )


def test_the_round_trip_catches_a_misspelled_key(root: Path) -> None:
    require_sdk()
    board = copy.deepcopy(next(iter(dashboards(root).values())))
    panel = board["panels"][0]
    panel["targets"][0]["legendFormatt"] = panel["targets"][0].pop("legendFormat")
    panel["fieldConfig"]["defaults"]["unitt"] = "s"
    board["templating"]["list"][0]["refrsh"] = 2
    found = "\n".join(round_trip_differences(board))
    for key in ("legendFormatt", "unitt", "refrsh"):
        assert f".{key}: unknown key" in found, found


def test_every_promql_expression_parses(root: Path, tmp_path: Path) -> None:
    ready, unknown = {}, {}
    boards = dashboards(root)
    for where, expr in queries(root).items():
        board = boards.get(where.split(" ")[0], {})
        ready[where], missing = promql_for_promtool(expr, variables(board))
        if missing:
            unknown[where] = missing
    assert not unknown, f"variables no dashboard defines: {unknown}"
    errors = promql_parses(ready, tmp_path)
    assert not errors, "PromQL that promtool rejects:\n" + "\n".join(
        f"{where}: {error}" for where, error in errors.items()
    )


def test_promtool_rejects_a_broken_panel_expression(root: Path, tmp_path: Path) -> None:
    exprs = {"good": "sum(rate(airflow_ti_failures_total[5m]))", "broken": "sum(rate(up[5m])"}
    assert set(promql_parses(exprs, tmp_path)) == {"broken"}


def test_grafana_variables_are_replaced_before_parsing() -> None:
    expr = 'sum(increase(x{dag_id=~"$dag_id", task=~"${task}"}[$__range])) / $__rate_interval'
    ready, unknown = promql_for_promtool(expr + ' + y{a="$nope"}', {"dag_id", "task"})
    assert ready.startswith('sum(increase(x{dag_id=~".*", task=~".*"}[1d])) / 1m')
    assert unknown == {"nope"}


def test_metric_names_of_grafana_queries_skip_variables_labels_and_durations() -> None:
    expr = (
        'sum by (dag_id) (increase(airflow_x_sum{state="failed", dag_id=~"$dag_id"}[$__range]'
        " offset 5m)) / on(dag_id) group_left(task_id) max without (le)"
        " (rate(airflow_y_bucket[$__rate_interval:1m]))"
        " > bool 1e3 and pipeline:z:rate1h unless absent(up)"
        ' or label_replace(vector(1), "a", "$1", "b", "c")'
    )
    assert metric_names(expr) == {"airflow_x_sum", "airflow_y_bucket", "pipeline:z:rate1h", "up"}


@pytest.mark.coherence
def test_every_queried_metric_is_exported(root: Path) -> None:
    missing = unknown_metrics(queries(root), exported_metrics(root))
    assert not missing, "\n".join(
        f"{where} queries {sorted(names)}, produced by neither {MAPPING} nor a recording rule "
        f"of {RULES}: fix the query, or add the mapping or recording rule that produces it"
        for where, names in missing.items()
    )


def test_an_unknown_metric_is_reported(root: Path) -> None:
    exprs = {
        "panel": "sum(rate(airflow_ti_failures_totl[5m])) + airflow_dag_processing_import_errors"
    }
    assert unknown_metrics(exprs, exported_metrics(root)) == {"panel": {"airflow_ti_failures_totl"}}


def test_dashboards_are_where_the_provider_loads_them(root: Path) -> None:
    provider = yaml.safe_load((root / DASHBOARD_PROVIDER).read_text())
    assert provider["apiVersion"] == 1
    (only,) = provider["providers"]
    assert only["type"] == "file" and not only["options"].get("foldersFromFilesStructure")
    stray = [
        str(path.relative_to(root))
        for path in (root / GRAFANA).rglob("*.json")
        if path.parent != root / DASHBOARDS
    ]
    assert not stray, f"dashboards outside {DASHBOARDS}/, which the provider does not load: {stray}"
    uids = [board.get("uid") for board in dashboards(root).values()]
    assert all(uids) and len(uids) == len(set(uids)), (
        f"dashboard uids must be set and unique: {uids}"
    )


@pytest.mark.coherence
@pytest.mark.skipif(not (ROOT / "docker-compose.yml").exists(), reason="no docker-compose.yml")
def test_compose_gives_grafana_what_the_provisioning_reads(root: Path) -> None:
    provider = yaml.safe_load((root / DASHBOARD_PROVIDER).read_text())["providers"][0]
    provisioning = grafana_ini(root).get("paths", "provisioning").rstrip("/")
    expected = {
        **{host: f"{provisioning}/{below}" for host, below in PROVISIONING_MOUNTS.items()},
        f"./{DASHBOARDS}": provider["options"]["path"],
        f"./{GRAFANA_INI}": CONTAINER_INI,
    }
    mounts = compose_mounts(root)
    wrong = {host: target for host, target in expected.items() if mounts.get(host) != target}
    assert not wrong, (
        f"docker-compose.yml's grafana service does not mount what {GRAFANA}/ provisions "
        f"({DATASOURCES}/, {ALERTING}/, {DASHBOARD_PROVIDER}) under {GRAFANA_INI}'s provisioning "
        f"path {provisioning}, or {GRAFANA_INI} itself: add the volumes "
        + ", ".join(f"{host}:{target}:ro" for host, target in wrong.items())
    )
    writable = [
        ":".join(parts)
        for parts in compose_volumes(root)
        if parts[0].startswith("./") and parts[2:] != ["ro"]
    ]
    assert not writable, f"mount these read-only (`:ro`), Grafana only reads them: {writable}"
    missing = environment_variables(alerting(root)) - set(compose_environment(root))
    assert not missing, (
        f"{ALERTING}/ reads {sorted(missing)} from Grafana's environment, which "
        "docker-compose.yml does not give the grafana service: add them to its environment"
    )


def test_alerting_files_have_the_documented_shape(root: Path) -> None:
    others = [
        p.name for p in (root / ALERTING).iterdir() if p.suffix not in {".yml", ".yaml", ".json"}
    ]
    assert not others, f"Grafana refuses to start on these files of {ALERTING}/: {others}"
    files = alerting(root)
    keys = {key for content in files.values() for key in content}
    assert {"contactPoints", "policies", "groups"} <= keys, f"{ALERTING}/ has only {sorted(keys)}"
    problems = alerting_problems(files, dashboards(root))
    assert not problems, "\n".join(problems)


def test_a_broken_alerting_file_is_reported(root: Path) -> None:
    files = copy.deepcopy(alerting(root))
    rules = next(name for name, content in files.items() if "groups" in content)
    files[rules]["apiVersion"] = 2
    rule = files[rules]["groups"][0]["rules"][0]
    rule["condition"] = "Z"
    rule["dashboardUid"] = "no-such-dashboard"
    points = next(name for name, content in files.items() if "contactPoints" in content)
    files[points]["contactPoints"][0]["receivers"][0]["settings"]["url"] = "https://hooks.example"
    found = "\n".join(alerting_problems(files, dashboards(root)))
    for problem in ("apiVersion must be 1", "condition 'Z'", "no-such-dashboard", "literal URL"):
        assert problem in found, found


@pytest.mark.coherence
def test_only_provisioned_datasources_are_referenced(root: Path) -> None:
    provisioned = datasource_uids(root)
    sources = {**dashboards(root), **alerting(root)}
    problems = [
        f"{name}{problem}"
        for name, content in sources.items()
        for problem in datasource_problems(content, provisioned)
    ]
    assert not problems, (
        f"datasources that {DATASOURCES}/ does not provision ({sorted(provisioned)}): "
        + "; ".join(problems)
        + f". Use one of those uids, or provision the datasource in {DATASOURCES}/"
    )


def test_an_unprovisioned_datasource_is_reported(root: Path) -> None:
    board = copy.deepcopy(next(iter(dashboards(root).values())))
    board["panels"][0]["targets"][0]["datasource"]["uid"] = "prometheus-typo"
    found = datasource_problems(board, datasource_uids(root))
    assert found == [".panels[0].targets[0]: datasource uid 'prometheus-typo'"]


@pytest.mark.coherence
def test_freshness_thresholds_are_dbts(root: Path) -> None:
    freshness = yaml.safe_load((root / SOURCES).read_text())["sources"][0]["freshness"]
    hours = {"hour": 3600, "day": 86400}
    expected = [
        freshness[key]["count"] * hours[freshness[key]["period"]]
        for key in ("warn_after", "error_after")
    ]
    wrong = {}
    for name, board in dashboards(root).items():
        for panel in panels(board):
            if any(FRESHNESS in target.get("expr", "") for target in panel.get("targets", [])):
                steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
                found = [step["value"] for step in steps if step["value"] is not None]
                if found != expected:
                    wrong[f"{name} panel {panel['id']} '{panel['title']}'"] = found
    assert not wrong, (
        f"{wrong}: the freshness thresholds (seconds) differ from warn_after/error_after of "
        f"{SOURCES} ({expected}): change the panel thresholds to dbt's"
    )


@pytest.mark.coherence
def test_queried_jobs_are_scraped(root: Path) -> None:
    config = yaml.safe_load((root / PROMETHEUS).read_text())
    jobs = {scrape["job_name"] for scrape in config["scrape_configs"]}
    wanted = {
        where: set(re.split(r"[|]", match))
        for where, expr in queries(root).items()
        for match in JOB.findall(expr)
    }
    missing = {where: sorted(names - jobs) for where, names in wanted.items() if names - jobs}
    assert not missing, (
        f"{missing}: no such scrape job in {PROMETHEUS} ({sorted(jobs)}). Rename the job in "
        "the query, or add the scrape job"
    )


@pytest.mark.coherence
def test_no_alert_is_both_grafanas_and_prometheus(root: Path) -> None:
    prometheus = {}
    for path in rule_files(root):
        for group in read_yaml(path)["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    prometheus[f"{path.relative_to(root)} {rule['alert']}"] = metric_names(
                        rule["expr"]
                    )
    grafana = {
        where: metric_names(expr)
        for where, expr in queries(root).items()
        if where.startswith(ALERTING)
    }
    both = [
        f"{mine} and {theirs} both alert on {sorted(names & other)}"
        for mine, names in grafana.items()
        for theirs, other in prometheus.items()
        if names & other
    ]
    assert not both, (
        "; ".join(both) + ": one of them pages twice. Keep the alert in one place: pipeline "
        f"alerts in monitoring/prometheus/rules/, what Prometheus cannot see in {ALERTING}/"
    )


@pytest.mark.coherence
@pytest.mark.skipif(not (ROOT / "snowflake").exists(), reason="no snowflake/")
def test_the_credit_budget_is_the_resource_monitor_quota(root: Path) -> None:
    sql = (root / "snowflake/warehouses/warehouses.sql").read_text()
    quota = re.search(r"_TRANSFORMING_WH_MONITOR with\s+credit_quota = (\d+)", sql)
    assert quota, "snowflake/warehouses/warehouses.sql has no TRANSFORMING_WH_MONITOR quota"
    (rule,) = (
        rule
        for rule in alert_rules(alerting(root)).values()
        if rule["title"] == "WarehouseCreditsOverBudget"
    )
    threshold = next(
        query["model"]["conditions"][0]["evaluator"]["params"][0]
        for query in rule["data"]
        if query["model"].get("type") == "threshold"
    )
    assert threshold == pytest.approx(int(quota.group(1)) / 30), (
        f"{ALERTING}/rules.yml budget {threshold} is not the monthly quota {quota.group(1)} of "
        "snowflake/warehouses/warehouses.sql spread over 30 days: change both together"
    )


# -- the folders and their roles ---------------------------------------------------------------
def test_each_grafana_folder_holds_only_its_role(root: Path) -> None:
    files = grafana_files(root)
    assert f"{GRAFANA_INI}" in files, f"no {GRAFANA_INI}"
    problems = role_problems(files)
    assert not problems, (
        "\n".join(problems) + f"\nEach folder has one role (see {GRAFANA}/README.md): dashboards "
        f"and their provider in {DASHBOARDS}/, datasources in {DATASOURCES}/, Grafana's alerts in "
        f"{ALERTING}/, how the stack runs Grafana in {GRAFANA_INI}; keep each file in one place"
    )


def test_a_stray_or_copied_file_is_reported(root: Path) -> None:
    files = grafana_files(root)
    loki = files[f"{DATASOURCES}/loki.yml"]
    files["monitoring/grafana/provisioning/datasources/loki.yml"] = loki
    files[f"{DASHBOARDS}/notes.txt"] = b"notes"
    found = "\n".join(role_problems(files))
    for problem in (
        "monitoring/grafana/provisioning/datasources/loki.yml: in none of the folders",
        f"{DASHBOARDS}/notes.txt: {DASHBOARDS}/ holds only",
        "the same file twice",
    ):
        assert problem in found, found


# -- grafana.ini --------------------------------------------------------------------------------
def test_grafana_ini_uses_only_documented_settings(root: Path) -> None:
    problems = ini_problems(grafana_ini(root))
    assert not problems, (
        f"{GRAFANA_INI}:\n" + "\n".join(problems) + "\nUse the sections and keys of Grafana's "
        "conf/defaults.ini (then add the key to DOCUMENTED_SETTINGS here), keep secrets in .env"
    )


def test_an_undocumented_secret_or_loud_setting_is_reported(root: Path) -> None:
    config = grafana_ini(root)
    config.set("analytics", "reporting_enable", "false")
    config.set("analytics", "check_for_updates", "true")
    config.remove_option("users", "allow_sign_up")
    config.set("security", "admin_password", "admin")
    config.add_section("analytic")
    found = "\n".join(ini_problems(config))
    for problem in (
        "[analytics] reporting_enable: not a key",
        "[analytics] check_for_updates must be false, not True",
        "[users] allow_sign_up must be false, not None",
        "[security] admin_password: a secret",
        "[analytic]: not a section",
    ):
        assert problem in found, found


def test_configparser_rejects_a_repeated_key() -> None:
    with pytest.raises(configparser.DuplicateOptionError):
        configparser.ConfigParser(interpolation=None, strict=True).read_string(
            "[analytics]\nreporting_enabled = false\nreporting_enabled = true\n"
        )


@pytest.mark.skipif(not (ROOT / "docker-compose.yml").exists(), reason="no docker-compose.yml")
def test_compose_runs_grafana_with_grafana_ini(root: Path) -> None:
    config = grafana_ini(root)
    assert compose_mounts(root).get(f"./{GRAFANA_INI}") == CONTAINER_INI, (
        f"docker-compose.yml must mount ./{GRAFANA_INI}:{CONTAINER_INI}:ro in the grafana service"
    )
    environment = compose_environment(root)
    settings = {
        environment_name(section, key): f"[{section}] {key}"
        for section in config.sections()
        for key in config.options(section)
    }
    overridden = {name: settings[name] for name in environment if name in settings}
    assert not overridden, (
        f"docker-compose.yml overrides {GRAFANA_INI} with {overridden}: set it in one place"
    )
    others = sorted(
        name for name in environment if name.startswith("GF_") and name not in SECRET_VARIABLES
    )
    assert not others, (
        f"docker-compose.yml sets {others} for grafana: settings that are not secrets belong in "
        f"{GRAFANA_INI}"
    )
    service = compose_services(root)["grafana"]
    port = config.get("server", "http_port")
    published = [str(mapping).rsplit(":", 1)[-1] for mapping in service.get("ports", [])]
    assert published == [port], f"Compose publishes {published}, Grafana listens on {port}"
    assert f":{port}/" in " ".join(service["healthcheck"]["test"])
    data = [parts[1] for parts in compose_volumes(root) if parts[0] == "grafana-data"]
    assert data == [config.get("paths", "data")], (
        f"the grafana-data volume is at {data}, {GRAFANA_INI} keeps Grafana's data in "
        f"{config.get('paths', 'data')}"
    )


# -- datasources ----------------------------------------------------------------------------------
@pytest.mark.coherence
def test_the_loki_datasource_is_where_loki_listens(root: Path) -> None:
    port = read_yaml(root / LOKI)["server"]["http_listen_port"]
    (datasource,) = read_yaml(root / DATASOURCES / "loki.yml")["datasources"]
    assert datasource["url"] == f"http://loki:{port}", (
        f"{DATASOURCES}/loki.yml points at {datasource['url']}, Loki listens on {port} ({LOKI})"
    )


@pytest.mark.coherence
@pytest.mark.skipif(not (ROOT / "docker-compose.yml").exists(), reason="no docker-compose.yml")
def test_datasources_point_at_compose_services(root: Path) -> None:
    services = set(compose_services(root))
    wrong = {
        f"{path.relative_to(root)} {source['name']}": source["url"]
        for path in sorted((root / DATASOURCES).glob("*.yml"))
        for source in read_yaml(path)["datasources"]
        if urlsplit(source["url"]).hostname not in services
    }
    assert not wrong, f"{wrong}: no such service in docker-compose.yml ({sorted(services)})"
