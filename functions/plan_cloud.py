"""A trust's monthly plan (issue 13): `dispatch` with the body {"job": "plan"} publishes one message per school, and
each school's message runs `plan` on its register (no emails). Results and logs carry counts only, never a name."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from connectors.base import Register, RegisterError

from .plan import capacity_settings, run_plan
from .settings import School, SettingsError

log = logging.getLogger("review_keeper.plan")

JOBS = ("sweep", "plan")


class JobError(ValueError):
    """A request naming no job the deployment runs. `str(err)` is the JSON error's text."""


def job_of_body(body: bytes | str | None) -> str:
    """`dispatch`'s body: empty or {} runs the daily sweep; {"job": "plan"} the plan."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    if not text.strip():
        return "sweep"
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:
        raise JobError('The request body is not JSON; send {"job": "plan"} or nothing at all.') from None
    if not isinstance(payload, dict) or set(payload) - {"job"}:
        raise JobError('The request body must be nothing, or {"job": "sweep"} or {"job": "plan"}.')
    job = payload.get("job", "sweep")
    if job not in JOBS:
        raise JobError(f'job is {job!r}; use "sweep" or "plan".')
    return str(job)


def job_of_message(data: Any) -> str:
    """The job a Pub/Sub CloudEvent asks for: its data's "job", else its "job" attribute, else the sweep."""
    message = data.get("message") if isinstance(data, Mapping) else None
    if not isinstance(message, Mapping):
        return "sweep"
    encoded = message.get("data")
    if encoded:
        try:
            payload = json.loads(base64.b64decode(str(encoded), validate=True).decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return "sweep"  # school_from_message reports the bad message
        if isinstance(payload, dict) and payload.get("job") in JOBS:
            return str(payload["job"])
    attributes = message.get("attributes") or {}
    job = attributes.get("job") if isinstance(attributes, Mapping) else None
    return str(job) if job in JOBS else "sweep"


def plan_payloads(ids: Sequence[str]) -> list[bytes]:
    return [json.dumps({"school": i, "job": "plan"}).encode("utf-8") for i in ids]


def plan_schools(
    schools: Mapping[str, School],
    ids: Sequence[str],
    *,
    today: date,
    open_register: Callable[[School], Register],
    dry_run: bool = False,
) -> dict[str, Any]:
    """Plan each school in turn; one school's broken register or settings never stops the others."""
    summaries: list[dict[str, Any]] = []
    for ref in ids:
        school = schools[ref]
        try:
            run = run_plan(
                open_register(school),
                today=today,
                settings=school.settings,
                capacity=capacity_settings(school.settings),
                dry_run=dry_run,
            )
        except (RegisterError, SettingsError, OSError, ValueError) as exc:
            log.error("plan failed for one school", extra={"school": school.id, "event": type(exc).__name__})
            summaries.append({"school": school.id, "ok": False, "error": str(exc)})
            continue
        plan = run.plan
        summary = {
            "school": school.id,
            "ok": True,
            "today": today.isoformat(),
            "suggested": len(plan.suggestions),
            "unschedulable": len(plan.unschedulable),
            "weeks_over": len(plan.weeks_over),
            "solver": plan.solver.status,
            "seconds": round(plan.solver.seconds, 2),
        }
        log.info(
            "plan done",
            extra={
                "school": school.id,
                "counts": {k: summary[k] for k in ("suggested", "unschedulable", "weeks_over")},
            },
        )
        summaries.append(summary)
    return {"today": today.isoformat(), "ok": all(s["ok"] for s in summaries), "schools": summaries}
