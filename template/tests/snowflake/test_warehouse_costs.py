"""scripts/migration/warehouse_costs.py: the migration check's credit estimate of the warehouses.

The figures of this repository's snowflake/warehouses/warehouses.sql equal ones computed by hand
from .copier-answers.yml; a sample script shows sizes, aliases and triggers; each kind of malformed
script is an error naming the warehouse and the fix.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "migration"))

import migration_check  # noqa: E402
import warehouse_costs  # noqa: E402
from migration_check import Repository  # noqa: E402
from repository import answers, committed_files  # noqa: E402

#: Sizes the answers may choose, and the credits per hour of each (Snowflake's table).
CREDITS = {"XSMALL": 1, "SMALL": 2, "MEDIUM": 4, "LARGE": 8, "XLARGE": 16}
#: A script of the shape of snowflake/warehouses/warehouses.sql, with figures known here.
SCRIPT = """
-- two warehouses; a comment with a ; in it
create warehouse if not exists BIG_WH warehouse_size = 'X-LARGE' auto_suspend = 120
    comment = 'runs; everything';
create warehouse if not exists HUGE_WH warehouse_size = X4LARGE auto_suspend = 60;
create resource monitor if not exists BIG_MON with credit_quota = 160 frequency = monthly
    triggers on 90 percent do notify on 100 percent do suspend on 120 percent do suspend_immediate;
create resource monitor if not exists HUGE_MON with credit_quota = 256
    triggers on 100 percent do suspend;
alter warehouse BIG_WH set resource_monitor = BIG_MON;
alter warehouse HUGE_WH set resource_monitor = HUGE_MON;
"""


def repository(root: Path) -> Repository:
    return Repository(root, answers(root), committed_files(root))


def test_the_cost_figures_equal_a_hand_computed_estimate(root: Path) -> None:
    item = migration_check.warehouses(repository(root))
    size, prefix = (answers(root)[f"snowflake_{k}"] for k in ("warehouse_size", "role_prefix"))
    sizes, step = list(CREDITS), list(CREDITS).index(size)
    # Loading is two sizes below the answer, reporting one; quotas are 20, 30, 20 hours.
    expected = {
        f"{prefix}_LOADING_WH": (sizes[max(step - 2, 0)], 20),
        f"{prefix}_TRANSFORMING_WH": (size, 30),
        f"{prefix}_REPORTING_WH": (sizes[max(step - 1, 0)], 20),
    }
    estimates = warehouse_costs.estimate(root / warehouse_costs.SCRIPT)
    found = {e.warehouse: (e.size, e.credits_per_hour, e.monthly_upper_bound) for e in estimates}
    assert found == {
        name: (s, CREDITS[s], pytest.approx(hours * CREDITS[s] * 1.1))
        for name, (s, hours) in expected.items()
    }
    total = sum(hours * CREDITS[s] * 1.1 for s, hours in expected.values())
    assert item.status == "passed" and f"at most {round(total, 6):g} credits a month" in item.why


def test_the_cost_item_shows_sizes_aliases_and_triggers_or_the_error(tmp_path: Path) -> None:
    script = tmp_path / warehouse_costs.SCRIPT
    script.parent.mkdir(parents=True)
    script.write_text(SCRIPT)
    repo = Repository(tmp_path, {"components": ["snowflake"]}, [])
    item = migration_check.warehouses(repo)
    assert (
        item.why
        == "2 warehouses: 144 credits/hour all running, at most 448 credits a month (quotas 416)"
    )
    assert item.details[-3:] == [  # 160 x 120 % = 192, 16 x 120 / 3600 = 0.533, 128 / 60 = 2.133
        "| BIG_WH | XLARGE | 16 | 120 | 0.533 | BIG_MON (suspends at 120 %) | 160 | 10 | 192 |",
        "| HUGE_WH | X4LARGE | 128 | 60 | 2.133 | HUGE_MON (suspends at 100 %) | 256 | 2 | 256 |",
        "| **all** | | **144** | | | | **416** | | **448** |",
    ]
    script.write_text(SCRIPT.replace("= X4LARGE", "= XX4LARGE"))
    item = migration_check.warehouses(repo)
    assert item.status == "failed" and item.why.startswith(f"{warehouse_costs.SCRIPT}: warehouse ")
    assert "HUGE_WH has warehouse_size = XX4LARGE, not a Snowflake size" in item.why


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("warehouse_size = X4LARGE", "warehouse_size = HUGE", "HUGE_WH has warehouse_size = HUGE"),
        ("warehouse_size = X4LARGE", "", "HUGE_WH has no warehouse_size"),
        ("auto_suspend = 60", "auto_suspend = 0", "HUGE_WH never suspends itself"),
        ("alter warehouse HUGE_WH set resource_monitor = HUGE_MON;", "", "HUGE_WH has no resource"),
        ("on 100 percent do suspend;", "on 100 percent do notify;", "HUGE_MON never suspends"),
        ("credit_quota = 256", "credit_quota = lots", "'lots', not a number"),
        ("frequency = monthly", "frequency = daily", "BIG_MON resets daily"),
        ("HUGE_MON;", "OTHER_MON;", "uses resource monitor OTHER_MON, never created"),
        (SCRIPT, "use role sysadmin;", "creates no warehouse"),
    ],
)
def test_a_malformed_warehouse_script_is_a_clear_error(
    old: str, new: str, message: str, tmp_path: Path
) -> None:
    assert old in SCRIPT
    (tmp_path / "warehouses.sql").write_text(SCRIPT.replace(old, new))
    with pytest.raises(warehouse_costs.EstimateError, match=message):
        warehouse_costs.estimate(tmp_path / "warehouses.sql")
