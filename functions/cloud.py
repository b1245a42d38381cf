"""The jobs behind the cloud entry points: sweep one or every school, read a Pub/Sub message, fan out one message per
school. `main.py` turns requests into calls here; these take their adapters as arguments, so tests run them for real
against workbooks on disk and a local fake Pub/Sub endpoint.

Every handler is safe to run twice (Cloud Scheduler retries, Pub/Sub redelivers at least once): a sweep recomputes the
AR columns from the register, and the emails it sends are kept to once by the sent-ledger and the sheet's own columns.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from connectors.base import Register, RegisterError
from connectors.lease import DEFAULT_WAIT, Lease, SweepAlreadyRunning
from connectors.submission_queue import SubmissionQueue

from .results import SweepResult
from .settings import School, SettingsError
from .sweep import MailSetup, run_sweep

log = logging.getLogger("review_keeper.cloud")

SweepRunner = Callable[[School, Register, date, bool], SweepResult]


class BadRequest(Exception):
    """A request the handler cannot act on. `str(err)` is the JSON error's text; the HTTP status is 400."""


class Publisher(Protocol):
    def publish(self, payloads: Sequence[bytes], attributes: Mapping[str, str] | None = None) -> list[str]: ...


class TaskQueue(Protocol):
    """connectors/queue_tasks.py's CloudTasksQueue: one task per school, paced and retried by the queue."""

    def enqueue(self, schools: Sequence[str], day: date, job: str = "sweep") -> Sequence[Any]: ...


# In the cloud only smtp, sendgrid and graph (Microsoft 365) send. "none" is what `scripts/deploy.sh --mail none` sets: the sweep writes the
# register's AR columns and sends nothing.
NO_MAIL = "none"

OUTBOX_IN_CLOUD = (
    "No emails were sent: the mail transport is the outbox, whose files are lost with the function's disk, so the "
    "sweep wrote the AR columns only; redeploy with scripts/deploy.sh --mail smtp, sendgrid, graph or none (DEPLOY.md, step 4)."
)
MAIL_OFF = "Emails are off in this deployment (KEEPER_MAIL=none): the sweep wrote the AR columns only."


def school_runner(
    mail_for: Callable[[School], MailSetup],
    queue_for: Callable[[School], SubmissionQueue] | None = None,
    lease_for: Callable[[School], Lease] | None = None,
    lease_wait: float = DEFAULT_WAIT,
) -> SweepRunner:
    """A school's sweep with its emails, sent by SMTP or SendGrid (KEEPER_MAIL). `mail_for` builds the school's
    transport, ledger and signer (functions/bootstrap.py); KEEPER_STATE_DIR should name lasting storage for the
    sent-ledger, because the function's own disk is gone after each run (DEPLOY.md, step 4a).

    With KEEPER_MAIL=none, or an outbox (unset, or "outbox"), the sweep writes the AR columns and plans no email: an
    outbox's .eml files would vanish with the disk, yet the sheet and the ledger would record them as sent (Requested,
    Chasers), so switching to SendGrid later would never send those requests. The outbox case is logged as a WARNING,
    once per school per sweep, with the fix. A dry run does the same, so it shows what the real run would do.

    `lease_for`: the school's sweep lease (a Cloud Storage object or a file in KEEPER_STATE_DIR): two deliveries of one
    Pub/Sub message, or the scheduler's retry while a sweep still runs, never sweep one school twice at once."""

    def run(school: School, register: Register, today: date, dry_run: bool) -> SweepResult:
        queue = queue_for(school) if queue_for is not None else None  # advice that waited for the register
        lease = lease_for(school) if lease_for is not None else None
        kind = school.settings.mail.kind
        if kind in (NO_MAIL, "outbox"):
            if kind == "outbox":
                log.warning(
                    OUTBOX_IN_CLOUD, extra={"school": school.id, "event": "OutboxInCloud", "outcome": "no-email"}
                )
            result = run_sweep(
                register,
                today=today,
                settings=school.settings,
                dry_run=dry_run,
                queue=queue,
                lease=lease,
                lease_wait=lease_wait,
            )
            result.extra["mail_off"] = OUTBOX_IN_CLOUD if kind == "outbox" else MAIL_OFF
            return result
        mail = mail_for(school)
        return run_sweep(
            register,
            today=today,
            settings=school.settings,
            dry_run=dry_run,
            transport=mail.transport,
            ledger=mail.ledger,
            signer=mail.signer,
            deadline=mail.deadline,
            queue=queue,
            lease=lease,
            lease_wait=lease_wait,
        )

    return run


@dataclass(frozen=True)
class SweepRequest:
    school_ids: tuple[str, ...]
    dry_run: bool = False
    job: str = (
        "sweep"  # "plan": the monthly plan's task for one school (dispatch {"job": "plan"} in a queue deployment)
    )


def parse_sweep_body(body: bytes | str | None, schools: Mapping[str, Any]) -> SweepRequest:
    """`{"school": "oakfield"}` sweeps one school; an empty body or `{}` sweeps every school; `"dry_run": true` writes
    and sends nothing. Anything else is a BadRequest naming what was wrong."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    if not text.strip():
        return SweepRequest(tuple(schools))
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:
        raise BadRequest('The request body is not JSON; send {"school": "<id>"} or nothing at all.') from None
    if not isinstance(payload, dict):
        raise BadRequest('The request body must be a JSON object such as {"school": "<id>"}.')
    unknown = set(payload) - {"school", "dry_run", "job"}
    if unknown:
        raise BadRequest(f"Unknown field {sorted(unknown)[0]!r}; the fields are school, dry_run and job.")
    dry_run = payload.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise BadRequest("dry_run must be true or false.")
    job = payload.get("job", "sweep")
    if job not in ("sweep", "plan"):
        raise BadRequest(f'job is {job!r}; use "sweep" or "plan".')
    school = payload.get("school")
    if school is None:
        return SweepRequest(tuple(schools), dry_run, job)
    return SweepRequest((school_id(school, schools),), dry_run, job)


def school_id(value: Any, schools: Mapping[str, Any]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest('school must be a school id in quotes, e.g. {"school": "oakfield"}.')
    if value not in schools:
        raise BadRequest(f"No school with the id {value!r} in this deployment's settings.")
    return value


def school_from_message(data: Any, schools: Mapping[str, Any]) -> str:
    """The school id in a Pub/Sub CloudEvent's data ({"message": {"data": base64 JSON {"school": id}}}), or the
    message's `school` attribute. BadRequest for anything else."""
    if not isinstance(data, Mapping) or not isinstance(data.get("message"), Mapping):
        raise BadRequest("The event is not a Pub/Sub message (no message in its data).")
    message = data["message"]
    attributes = message.get("attributes") or {}
    encoded = message.get("data")
    if encoded:
        try:
            payload = json.loads(base64.b64decode(str(encoded), validate=True).decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise BadRequest('The message data is not base64 JSON such as {"school": "<id>"}.') from None
        if not isinstance(payload, dict) or "school" not in payload:
            raise BadRequest('The message data must be a JSON object such as {"school": "<id>"}.')
        return school_id(payload["school"], schools)
    if isinstance(attributes, Mapping) and "school" in attributes:
        return school_id(attributes["school"], schools)
    raise BadRequest("The message names no school.")


def _school_summary(school: School, result: SweepResult) -> dict[str, Any]:
    """Counts only: the response goes to Cloud Scheduler and its logs, so it names no pupil."""
    counts = Counter(p.status.value for p in result.pupils)
    out: dict[str, Any] = {
        "school": school.id,
        "ok": True,
        "today": result.today.isoformat(),
        "dry_run": result.dry_run,
        "pupils": len(result.pupils),
        "counts": dict(sorted(counts.items())),
    }
    if result.write is not None:
        out["written_rows"] = result.write.written_rows
        out["missing_rows"] = len(result.write.missing_keys)
    if result.mail is not None:
        out["emails"] = len(result.mail.sent)
    mail_off = result.extra.get("mail_off")
    if isinstance(mail_off, str):
        out["emails"] = 0
        out["mail_off"] = mail_off
    return out


def sweep_schools(
    schools: Mapping[str, School],
    ids: Sequence[str],
    *,
    today: date,
    open_register: Callable[[School], Register],
    runner: SweepRunner,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Sweep each school in turn. One school's broken register never stops the others; it is reported in the result
    (`ok` false) and logged by its id and the error's kind, never its text (which may quote a cell)."""
    summaries: list[dict[str, Any]] = []
    for school_ref in ids:
        school = schools[school_ref]
        try:
            register = open_register(school)
            result = runner(school, register, today, dry_run)
        except SweepAlreadyRunning as exc:
            # Not a failure: the sweep that holds the lease is doing this school's work (a redelivered message, a
            # retry). ok stays true so the scheduler and Pub/Sub do not retry again.
            log.warning(
                "sweep skipped: a sweep of this school is already running",
                extra={"school": school.id, "event": "SweepAlreadyRunning", "outcome": "skipped"},
            )
            summaries.append({"school": school.id, "ok": True, "skipped": str(exc)})
            continue
        except (RegisterError, SettingsError, OSError, ValueError) as exc:
            log.error(
                "sweep failed for one school",
                extra={"school": school.id, "event": type(exc).__name__, "outcome": "failed"},
            )
            summaries.append({"school": school.id, "ok": False, "error": str(exc)})
            continue
        summary = _school_summary(school, result)
        log.info(
            "sweep done",
            extra={
                "school": school.id,
                "counts": {"pupils": summary["pupils"], **summary["counts"]},
                "written_rows": summary.get("written_rows", 0),
                "outcome": "ok",
            },
        )
        summaries.append(summary)
    return {"today": today.isoformat(), "ok": all(s["ok"] for s in summaries), "schools": summaries}


def post_only() -> tuple[str, int, dict[str, str]]:
    """The 405 for sweep_http and dispatch: a GET (a browser, a link preview, a crawler) changes nothing; sweeping and
    publishing happen only on the scheduler's POST, which Cloud Run IAM has authenticated (its OIDC token; DEPLOY.md)."""
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store", "Allow": "POST"}
    return json.dumps({"ok": False, "error": "Use POST."}), 405, headers


def dispatch_schools(schools: Mapping[str, School], publisher: Publisher, job: str = "sweep") -> dict[str, Any]:
    """One Pub/Sub message per school, so Cloud Functions sweeps (or, with job "plan", plans) them in parallel."""
    from .plan_cloud import plan_payloads

    ids = list(schools)
    payloads = plan_payloads(ids) if job == "plan" else [json.dumps({"school": i}).encode("utf-8") for i in ids]
    message_ids = publisher.publish(payloads, {"job": job})
    log.info("dispatched sweeps", extra={"counts": {"schools": len(ids), "messages": len(message_ids)}})
    return {"ok": True, "published": len(message_ids), "schools": ids}


def enqueue_schools(
    schools: Mapping[str, School], queue: TaskQueue, *, today: date, job: str = "sweep"
) -> dict[str, Any]:
    """One Cloud Tasks task per school: the queue sweeps them at its own rate, inside one service account's Sheets
    quota, and retries a school whose sweep failed later the same morning (DEPLOY.md step 4b). Tasks are named per
    school and day, so dispatching twice the same morning adds nothing. With job "plan" each task plans its school
    (the monthly plan: it reads the register once and sends nothing)."""
    ids = list(schools)
    done = queue.enqueue(ids, today, job)
    existed = sum(bool(getattr(e, "existed", False)) for e in done)
    log.info(
        "dispatched sweeps", extra={"counts": {"schools": len(ids), "tasks": len(done) - existed, "existed": existed}}
    )
    return {"ok": True, "enqueued": len(done) - existed, "already_enqueued": existed, "schools": ids}


def late_attempt(headers: Mapping[str, str]) -> dict[str, Any] | None:
    """What Cloud Tasks says about a retried task (X-CloudTasks-TaskRetryCount > 0): the attempt's number and the
    previous attempt's HTTP status, for the log line that says a school was swept late and why. None for a first
    attempt or a call that is not from the queue."""
    try:
        retries = int(headers.get("X-CloudTasks-TaskRetryCount", "0") or 0)
    except ValueError:
        return None
    if retries <= 0:
        return None
    previous = headers.get("X-CloudTasks-TaskPreviousResponse", "") or "none (the sweep did not answer in time)"
    return {"attempt": retries + 1, "previous_response": previous}


__all__ = [
    "MAIL_OFF",
    "NO_MAIL",
    "OUTBOX_IN_CLOUD",
    "BadRequest",
    "Publisher",
    "SweepRequest",
    "TaskQueue",
    "dispatch_schools",
    "enqueue_schools",
    "late_attempt",
    "parse_sweep_body",
    "post_only",
    "school_from_message",
    "school_id",
    "school_runner",
    "sweep_schools",
]
