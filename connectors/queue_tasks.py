"""A trust's morning through a Cloud Tasks queue (REST API v2, projects.locations.queues.tasks.create): one HTTP task
per school, aimed at the sweep function, which the queue dispatches at its own rate and retries with its own back-off.

Why Cloud Tasks: Google Sheets allows 60 reads and 60 writes a minute per user, and one service account is one user
however many schools it serves. Every school's sweep costs 2 reads and 1 write, so the fan-out must be paced: at
`pace()`, 10% under the reads one account may make (the constants below). A queue's `maxDispatchesPerSecond` is that
pace, enforced by Google whether the dispatch is a first attempt or a retry, and its retry policy (`maxAttempts`,
`minBackoff`) retries a school that failed later the same morning, not the next weekday. Nothing here sleeps or
counts: the managed engine does.

Why the REST API and not google-cloud-tasks: the product already depends on google-auth (Sheets) and requests; the
client library would add gRPC and protobuf (tens of MB, and seconds of cold start on every function) for one call.

Each task is created with:
- a name made of a short hash, the school's id and the day, so a dispatch run twice on one morning (a Cloud Scheduler
  retry) enqueues nothing twice: Cloud Tasks answers 409 ALREADY_EXISTS for a name it has seen, counted here as
  enqueued. (The hash spreads names over the queue's key space, as Google advises for named tasks.)
- a `scheduleTime` stepped at the queue's own rate (the n-th school at start + n / rate, and never in the past when
  creating the tasks falls behind), because the queue's burst size (`maxBurstSize`) is picked by Google from the rate
  and is not ours to set: stepping keeps even the first minute under quota, whatever the burst.
- an OIDC token for the service account the queue calls the sweep function as (Cloud Run IAM checks it).

Authenticated with the function's service account through google-auth's AuthorizedSession. With an emulator host
(CLOUD_TASKS_EMULATOR_HOST, read by functions/bootstrap.py) it talks plain HTTP to that host without credentials, as
the other connectors do for their emulators; tests point it at tests/fakes/tasks_api.py. Every request has a timeout; 429, 5xx
and dropped connections are retried a bounded number of times.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests

from .http_retry import with_retries

EMULATOR_ENV = "CLOUD_TASKS_EMULATOR_HOST"
API_ROOT = "https://cloudtasks.googleapis.com"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# The queue's pace, worked out in ONE place from the Sheets quota: scripts/deploy.sh reads these three lines (awk, so
# keep each as `NAME = whole number`) for its default --queue-rate, and scripts/bench_trust.py imports them.
# Google Sheets: 60 read requests (and, separately, 60 writes) a minute per user, and a service account is one user
# however many schools it serves.
SHEETS_READS_PER_MINUTE = 60
# A school's sweep (and the monthly plan's task) reads twice: one spreadsheets.get of every tab, and the re-read of the
# register tab just before the one batchUpdate, which puts each result on the row that holds the pupil now
# (connectors/sheets.py). Writes are 1 a school, so the reads are what bind.
READS_PER_SCHOOL = 2
# Reads a minute kept back, 10% of the quota: the contributors' page runs as the same account (1 read each time a link
# is opened, by a person or a mail scanner; 2 reads and a write for "I've sent it"); a sweep's retried write re-reads
# first; and above all, some 60 seconds always catch a few reads more than the pace (scripts/bench_trust.py's busiest
# minute: 57-59 reads at a pace of 54, 51 at 48).
RESERVED_READS_PER_MINUTE = 6


def pace(
    reads_per_minute: int = SHEETS_READS_PER_MINUTE,
    reads_per_school: int = READS_PER_SCHOOL,
    reserved: int = RESERVED_READS_PER_MINUTE,
) -> float:
    """Schools a second that keep one account's reads at `reads_per_minute - reserved` a minute."""
    return (reads_per_minute - reserved) / reads_per_school / 60


# (60 - 6) / 2 / 60 = 0.45 schools a second: 27 a minute, 54 reads; 500 schools in about 18.5 minutes.
DEFAULT_RATE = pace()
DISPATCH_DEADLINE = "540s"  # the sweep function's own timeout


class EnqueueError(Exception):
    """The queue could not take the tasks. `str(err)` says what to check."""


@dataclass(frozen=True)
class QueueConfig:
    """Where tasks go and what they call. `rate` must be the queue's --max-dispatches-per-second (deploy.sh sets
    both from the same value)."""

    project: str
    location: str
    queue: str
    target_url: str  # the sweep function's HTTPS address
    service_account: str  # the queue calls the target with an OIDC token for this account
    rate: float = DEFAULT_RATE

    @property
    def queue_path(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/queues/{self.queue}"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> QueueConfig | None:
        """KEEPER_TASKS_QUEUE and friends from a mapping (functions/bootstrap.py passes the environment), as deploy.sh
        sets them; None when no queue is configured."""
        queue = env.get("KEEPER_TASKS_QUEUE", "").strip()
        if not queue:
            return None
        project = (env.get("KEEPER_PROJECT") or env.get("GOOGLE_CLOUD_PROJECT") or "").strip()
        location = env.get("KEEPER_TASKS_LOCATION", "").strip()
        url = env.get("KEEPER_SWEEP_URL", "").strip()
        account = env.get("KEEPER_TASKS_SERVICE_ACCOUNT", "").strip()
        missing = [
            name
            for name, value in (
                ("KEEPER_PROJECT", project),
                ("KEEPER_TASKS_LOCATION", location),
                ("KEEPER_SWEEP_URL", url),
                ("KEEPER_TASKS_SERVICE_ACCOUNT", account),
            )
            if not value
        ]
        if missing:
            raise EnqueueError(
                f"KEEPER_TASKS_QUEUE is set but {', '.join(missing)} is not; run scripts/deploy.sh again."
            )
        raw = env.get("KEEPER_TASKS_RATE", "").strip() or str(DEFAULT_RATE)
        try:
            rate = float(raw)
        except ValueError:
            rate = 0.0
        if not 0 < rate <= 500:  # Cloud Tasks' own ceiling is 500 dispatches a second
            raise EnqueueError(
                f'KEEPER_TASKS_RATE is "{raw}"; give the queue\'s dispatches per second, e.g. {DEFAULT_RATE:g}.'
            )
        return cls(project, location, queue, url, account, rate)


def task_id(school: str, day: date, job: str = "sweep") -> str:
    """Letters, digits, hyphens and underscores only (the API's rule); the same school, day and job give the same id.
    The daily sweep keeps its original name; the monthly plan's tasks end in "-plan", so a plan and a sweep dispatched
    the same morning do not take each other's names."""
    key = f"{school}/{day.isoformat()}" if job == "sweep" else f"{school}/{day.isoformat()}/{job}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    suffix = "" if job == "sweep" else f"-{job}"
    return f"{digest}-{school}-{day:%Y%m%d}{suffix}"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Enqueued:
    school: str
    task: str  # the task's full name
    schedule_time: str
    existed: bool = False  # already enqueued by an earlier dispatch the same day


class CloudTasksQueue:
    def __init__(
        self,
        config: QueueConfig,
        *,
        session: requests.Session | None = None,
        api_root: str = API_ROOT,
        timeout: tuple[float, float] = (5.0, 30.0),
        attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.api_root = api_root.rstrip("/")
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self._sleep = sleep
        self._now = now
        self._session = session

    @classmethod
    def connect(cls, config: QueueConfig, *, emulator_host: str = "", **kwargs: Any) -> CloudTasksQueue:
        """The emulator (or a fake) at `emulator_host` (CLOUD_TASKS_EMULATOR_HOST, read by functions/bootstrap.py)
        over plain HTTP without credentials, else the real API with the runtime's default credentials."""
        host = emulator_host.strip()
        if host:
            root = host if "://" in host else f"http://{host}"
            return cls(config, session=requests.Session(), api_root=root, **kwargs)
        return cls(config, **kwargs)

    @classmethod
    def from_env(cls, config: QueueConfig, env: Mapping[str, str], **kwargs: Any) -> CloudTasksQueue:
        """As connect, with the emulator host from a mapping's CLOUD_TASKS_EMULATOR_HOST (never the process
        environment)."""
        return cls.connect(config, emulator_host=env.get(EMULATOR_ENV, ""), **kwargs)

    def _http(self) -> requests.Session:
        if self._session is None:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            credentials, _ = google.auth.default(scopes=[SCOPE])
            self._session = AuthorizedSession(credentials)
        return self._session

    def task_body(self, school: str, day: date, at: datetime, job: str = "sweep") -> dict[str, Any]:
        config = self.config
        fields = {"school": school} if job == "sweep" else {"school": school, "job": job}
        payload = json.dumps(fields).encode("utf-8")
        return {
            "task": {
                "name": f"{config.queue_path}/tasks/{task_id(school, day, job)}",
                "scheduleTime": _rfc3339(at),
                "dispatchDeadline": DISPATCH_DEADLINE,
                "httpRequest": {
                    "url": config.target_url,
                    "httpMethod": "POST",
                    "headers": {"Content-Type": "application/json"},
                    "body": base64.b64encode(payload).decode("ascii"),
                    "oidcToken": {"serviceAccountEmail": config.service_account, "audience": config.target_url},
                },
            },
            "responseView": "BASIC",
        }

    def enqueue(self, schools: Sequence[str], day: date, job: str = "sweep") -> list[Enqueued]:
        """One task per school (`job`: "sweep", or "plan" for the monthly plan), the n-th due n / rate seconds from
        now. Stops at the first school the queue refuses for good (EnqueueError); the tasks created before it stay, and
        a second dispatch adds only the rest."""
        step = timedelta(seconds=1 / self.config.rate)
        out: list[Enqueued] = []
        at: datetime | None = None
        for school in schools:
            # Never due in the past: a task created after its turn (Cloud Tasks slow to answer, retries) would be
            # dispatched at once, and the ones behind it too, as fast as the queue's burst allows: several sweeps'
            # reads in the same few seconds. So each is due one step after the one before, or now if that is later.
            now = self._now()
            at = now if at is None else max(at + step, now)
            out.append(self._create(school, self.task_body(school, day, at, job)))
        return out

    def _create(self, school: str, body: Mapping[str, Any]) -> Enqueued:
        url = f"{self.api_root}/v2/{self.config.queue_path}/tasks"
        name = str(body["task"]["name"])
        when = str(body["task"]["scheduleTime"])
        response, problem = with_retries(
            lambda: self._http().post(url, json=body, timeout=self.timeout),
            attempts=self.attempts,
            sleep=self._sleep,
            service="Cloud Tasks",
        )
        if response is None:
            raise EnqueueError(
                f"Could not add a task to {self.config.queue_path} after {self.attempts} tries: {problem}."
            )
        status = response.status_code
        if status == 409:
            # The same name today: an earlier dispatch (or this one's lost answer) already enqueued it.
            return Enqueued(school, name, when, existed=True)
        if status == 404:
            raise EnqueueError(
                f"The queue {self.config.queue_path} does not exist; run scripts/deploy.sh --trust to create it."
            )
        if status == 403:
            raise EnqueueError(
                f"Not allowed to add tasks to {self.config.queue_path}; give the service account "
                "roles/cloudtasks.enqueuer on the queue and roles/iam.serviceAccountUser on "
                f"{self.config.service_account}."
            )
        if not response.ok:
            raise EnqueueError(f"Cloud Tasks refused the task for school {school} ({status}).")
        try:
            created = response.json()
        except ValueError:
            raise EnqueueError("Cloud Tasks' answer was not JSON; check CLOUD_TASKS_EMULATOR_HOST.") from None
        return Enqueued(school, str(created.get("name", name)), str(created.get("scheduleTime", when)))


__all__ = [
    "DEFAULT_RATE",
    "EMULATOR_ENV",
    "READS_PER_SCHOOL",
    "RESERVED_READS_PER_MINUTE",
    "SHEETS_READS_PER_MINUTE",
    "CloudTasksQueue",
    "EnqueueError",
    "Enqueued",
    "QueueConfig",
    "pace",
    "task_id",
]
