"""Review Keeper: entry points. Each one asks the composition root (functions/bootstrap.py) for its settings and
adapters, then runs one job.

python main.py demo                                   # make demo/register.xlsx and sweep it
python main.py sweep register.xlsx                    # compute and write the AR columns
python main.py sweep register.xlsx --dry-run --json   # the machine-readable result, nothing written
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import functions_framework

from connectors.base import RegisterError
from functions import bootstrap
from functions.cloud import (
    BadRequest,
    dispatch_schools,
    parse_sweep_body,
    post_only,
    school_from_message,
    school_runner,
    sweep_schools,
)
from functions.confirm import SECURITY_HEADERS, Confirmations, ConfirmPage
from functions.evaluate import london_today
from functions.la_cli import add_la_commands
from functions.links import LinkConfigError
from functions.logs import use_cloud_logging
from functions.plan_cloud import JobError, job_of_body, job_of_message, plan_schools
from functions.reporting import OutputError
from functions.results import links_note, print_summary
from functions.serving import serve, stop_on_sigterm, stopped_message, wsgi_app
from functions.settings import SettingsError
from functions.sweep import run_sweep

EXIT_OK, EXIT_PROBLEM = 0, 2


def _today(text: str | None) -> date:
    return bootstrap.today_from(text)


def cmd_sweep(args: argparse.Namespace) -> int:
    here = bootstrap.local(args.register, args.config)
    today = _today(args.today)
    register, mail = here.register(read_only=args.dry_run), here.mail()
    result = run_sweep(
        register,
        lease=bootstrap.adapters.local_lease(here.ref),
        lease_wait=here.runtime.lease_wait,
        today=today,
        settings=here.settings,
        dry_run=args.dry_run,
        transport=mail.transport,
        ledger=mail.ledger,
        signer=mail.signer,
        deadline=mail.deadline,
    )
    if args.json:
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print_summary(result, here.settings)
        note = links_note(mail.signer, result)
        if note:
            print(f"  {note}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from functions.demo import run_demo
    from scripts.make_demo import write_demo_register

    today = _today(args.today)
    run_demo(
        Path(args.out),
        today=today,
        write_register=write_demo_register,
        load_settings=lambda out: bootstrap.local(str(out)).settings,
        school_id=bootstrap.runtime().school_id,
        python=_python_hint(),
    )
    return EXIT_OK


def _python_hint() -> str:
    """The interpreter running now, as the SENDCo would type it (".venv/bin/python"): a bare `python` lacks the packages."""
    exe = Path(sys.executable)
    try:
        return str(exe.relative_to(Path.cwd()))
    except ValueError:
        return str(exe)


def _could_not_write(exc: OSError) -> OutputError:
    where = exc.filename or "the file"
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"could not write {where} ({reason}); close it if it is open, check the folder, and run again.")


def cmd_records(args: argparse.Namespace) -> int:
    from functions.reporting import records_job

    here = bootstrap.local(args.register, args.config)
    try:
        paths = records_job(
            here.register(read_only=True),
            today=_today(args.today),
            settings=here.settings,
            out_dir=(out := here.output(args.out, "records")),
            pupil=args.pupil,
        )
    except OSError as exc:
        raise _could_not_write(exc) from None
    print(f"Wrote {len(paths)} review record{'' if len(paths) == 1 else 's'} to {out}")
    return EXIT_OK


def _run_report(args: argparse.Namespace, job_name: str, default: str) -> Path:
    """The overview and the calendar: one file each, written from the register, which they never change."""
    from functions import reporting

    job = getattr(reporting, job_name)
    here = bootstrap.local(args.register, args.config)
    try:
        out: Path = job(
            here.register(read_only=True),
            today=_today(args.today),
            settings=here.settings,
            out=here.output(args.out, default),
            register_ref=args.register,
        )
    except OSError as exc:
        raise _could_not_write(exc) from None
    return out


def cmd_report(args: argparse.Namespace) -> int:
    print(f"Wrote the caseload overview: {_run_report(args, 'overview_job', 'report.xlsx')}")
    return EXIT_OK


def cmd_calendar(args: argparse.Namespace) -> int:
    out = _run_report(args, "calendar_job", "reviews.ics")
    print(f"Wrote the review deadlines calendar: {out} (import it into Outlook or Google Calendar)")
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from functions.plan_command import plan_command

    here = bootstrap.local(args.register, args.config)
    return plan_command(
        here.register(read_only=args.dry_run), here.settings, today=_today(args.today), weeks=args.weeks, as_json=args.json,
        dry_run=args.dry_run, accept=args.accept, la_list=args.la_list,
    )  # fmt: skip


def _report_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("register", help="the register: an .xlsx/.xlsm workbook, or a Google Sheet URL or key")
    parser.add_argument("--today", help="compute as if today were this date (YYYY-MM-DD); default: today in London")
    parser.add_argument("--config", help="settings file (default: keeper.toml beside the register)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="main.py", description="Review Keeper: EHCP annual review deadlines.")
    parser.add_argument("--verbose", action="store_true", help="log progress (never personal data) to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    sweep = sub.add_parser(
        "sweep",
        help="compute every review's deadlines and write the AR columns",
        description="Example: python main.py sweep register.xlsx --today 2025-10-01 --dry-run --json",
    )
    sweep.add_argument(
        "register",
        help="the register: an .xlsx/.xlsm workbook, a Google Sheet URL or key, or a OneDrive/SharePoint link",
    )
    sweep.add_argument("--today", help="compute as if today were this date (YYYY-MM-DD); default: today in London")
    sweep.add_argument("--config", help="settings file (default: keeper.toml beside the register)")
    sweep.add_argument("--dry-run", action="store_true", help="compute and report, but write nothing and send nothing")
    sweep.add_argument("--json", action="store_true", help="print the machine-readable result (docs/register.md s7)")
    sweep.set_defaults(func=cmd_sweep)

    demo = sub.add_parser(
        "demo",
        help="write a demo register with made-up pupils and sweep it",
        description="Example: python main.py demo   (writes demo/register.xlsx)",
    )
    demo.add_argument("--out", default="demo/register.xlsx", help="where to write it (default demo/register.xlsx)")
    demo.add_argument("--today", help="build and sweep the demo as if today were this date (YYYY-MM-DD)")
    demo.set_defaults(func=cmd_demo)

    records = sub.add_parser(
        "records",
        help="write a Word review record for each pupil (or one) ready for the meeting",
        description="Example: python main.py records register.xlsx --out records --pupil 7",
    )
    _report_args(records)
    records.add_argument("--out", help="folder for the .docx files (default: records/ beside the register)")
    records.add_argument("--pupil", help="only this pupil: the sheet row number or the UPN")
    records.set_defaults(func=cmd_records)

    report = sub.add_parser(
        "report",
        help="write the caseload overview workbook (counts, compliance, chart)",
        description="Example: python main.py report register.xlsx --out report.xlsx",
    )
    _report_args(report)
    report.add_argument(
        "--out", help="the overview workbook, or a folder for report.xlsx (default: report.xlsx beside the register)"
    )
    report.set_defaults(func=cmd_report)

    calendar = sub.add_parser(
        "calendar",
        help="write the review deadlines as a calendar file (.ics)",
        description="Example: python main.py calendar register.xlsx --out reviews.ics",
    )
    _report_args(calendar)
    calendar.add_argument(
        "--out", help="the .ics file, or a folder for reviews.ics (default: reviews.ics beside the register)"
    )
    calendar.set_defaults(func=cmd_calendar)

    plan = sub.add_parser(
        "plan",
        help="propose a meeting date for every unbooked review, spread to fit your capacity ([capacity] settings)",
        description="Example: python main.py plan register.xlsx --weeks 20 --dry-run   (then --accept all)",
    )
    _report_args(plan)
    plan.add_argument("--weeks", type=int, help="plan the next N school weeks (default: up to each deadline, max 52)")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.add_argument("--dry-run", action="store_true", help="plan and report, but write nothing")
    plan.add_argument(
        "--accept", help="copy suggestions into the planned meeting column (blank cells only): ROW, UPN or all"
    )
    plan.add_argument("--la-list", help="the LA's termly list (CSV or .xlsx) to compare with the register")
    plan.set_defaults(func=cmd_plan)

    add_la_commands(sub, _report_args, _today)  # las, submit, la-figures (issue 14)

    serve = sub.add_parser(
        "serve",
        help="run the contributors' confirmation page on this computer",
        description="Example: KEEPER_LINK_SECRET=... python main.py serve register.xlsx --port 8080",
    )
    serve.add_argument("register", nargs="?", help="the register (default: KEEPER_REGISTER or keeper.toml's schools)")
    serve.add_argument("--port", type=int, default=8080, help="the port to listen on (default 8080)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    serve.add_argument("--config", help="settings file (default: keeper.toml beside the register)")
    serve.set_defaults(func=cmd_serve)

    login = sub.add_parser(
        "m365-login",
        help="sign the school's Microsoft 365 account in once (a code to type at microsoft.com/devicelogin)",
        description="Example: KEEPER_TOKEN_KEY=... python main.py m365-login   (see DEPLOY.md, Microsoft 365 schools)",
    )
    login.add_argument("--config", help="settings file with the [m365] table (default: keeper.toml here)")
    login.add_argument(
        "--token-cache", help="where to keep the encrypted sign-in (default: KEEPER_STATE_DIR/m365-tokens.bin)"
    )
    login.add_argument("--new-key", action="store_true", help="print a new KEEPER_TOKEN_KEY and stop")
    login.set_defaults(func=cmd_m365_login)
    return parser


def cmd_m365_login(args: argparse.Namespace) -> int:
    from connectors.graph_http import GraphError
    from functions.m365 import m365_login, new_token_key

    if args.new_key:
        print(new_token_key())
        print("Keep this key with the school's other secrets as KEEPER_TOKEN_KEY (Secret Manager in the cloud).")
        return EXIT_OK
    settings = bootstrap.m365(args.config, args.token_cache)
    try:
        account = m365_login(settings, print)
    except GraphError as exc:
        print(f"Review Keeper: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    print(f"Signed in as {account}. The sign-in is stored, encrypted with KEEPER_TOKEN_KEY, in {settings.token_cache}.")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    stop_on_sigterm()  # SIGTERM ends a run as Ctrl-C does: a save's temporary file removed, the sweep's lease freed
    try:
        return int(args.func(args))
    except (RegisterError, SettingsError, OutputError, LinkConfigError) as exc:
        print(f"Review Keeper: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    except KeyboardInterrupt as exc:
        message, code = stopped_message(exc)
        print(f"Review Keeper: {message}", file=sys.stderr)
        return code


# ---------------------------------------------------------------------------------------------------------------------
# Cloud Functions entry points (functions-framework). Deployed by scripts/deploy.sh; see DEPLOY.md.
# sweep_http and dispatch are private: Cloud Run IAM admits only the scheduler's service account (its OIDC token), so
# there is no authentication code here. confirm is public: the signed link is the contributor's only credential.


_cloud_log = logging.getLogger("review_keeper.main")
_JSON = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def _json_reply(payload: dict, status: int = 200) -> tuple[str, int, dict[str, str]]:
    return json.dumps(payload, ensure_ascii=False), status, _JSON


@functions_framework.http
def sweep_http(request) -> tuple[str, int, dict[str, str]]:
    """Cloud Scheduler's daily call: POST {"school": id} sweeps one school, an empty body every school."""
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
    result = sweep_schools(
        dep.schools,
        wanted.school_ids,
        today=london_today(),
        open_register=dep.open_register,
        runner=school_runner(dep.mail, dep.lease, dep.runtime.lease_wait),
        dry_run=wanted.dry_run,
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
        runner = school_runner(dep.mail, dep.lease, dep.runtime.lease_wait)
        result = sweep_schools(
            dep.schools, [school], today=london_today(), open_register=dep.open_register, runner=runner
        )
    if not result["ok"]:
        raise RuntimeError(f"The sweep for school {school} failed; see the log entry before this one.")


@functions_framework.http
def dispatch(request) -> tuple[str, int, dict[str, str]]:
    """A trust's daily call: one Pub/Sub message per school, swept in parallel by sweep_event."""
    from connectors.pubsub import PublishError

    use_cloud_logging()
    if request.method != "POST":
        return post_only()
    try:
        job = job_of_body(request.get_data(cache=False))  # {"job": "plan"}: the monthly plan (README)
        dep = bootstrap.deployment()
        return _json_reply(dispatch_schools(dep.schools, bootstrap.publisher(dep.runtime), job))
    except JobError as exc:
        return _json_reply({"ok": False, "error": str(exc)}, 400)
    except SettingsError as exc:
        return _json_reply({"ok": False, "error": str(exc)}, 500)
    except PublishError as exc:
        _cloud_log.error("dispatch failed", extra={"event": "PublishError"})
        return _json_reply({"ok": False, "error": str(exc)}, 502)


def _confirmations(dep: bootstrap.Deployment) -> Confirmations:
    """Links are verified without a school binding: the claim's own school picks the register."""
    return Confirmations(dep.schools, bootstrap.link_signer(dep.runtime), dep.open_register, london_today)


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
        if request.method == "POST":
            page = confirmations.record(request.form.get("t"), request.form.get("note"))
        else:
            page = confirmations.show(request.args.get("t"))
    return page.html(), page.status, dict(SECURITY_HEADERS)


@functions_framework.http
def confirm(request) -> tuple[str, int, dict[str, str]]:
    return _confirm_reply(request, lambda: _confirmations(bootstrap.deployment()))


def serve_app(service: Confirmations) -> Callable[..., Any]:
    """The WSGI app `serve` runs: the cloud's confirm handler, on every path, with settings built once at start."""
    return wsgi_app(lambda request: _confirm_reply(request, lambda: service, cloud_logs=False))


def cmd_serve(args: argparse.Namespace) -> int:
    """The confirmation page on this computer: the cloud's confirm handler on a threaded server with per-connection
    timeouts and request limits, whose log never carries a link's token (functions/serving.py)."""
    # The page's GET reads the workbook even while the SENDCo has it open; a contributor's POST still refuses to write.
    dep = replace(bootstrap.deployment(register=args.register, config=args.config), read_while_open=True)
    try:
        app = serve_app(_confirmations(dep))
    except LinkConfigError as exc:
        print(f"Review Keeper: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    names = ", ".join(f"{s.settings.school_name} ({s.register})" for s in dep.schools.values())
    page = "Review Keeper: confirmation page for {} on http://{}:{}/confirm?t=..."
    announce = lambda port: print(page.format(names, args.host, port), flush=True)  # noqa: E731
    serve(app, args.host, args.port, error_headers=SECURITY_HEADERS, announce=announce)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
