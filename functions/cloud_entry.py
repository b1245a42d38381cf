"""The Cloud Functions entry points (functions-framework targets), found through main.py by name: sweep_http (Cloud
Scheduler, or the trust's Cloud Tasks queue, one school per task), sweep_event (a Pub/Sub message, the older fan-out),
dispatch (the trust's fan-out) and confirm (the contributors' page). Each asks the composition root for its settings
and adapters, then runs one job from functions/cloud.py.

sweep_http and dispatch are private: Cloud Run IAM admits only the scheduler's service account and the queue's (their
OIDC tokens), so there is no authentication code here. confirm is public: the signed link is the contributor's only
credential. Kept apart from main.py so that a command-line sweep never imports functions-framework and Flask.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import functions_framework

from . import bootstrap
from .advice_page import answer
from .cloud import (
    BadRequest,
    dispatch_schools,
    enqueue_schools,
    late_attempt,
    parse_sweep_body,
    post_only,
    school_from_message,
    school_runner,
    sweep_schools,
)
from .confirm import SECURITY_HEADERS, Confirmations, ConfirmPage
from .evaluate import london_today
from .links import LinkConfigError
from .logs import use_cloud_logging
from .plan_cloud import JobError, job_of_body, job_of_message, plan_schools
from .settings import SettingsError

_cloud_log = logging.getLogger("review_keeper.main")
_JSON = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def _json_reply(payload: dict, status: int = 200) -> tuple[str, int, dict[str, str]]:
    return json.dumps(payload, ensure_ascii=False), status, _JSON


@functions_framework.http
def sweep_http(request) -> tuple[str, int, dict[str, str]]:
    """Cloud Scheduler's daily call, or the trust's queue with one task per school: POST {"school": id} sweeps one
    school, an empty body every school. A failed school answers 500, so the queue tries it again later."""
    use_cloud_logging()
    if request.method != "POST":
        return post_only()
    try:
        dep = bootstrap.deployment()
        wanted = parse_sweep_body(request.get_data(cache=False), dep.schools)
    except BadRequest as exc:
        return _json_reply({"ok": False, "error": str(exc)}, 400)
    except SettingsError as exc:
        _cloud_log.error("settings could not be loaded", extra={"event": "SettingsError"})
        return _json_reply({"ok": False, "error": str(exc)}, 500)
    if wanted.job == "plan":  # the monthly plan's task for a school (a queue deployment's dispatch {"job": "plan"})
        planned = plan_schools(
            dep.schools,
            wanted.school_ids,
            today=london_today(),
            open_register=dep.open_register,
            dry_run=wanted.dry_run,
        )
        return _json_reply(planned, 200 if planned["ok"] else 500)
    result = sweep_schools(
        dep.schools,
        wanted.school_ids,
        today=london_today(),
        open_register=dep.open_register,
        runner=school_runner(dep.mail, dep.submission_queue, dep.lease, dep.runtime.lease_wait),
        dry_run=wanted.dry_run,
    )
    late = late_attempt(request.headers)
    if late is not None:
        # The queue's retry of a school whose earlier attempt failed (that attempt's ERROR line says why).
        for school in wanted.school_ids:
            _cloud_log.warning(
                "school swept late: a retry by the queue",
                extra={
                    "school": school,
                    "event": "LateSweep",
                    "attempt": late["attempt"],
                    "previous": late["previous_response"],
                    "outcome": "ok" if result["ok"] else "failed",
                },
            )
    return _json_reply(result, 200 if result["ok"] else 500)


@functions_framework.cloud_event
def sweep_event(cloud_event) -> None:
    """One school's sweep, from a Pub/Sub message {"school": id} published by dispatch."""
    use_cloud_logging()
    dep = bootstrap.deployment()
    try:
        school = school_from_message(cloud_event.data, dep.schools)
    except BadRequest:
        # Acknowledged, not raised: a malformed message would fail the same way on every redelivery.
        _cloud_log.error("ignored a Pub/Sub message that names no known school", extra={"event": "BadRequest"})
        return
    if job_of_message(cloud_event.data) == "plan":  # the monthly plan (dispatch {"job": "plan"}): no emails
        result = plan_schools(dep.schools, [school], today=london_today(), open_register=dep.open_register)
    else:
        result = sweep_schools(
            dep.schools,
            [school],
            today=london_today(),
            open_register=dep.open_register,
            runner=school_runner(dep.mail, dep.submission_queue, dep.lease, dep.runtime.lease_wait),
        )
    if not result["ok"]:
        raise RuntimeError(f"The sweep for school {school} failed; see the log entry before this one.")


@functions_framework.http
def dispatch(request) -> tuple[str, int, dict[str, str]]:
    """A trust's daily call (or, with {"job": "plan"}, its monthly plan): one Cloud Tasks task per school when the
    deployment has a queue (scripts/deploy.sh --trust), which runs them through sweep_http at a pace inside the Sheets
    quota and retries failures; else one Pub/Sub message per school for sweep_event (deployments before the queue)."""
    from connectors.pubsub import PublishError
    from connectors.queue_tasks import EnqueueError

    use_cloud_logging()
    if request.method != "POST":
        return post_only()
    try:
        job = job_of_body(request.get_data(cache=False))  # {"job": "plan"}: the monthly plan (README)
        dep = bootstrap.deployment()
        queue = bootstrap.task_queue(dep.runtime)
        if queue is not None:
            # A trust's queue paces the monthly plan inside the Sheets quota as it paces the sweep (DEPLOY.md 4b).
            return _json_reply(enqueue_schools(dep.schools, queue, today=london_today(), job=job))
        # Without a queue, one Pub/Sub message a school (sweep_event); the plan reads each register once, sends nothing.
        return _json_reply(dispatch_schools(dep.schools, bootstrap.publisher(dep.runtime), job))
    except JobError as exc:
        return _json_reply({"ok": False, "error": str(exc)}, 400)
    except SettingsError as exc:
        return _json_reply({"ok": False, "error": str(exc)}, 500)
    except EnqueueError as exc:
        _cloud_log.error("dispatch failed", extra={"event": "EnqueueError"})
        return _json_reply({"ok": False, "error": str(exc)}, 502)
    except PublishError as exc:
        _cloud_log.error("dispatch failed", extra={"event": "PublishError"})
        return _json_reply({"ok": False, "error": str(exc)}, 502)


def confirmations(dep: bootstrap.Deployment) -> Confirmations:
    """Links are verified without a school binding: the claim's own school picks the register."""
    return Confirmations(
        dep.schools, bootstrap.link_signer(dep.runtime), dep.open_register_to_show, london_today, dep.advice_desk()
    )


def _confirm_reply(
    request: Any, service: Callable[[], Confirmations], *, cloud_logs: bool = True
) -> tuple[str, int, dict[str, str]]:
    """The contributor's page: GET shows, POST (token in the form body) records Received. `cloud_logs`: JSON lines for
    Cloud Logging; `serve` on a computer keeps its one plain handler, so each line is logged once."""
    if cloud_logs:
        use_cloud_logging()
    if request.method not in ("GET", "HEAD", "POST"):
        return "", 405, {**SECURITY_HEADERS, "Allow": "GET, HEAD, POST"}
    try:
        confirmations = service()
    except (SettingsError, LinkConfigError) as exc:
        _cloud_log.error("confirm is not configured", extra={"event": type(exc).__name__})
        page = ConfirmPage("unavailable", 503)
    else:
        page = answer(request, confirmations)
    return page.html(), page.status, dict(SECURITY_HEADERS)


@functions_framework.http
def confirm(request) -> tuple[str, int, dict[str, str]]:
    return _confirm_reply(request, lambda: confirmations(bootstrap.deployment()))


@functions_framework.http
def papers(request) -> tuple[bytes, int, dict[str, str]]:
    """An invitee's signed link to the papers pack, or the LA's to the review record (`submit --send`): the file, or a
    page saying why not (functions/papers_cli.py)."""
    from .papers_cli import papers_reply

    use_cloud_logging()
    return papers_reply(request, bootstrap.deployment())


def serve_app(
    service: Confirmations, papers: Callable[[Any], tuple[bytes, int, dict[str, str]]] | None = None
) -> Callable[..., Any]:
    """The WSGI app `serve` runs: the cloud's confirm handler (and the papers download) side by side, one writer at a
    time, with settings built once at start."""
    from .serving import wsgi_app

    def reply(request: Any) -> tuple[Any, int, dict[str, str]]:
        # The papers pack (GET /papers) and the LA's review record (GET /record, functions/la_record.py).
        if papers is not None and request.path.rstrip("/").endswith(("/papers", "/record")):
            return papers(request)
        return _confirm_reply(request, lambda: service, cloud_logs=False)

    return wsgi_app(reply)
