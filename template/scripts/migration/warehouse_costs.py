"""The credit cost of snowflake/warehouses/warehouses.sql: per hour, per resume, per month.

Snowflake bills a running standard warehouse by the second (at least 60 seconds per resume)
at the credits per hour of its size, and a warehouse that goes idle keeps running, and
billing, for ``auto_suspend`` seconds. A resource monitor caps what its warehouses spend in
a month: ``suspend`` stops new queries at its threshold (running ones finish) and
``suspend_immediate`` cancels them too, so the monthly upper bound of a warehouse is its
quota times the highest threshold at which the monitor suspends it.

The script is read, never run: statements are split on semicolons outside quotes and
comments, and only ``create warehouse``, ``create resource monitor`` and ``alter warehouse
... set resource_monitor`` matter. Anything that makes the estimate wrong (an unknown size,
a warehouse without a monitor or without auto-suspend, a monitor that never suspends) is an
:class:`EstimateError` naming the warehouse and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SCRIPT = "snowflake/warehouses/warehouses.sql"
#: Credits per hour of a standard warehouse, by size (Snowflake's documented table).
CREDITS_PER_HOUR: dict[str, int] = {
    "XSMALL": 1,
    "SMALL": 2,
    "MEDIUM": 4,
    "LARGE": 8,
    "XLARGE": 16,
    "XXLARGE": 32,
    "XXXLARGE": 64,
    "X4LARGE": 128,
    "X5LARGE": 256,
    "X6LARGE": 512,
}
#: The other spellings Snowflake accepts, without quotes and hyphens (X-SMALL, 2X-LARGE, ...).
SIZE_ALIASES: dict[str, str] = {
    "X2LARGE": "XXLARGE",
    "2XLARGE": "XXLARGE",
    "X3LARGE": "XXXLARGE",
    "3XLARGE": "XXXLARGE",
    "4XLARGE": "X4LARGE",
    "5XLARGE": "X5LARGE",
    "6XLARGE": "X6LARGE",
}
#: What Snowflake does when ``auto_suspend`` is not given.
DEFAULT_AUTO_SUSPEND = 600
MINIMUM_BILLED_SECONDS = 60

NAME = r"([A-Za-z_][A-Za-z0-9_$]*)"
WAREHOUSE = re.compile(
    rf"create (?:or replace )?warehouse (?:if not exists )?{NAME}(.*)", re.I | re.S
)
MONITOR = re.compile(
    rf"create (?:or replace )?resource monitor (?:if not exists )?{NAME}(?: with)?(.*)", re.I | re.S
)
ATTACH = re.compile(
    rf"alter warehouse (?:if exists )?{NAME} set resource_monitor\s*=\s*{NAME}", re.I
)
PROPERTY = re.compile(r"(\w+)\s*=\s*('(?:[^']|'')*'|[^\s']+)")
TRIGGER = re.compile(r"on (\d+) percent do (suspend_immediate|suspend|notify)", re.I)


class EstimateError(ValueError):
    """The script cannot be estimated as it is: the message says what to fix."""


@dataclass(frozen=True)
class Monitor:
    name: str
    quota: float
    #: (percent, action) pairs, e.g. (100, "SUSPEND").
    triggers: tuple[tuple[int, str], ...]

    @property
    def cap_percent(self) -> int:
        """The highest threshold at which the monitor suspends its warehouses."""
        return max(p for p, action in self.triggers if action.startswith("SUSPEND"))


@dataclass(frozen=True)
class Estimate:
    """The cost figures of one warehouse, in credits."""

    warehouse: str
    size: str
    auto_suspend: int
    monitor: Monitor

    @property
    def credits_per_hour(self) -> int:
        return CREDITS_PER_HOUR[self.size]

    @property
    def idle_credits_per_resume(self) -> float:
        """What one resume costs beyond the work: the minimum billing or the idle tail."""
        return self.credits_per_hour * max(self.auto_suspend, MINIMUM_BILLED_SECONDS) / 3600

    @property
    def quota_hours(self) -> float:
        """Hours of running time the monthly quota buys at this size."""
        return self.monitor.quota / self.credits_per_hour

    @property
    def monthly_upper_bound(self) -> float:
        return self.monitor.quota * self.monitor.cap_percent / 100


def statements(text: str) -> list[str]:
    """The statements of a SQL script: split on ``;`` outside quotes, comments removed."""
    found, current, quoted, index = [], [], False, 0
    while index < len(text):
        char = text[index]
        if not quoted and text.startswith("--", index):
            index = text.find("\n", index)
            index = len(text) if index < 0 else index
            continue
        if char == "'":
            quoted = not quoted
        if char == ";" and not quoted:
            found.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    found.append("".join(current))
    return [" ".join(s.split()) for s in found if s.strip()]


def size_of(value: str) -> str | None:
    """The canonical name of a warehouse size (``'X-Small'`` -> ``XSMALL``), or None."""
    size = value.strip("'\"").upper().replace("-", "")
    size = SIZE_ALIASES.get(size, size)
    return size if size in CREDITS_PER_HOUR else None


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
    monitors: dict[str, Monitor] = {}
    attached: dict[str, str] = {}
    for statement in statements(text):
        if match := WAREHOUSE.fullmatch(statement):
            props = {k.lower(): v for k, v in PROPERTY.findall(match.group(2))}
            warehouses[match.group(1).upper()] = props
        elif match := MONITOR.fullmatch(statement):
            name, body = match.group(1).upper(), match.group(2)
            props = {k.lower(): v for k, v in PROPERTY.findall(body)}
            if "credit_quota" not in props:
                raise EstimateError(f"resource monitor {name} has no credit_quota")
            if props.get("frequency", "monthly").lower() != "monthly":
                raise EstimateError(
                    f"resource monitor {name} resets {props['frequency']}: the estimate is "
                    "monthly; set frequency = monthly"
                )
            triggers = tuple((int(p), a.upper()) for p, a in TRIGGER.findall(body))
            monitors[name] = Monitor(name, number(props["credit_quota"], name), triggers)
        elif match := ATTACH.fullmatch(statement):
            attached[match.group(1).upper()] = match.group(2).upper()
    if not warehouses:
        raise EstimateError("it creates no warehouse (`create warehouse if not exists NAME ...`)")
    return [_estimate(name, props, monitors, attached) for name, props in warehouses.items()]


def _estimate(
    name: str, props: dict[str, str], monitors: dict[str, Monitor], attached: dict[str, str]
) -> Estimate:
    if "warehouse_size" not in props:
        raise EstimateError(f"warehouse {name} has no warehouse_size: set it explicitly")
    size = size_of(props["warehouse_size"])
    if size is None:
        raise EstimateError(
            f"warehouse {name} has warehouse_size = {props['warehouse_size']}, not a "
            f"Snowflake size ({', '.join(CREDITS_PER_HOUR)})"
        )
    raw_suspend = props.get("auto_suspend", str(DEFAULT_AUTO_SUSPEND))
    if raw_suspend.upper() == "NULL" or number(raw_suspend, f"auto_suspend of {name}") <= 0:
        raise EstimateError(
            f"warehouse {name} never suspends itself (auto_suspend = {raw_suspend}): "
            "set auto_suspend = 60"
        )
    monitor_name = attached.get(name) or props.get("resource_monitor", "").upper()
    if not monitor_name:
        raise EstimateError(
            f"warehouse {name} has no resource monitor, so its cost has no bound: "
            f"`alter warehouse {name} set resource_monitor = ...`"
        )
    if monitor_name not in monitors:
        raise EstimateError(f"warehouse {name} uses resource monitor {monitor_name}, never created")
    monitor = monitors[monitor_name]
    if not any(action.startswith("SUSPEND") for _, action in monitor.triggers):
        raise EstimateError(
            f"resource monitor {monitor_name} never suspends {name}: "
            "add `on 100 percent do suspend`"
        )
    return Estimate(name, size, int(number(raw_suspend, name)), monitor)
