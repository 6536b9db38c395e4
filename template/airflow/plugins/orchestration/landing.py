"""LandSampleDataOperator: lands the next batch of the sample shop's raw data.

On the DuckDB targets it runs scripts/utilities/generate_data.py, the replication stand-in:
the initial load when the warehouse has no batch yet, else the next business day's
increment. It returns the generator's manifest (what was inserted, updated, soft-deleted),
so it lands in XCom for the tasks after it, and sends its row counts and load time as
metrics (orchestration/metrics.py). On a real warehouse the raw schema is filled
by the replication tool, and the operator only says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowException

from orchestration import metrics, settings


def landed_batches(database: Path) -> int:
    """How many batches the generator has landed next to this warehouse file."""
    return len(list((database.parent / "loads").glob("batch_*.json")))


class LandSampleDataOperator(BaseOperator):
    """Land the initial load or the next increment of the sample data in schema raw."""

    template_fields = ("scale", "seed", "target")
    ui_color = "#d9ead3"

    def __init__(
        self,
        *,
        scale: str | float = "1",
        seed: str | int = "42",
        target: str | None = None,
        database: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.scale = scale
        self.seed = seed
        self.target = target
        self.database = database

    def warehouse(self) -> Path:
        configured = self.database or os.environ.get("DBT_DUCKDB_PATH")
        if not configured:
            raise AirflowException(
                "DBT_DUCKDB_PATH is not set: point it at the local warehouse file "
                "(the Makefile and airflow/config/airflow_local.py set it)"
            )
        return Path(configured)

    def command(self, database: Path) -> list[str]:
        script = settings.project_root() / "scripts" / "utilities" / "generate_data.py"
        if not script.exists():
            raise AirflowException(f"{script} is missing: the landing task needs the generator")
        command = [sys.executable, str(script), "--database", str(database), "--json"]
        batches = landed_batches(database) if database.exists() else 0
        if batches:
            return [*command, "--increment", str(batches)]
        return [*command, "--scale", str(self.scale), "--seed", str(self.seed)]

    def execute(self, context: Any) -> dict[str, Any]:
        target = self.target or settings.dbt_target()
        if not settings.on_duckdb(target):
            self.log.info("Target %s: replication lands schema raw; nothing to do.", target)
            return {"target": target, "landed": False}
        database = self.warehouse()
        database.parent.mkdir(parents=True, exist_ok=True)
        command = self.command(database)
        self.log.info("Running %s", " ".join(command))
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.stderr:
            self.log.info("%s", result.stderr.strip())
        if result.returncode != 0:
            raise AirflowException(
                f"generate_data.py exited with {result.returncode}: {result.stderr.strip()}"
            )
        manifest = json.loads(result.stdout)
        metrics.landed(manifest)
        return {"target": target, "landed": True, **manifest}
