"""The credit cost of snowflake/warehouses/warehouses.sql: per hour, per resume, per month.

Snowflake bills a running standard warehouse by the second (at least 60 s per resume) at the
credits per hour of its size, and an idle one keeps running for ``auto_suspend`` seconds. A
resource monitor caps a month's spending: ``suspend`` lets running queries finish and
``suspend_immediate`` cancels them, so a warehouse's monthly upper bound is its quota times
the highest threshold at which its monitor suspends it. The script is read, never run; what
makes the estimate wrong (an unknown size, no monitor, no auto-suspend, a monitor that never
suspends) is an :class:`EstimateError` naming the warehouse and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

SCRIPT = "snowflake/warehouses/warehouses.sql"
#: Credits per hour of a standard warehouse, by size (Snowflake's documented table): 1, 2, 4...
SIZES = ["XSMALL", "SMALL", "MEDIUM", "LARGE", "XLARGE", "XXLARGE", "XXXLARGE", "X4LARGE"]
SIZES += ["X5LARGE", "X6LARGE"]
CREDITS_PER_HOUR = {size: 2**step for step, size in enumerate(SIZES)}
#: The other spellings Snowflake accepts, without quotes and hyphens (2X-LARGE, X3LARGE, ...).
SIZE_ALIASES = {alias: SIZES[n + 3] for n in range(2, 7) for alias in (f"X{n}LARGE", f"{n}XLARGE")}
DEFAULT_AUTO_SUSPEND = 600  # what Snowflake does when auto_suspend is not given
MINIMUM_BILLED_SECONDS = 60

NAME = r"([A-Za-z_][A-Za-z0-9_$]*)"
CREATE = r"create (?:or replace )?{} (?:if not exists )?" + NAME
WAREHOUSE = re.compile(CREATE.format("warehouse") + "(.*)", re.I | re.S)
MONITOR = re.compile(CREATE.format("resource monitor") + "(?: with)?(.*)", re.I | re.S)
ATTACH = re.compile(rf"(?i)alter warehouse (?:if exists )?{NAME} set resource_monitor\s*=\s*{NAME}")
PROPERTY = re.compile(r"(\w+)\s*=\s*('(?:[^']|'')*'|[^\s']+)")
TRIGGER = re.compile(r"on (\d+) percent do (suspend_immediate|suspend|notify)", re.I)
QUOTED = r"'[^']*(?:'|$)"  # a string literal; an unclosed one runs to the end


class EstimateError(ValueError):
    """The script cannot be estimated as it is: the message says what to fix."""


class Estimate(NamedTuple):
    """The cost figures of one warehouse, in credits."""

    warehouse: str
    size: str
    credits_per_hour: int
    auto_suspend: int
    idle_credits_per_resume: float  # beyond the work: the minimum billing or the idle tail
    monitor: str
    cap_percent: int  # the highest threshold at which the monitor suspends the warehouse
    quota: float  # the monitor's monthly credit quota
    quota_hours: float  # hours of running time the quota buys at this size
    monthly_upper_bound: float


def statements(text: str) -> list[str]:
    """The statements of a SQL script: split on ``;`` outside quotes, comments removed."""
    text = re.sub(rf"({QUOTED})|--[^\n]*", lambda m: m[1] or "", text)
    return [" ".join(s.split()) for s in re.findall(rf"(?:{QUOTED}|[^;'])+", text) if s.strip()]


def number(value: str, what: str) -> float:
    try:
        return float(value.strip("'"))
    except ValueError:
        raise EstimateError(f"{what} is {value!r}, not a number") from None


def estimate(path: Path) -> list[Estimate]:
    """One estimate per warehouse the script creates, in the script's order."""
    try:
        text = path.read_text()
    except OSError as error:
        raise EstimateError(f"cannot read {SCRIPT}: {error.strerror}") from None
    warehouses: dict[str, dict[str, str]] = {}
    monitors: dict[str, tuple[float, list[int]]] = {}  # quota, suspend thresholds
    attached: dict[str, str] = {}
    for statement in statements(text):
        if match := ATTACH.fullmatch(statement):
            attached[match[1].upper()] = match[2].upper()
        elif match := WAREHOUSE.fullmatch(statement) or MONITOR.fullmatch(statement):
            name, body = match[1].upper(), match[2]
            props = {k.lower(): v for k, v in PROPERTY.findall(body)}
            if match.re is WAREHOUSE:
                warehouses[name] = props
                continue
            if "credit_quota" not in props:
                raise EstimateError(f"resource monitor {name} has no credit_quota")
            if props.get("frequency", "monthly").lower() != "monthly":
                raise EstimateError(
                    f"resource monitor {name} resets {props['frequency']}: the estimate is "
                    "monthly; set frequency = monthly"
                )
            caps = [int(p) for p, act in TRIGGER.findall(body) if act.upper().startswith("SUSPEND")]
            monitors[name] = number(props["credit_quota"], name), caps
    if not warehouses:
        raise EstimateError("it creates no warehouse (`create warehouse if not exists NAME ...`)")
    found = []
    for name, props in warehouses.items():
        if "warehouse_size" not in props:
            raise EstimateError(f"warehouse {name} has no warehouse_size: set it explicitly")
        size = props["warehouse_size"].strip("'\"").upper().replace("-", "")
        if (size := SIZE_ALIASES.get(size, size)) not in CREDITS_PER_HOUR:
            raise EstimateError(
                f"warehouse {name} has warehouse_size = {props['warehouse_size']}, not a "
                f"Snowflake size ({', '.join(CREDITS_PER_HOUR)})"
            )
        suspend = props.get("auto_suspend", str(DEFAULT_AUTO_SUSPEND))
        if suspend.upper() == "NULL" or number(suspend, f"auto_suspend of {name}") <= 0:
            raise EstimateError(
                f"warehouse {name} never suspends itself (auto_suspend = {suspend}): "
                "set auto_suspend = 60"
            )
        monitor = attached.get(name) or props.get("resource_monitor", "").upper()
        if not monitor:
            raise EstimateError(
                f"warehouse {name} has no resource monitor, so its cost has no bound: "
                f"`alter warehouse {name} set resource_monitor = ...`"
            )
        if monitor not in monitors:
            raise EstimateError(f"warehouse {name} uses resource monitor {monitor}, never created")
        quota, caps = monitors[monitor]
        if not caps:
            raise EstimateError(
                f"resource monitor {monitor} never suspends {name}: add `on 100 percent do suspend`"
            )
        per_hour, seconds, cap = CREDITS_PER_HOUR[size], int(number(suspend, name)), max(caps)
        idle = per_hour * max(seconds, MINIMUM_BILLED_SECONDS) / 3600
        row = (name, size, per_hour, seconds, idle, monitor, cap, quota, quota / per_hour)
        found.append(Estimate(*row, quota * cap / 100))
    return found
