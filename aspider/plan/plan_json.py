"""The JSON form of a plan (`aspider run --dry-run --json`), via pydantic's dataclass support."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from aspider.plan.planner import Plan

_PLAN = TypeAdapter(Plan)


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """Plain JSON-ready data: every action with its `kind`, task and assessor."""
    data: dict[str, Any] = _PLAN.dump_python(plan, mode="json")
    return data
