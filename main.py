"""Review Keeper: entry points. Each command reads its arguments, builds the adapters from settings and calls one job.

python main.py demo                                   # make demo/register.xlsx and sweep it
python main.py sweep register.xlsx                    # compute and write the AR columns
python main.py sweep register.xlsx --dry-run --json   # the machine-readable result, nothing written
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import functions_framework

from connectors.base import Register, RegisterError
from functions.cloud import BadRequest, dispatch_schools, parse_sweep_body, school_from_message, sweep_schools
from functions.confirm import SECURITY_HEADERS, Confirmations, ConfirmPage
from functions.links import LinkConfigError, LinkSigner
from functions.logs import use_cloud_logging
from functions.reporting import OutputError
from functions.settings import (
    CONFIG_NAME,
    SCHOOL_ID_ENV,
    School,
    Settings,
    SettingsError,
    load_schools,
    load_settings,
)
from functions.sweep import SweepResult, london_today, ordered_by_urgency, run_sweep
from review_rules.model import Status
from sheet_schema.ar_columns import STATUS_LABELS, after_meeting_text, next_action, uk_date

EXIT_OK, EXIT_PROBLEM = 0, 2
_ROW_PREFIX = re.compile(r"^row \d+: ")


def _today(text: str | None) -> date:
    if text is None:
        return london_today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SettingsError(f'--today "{text}" is not a date; write it as YYYY-MM-DD, e.g. 2025-10-01.') from None


def _is_sheet(ref: str) -> bool:
    """A Google Sheet URL or key (anything that is not a file here)."""
    if Path(ref).exists():
        return False
    if "docs.google.com/spreadsheets" in ref:
        return True
    from connectors.sheets import is_sheet_reference

    return is_sheet_reference(ref)


def open_register(ref: str) -> Register:
    """A workbook path, or a Google Sheet URL or key."""
    if _is_sheet(ref):
        from connectors.sheets import open_sheet_register

        try:
            # TEMPORARY until functions/bootstrap.py: the composition root passes these settings in.
            return open_sheet_register(
                ref,
                emulator_host=os.environ.get("SHEETS_EMULATOR_HOST"),
                credentials_file=os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"),
            )
        except RegisterError:
            if "docs.google.com" in ref or "://" in ref:
                raise
            # A bare spreadsheet key and no way to reach Google: far more often a mistyped file name (no .xlsx).
            raise RegisterError(
                f"{ref} was not found, and it is not a Google Sheet link. Check the file name (with its .xlsx ending) "
                "and the folder you are in, or give the Sheet's full link."
            ) from None
    from connectors.workbook import WorkbookRegister

    return WorkbookRegister(Path(ref))


def _settings_for(ref: str, config: str | None) -> Settings:
    register_path = None if _is_sheet(ref) else Path(ref)
    return load_settings(Path(config) if config else None, register_path)


def print_summary(result: SweepResult, settings: Settings, out=sys.stdout) -> None:
    ev = result.evaluation
    counts = result.counts()
    print(
        f'Review Keeper: {settings.school_name}: {ev.source}, sheet "{ev.header.sheet}", '
        f"{len(result.pupils)} pupils, computed for {uk_date(result.today)}",
        file=out,
    )
    order = [
        s for s in (Status.OVERDUE, Status.DUE_SOON, Status.INVALID, Status.PREPARE, Status.ON_TRACK, Status.INACTIVE)
    ]
    print("  " + " | ".join(f"{STATUS_LABELS[s]} {counts.get(s, 0)}" for s in order), file=out)
    current: Status | None = None
    for pupil in ordered_by_urgency(result.pupils):
        if pupil.status is Status.INACTIVE:
            continue
        if pupil.status is not current:
            current = pupil.status
            print(f"\n{STATUS_LABELS[current]}", file=out)
        record, clock = pupil.record, pupil.clock
        who = f"row {record.row:<4} {record.short_name or '(no name)':<16}"
        if clock is None or record.facts is None:
            # The line already starts with the row, as the AR issues column does.
            first = _ROW_PREFIX.sub("", pupil.errors[0]) if pupil.errors else ""
            print(f"  {who} {first}", file=out)
            continue
        flags = []
        if clock.pfa_required:
            flags.append("PfA")
        if clock.phase_transfer:
            flags.append(f"transfer: final by {uk_date(clock.phase_transfer.final_by)}")
        if clock.after_meeting is not None and clock.after_meeting.late:
            # reg 20(7)-(10), reg 22(3): a late step after the meeting needs chasing whatever the next review's status.
            flags.append(after_meeting_text(clock, record.facts, result.today))
        flag_text = f"  [{'; '.join(flags)}]" if flags else ""
        print(
            f"  {who} hold by {uk_date(clock.meeting_target)}: {next_action(clock, record.facts, result.today)}{flag_text}",
            file=out,
        )
    issues = sum(1 for p in result.pupils if p.warnings and p.status is not Status.INVALID)
    if issues:
        print(f"\n{issues} other rows have warnings: see the AR issues column.", file=out)
    if result.dry_run:
        print("\nDry run: nothing was written.", file=out)
    elif result.write is not None:
        print(f"\nWritten: {result.write.destination}", file=out)
        if result.write.backup:
            print(f"Backup of your file before this run: {result.write.backup}", file=out)
        for note in result.write.notes:
            print(note, file=out)
        if result.write.missing_keys:
            print(
                f"{len(result.write.missing_keys)} pupils were no longer in the register when writing; "
                "run again to include them.",
                file=out,
            )
    mail = result.mail
    if mail is not None:
        kinds = ("request", "chaser", "invitation", "digest")
        tally = {k: sum(e["kind"] == k for e in mail.sent) for k in kinds}
        kind_counts = ", ".join(f"{n} {k}{'' if n == 1 else 's'}" for k, n in tally.items())
        verb = "would be sent" if result.dry_run else "sent"
        where = f" into the outbox folder {mail.outbox}" if mail.outbox else f" by {mail.transport}"
        print(f"\nEmails {verb}: {len(mail.sent)} ({kind_counts}){where}.", file=out)
        if mail.failures:
            print(f"{len(mail.failures)} emails could not be sent; the next sweep tries them again.", file=out)
        if mail.appended_rows:
            rows = (
                "1 Parent/carer row was" if mail.appended_rows == 1 else f"{mail.appended_rows} Parent/carer rows were"
            )
            print(f"{rows} added to Contributions from the register's parent emails.", file=out)
        for note in mail.notes:
            print(f"  {note}", file=out)


def cmd_sweep(args: argparse.Namespace) -> int:
    import os

    from functions.sweep import mail_setup

    settings = _settings_for(args.register, args.config)
    today = _today(args.today)
    register = open_register(args.register)
    # Outbox and sent-ledger live beside a workbook; for a Google Sheet (no folder of its own), in the working directory.
    base_dir = Path.cwd() if _is_sheet(args.register) else Path(args.register).resolve().parent
    mail = mail_setup(settings, os.environ, base_dir)
    result = run_sweep(
        register,
        today=today,
        settings=settings,
        dry_run=args.dry_run,
        transport=mail.transport,
        ledger=mail.ledger,
        signer=mail.signer,
    )
    if args.json:
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print_summary(result, settings)
        note = links_note(mail.signer, result)
        if note:
            print(f"  {note}")
    return EXIT_OK


def links_note(signer: LinkSigner | None, result: SweepResult) -> str | None:
    """One line when KEEPER_LINK_SECRET is set but KEEPER_BASE_URL is not: the links cannot be made, so the emails ask
    for a reply instead, and the SENDCo would otherwise never know why."""
    if signer is None or signer.base_url or result.mail is None:
        return None
    if any("KEEPER_BASE_URL" in note for note in result.mail.notes):
        return None  # the email step already said so
    return (
        "KEEPER_LINK_SECRET is set but KEEPER_BASE_URL is not, so the emails carry no confirmation link (they ask for "
        "a reply instead); set KEEPER_BASE_URL to the confirmation page's address, e.g. https://keeper.example.org."
    )


DEMO_SECRET = "demo-only-secret-never-use-for-real"  # signs the demo's links only; a real install sets its own
DEMO_BASE_URL = "http://localhost:8080"  # where `main.py serve` listens by default
DEMO_SETTINGS = {
    "school_name": "Oakfield Academy",
    "sendco_name": "Sam Taylor",
    "sendco_email": "sendco@oakfield.example.org",
}
DEMO_CONFIG = f"""# Settings for the demo register (made-up school and SENDCo). Review Keeper reads keeper.toml beside the register.
school_name = "{DEMO_SETTINGS["school_name"]}"
sendco_name = "{DEMO_SETTINGS["sendco_name"]}"
sendco_email = "{DEMO_SETTINGS["sendco_email"]}"

[chasers]
every_days = 7
max = 3

[digest]
day = "monday"
attach_records = true
"""


def write_demo_config(register: Path) -> Path | None:
    """keeper.toml beside the demo register, so later commands on it use the demo school and SENDCo. An existing
    keeper.toml there is the user's own and is kept: returns None then."""
    config = register.parent / CONFIG_NAME
    if config.exists():
        return None
    config.write_text(DEMO_CONFIG, encoding="utf-8")
    return config


def _first_link_email(outbox: Path) -> Path | None:
    """An .eml in the outbox whose email carries a contributor's confirmation link (a request or chaser)."""
    import email
    from email import policy

    for eml in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        if body is not None and "/confirm?t=" in str(body.get_content()):
            return eml
    return None


def cmd_demo(args: argparse.Namespace) -> int:
    from connectors.mail import OutboxTransport
    from connectors.workbook import WorkbookRegister
    from functions.links import LinkSigner
    from functions.mailer import LEDGER_NAME, FileLedger
    from scripts.make_demo import write_demo_register

    today = _today(args.today)
    out = Path(args.out)
    write_demo_register(out, today=today)
    print(f"Wrote a demo register with made-up pupils: {out}")
    config = write_demo_config(out)
    if config is not None:
        print(f"Wrote its settings (the made-up school and SENDCo): {config}")
    print()
    settings = load_settings(None, out)
    # The demo never touches the network, whatever KEEPER_MAIL says: its emails go to an outbox folder beside it. A
    # fresh demo register starts a fresh sent-ledger and outbox, or the ledger would hold back the new demo's emails.
    outbox = out.parent / "outbox"
    ledger_file = out.parent / LEDGER_NAME
    ledger_file.unlink(missing_ok=True)
    if outbox.is_dir():
        for old in outbox.glob("*.eml"):
            old.unlink()
    # Signed as `sweep` signs (KEEPER_SCHOOL_ID, else no school id), so `serve` on this register accepts the links; with
    # the demo's own secret, never the real one, which must not be printed below.
    signer = LinkSigner(DEMO_SECRET, DEMO_BASE_URL, os.environ.get(SCHOOL_ID_ENV, "").strip())
    result = run_sweep(
        WorkbookRegister(out),
        today=today,
        settings=settings,
        transport=OutboxTransport(outbox, "review-keeper@oakfield.example.org"),
        ledger=FileLedger(ledger_file),
        signer=signer,
    )
    print_summary(result, settings)
    print(
        f'\nOpen {out} and look at the columns headed "AR ..." to the right of the register: status, the date to hold '
        "each meeting by, the next action, Year 9 and phase-transfer flags and any problems with a row. The "
        f"Contributions sheet shows who was asked and chased; the emails themselves are .eml files in {outbox}."
    )
    eml = _first_link_email(outbox)
    if eml is not None:
        print(
            f"To try a contributor's link, run  KEEPER_LINK_SECRET={DEMO_SECRET} python main.py serve {out}  and open "
            f'the link in {eml}, then press "I\'ve sent it": the Received cell on its Contributions row fills in.'
        )
    return EXIT_OK


def _could_not_write(exc: OSError) -> OutputError:
    where = exc.filename or "the file"
    reason = exc.strerror or type(exc).__name__
    return OutputError(f"could not write {where} ({reason}); close it if it is open, check the folder, and run again.")


def cmd_records(args: argparse.Namespace) -> int:
    from functions.reporting import records_job

    settings = _settings_for(args.register, args.config)
    try:
        paths = records_job(
            open_register(args.register),
            today=_today(args.today),
            settings=settings,
            out_dir=Path(args.out),
            pupil=args.pupil,
        )
    except OSError as exc:
        raise _could_not_write(exc) from None
    print(f"Wrote {len(paths)} review record{'' if len(paths) == 1 else 's'} to {args.out}")
    return EXIT_OK


def _run_report(args: argparse.Namespace, job_name: str) -> Path:
    """The overview and the calendar: one file each, written from the register, which they never change."""
    from functions import reporting

    job = getattr(reporting, job_name)
    settings = _settings_for(args.register, args.config)
    try:
        out: Path = job(
            open_register(args.register),
            today=_today(args.today),
            settings=settings,
            out=Path(args.out),
            register_ref=args.register,
        )
    except OSError as exc:
        raise _could_not_write(exc) from None
    return out


def cmd_report(args: argparse.Namespace) -> int:
    print(f"Wrote the caseload overview: {_run_report(args, 'overview_job')}")
    return EXIT_OK


def cmd_calendar(args: argparse.Namespace) -> int:
    out = _run_report(args, "calendar_job")
    print(f"Wrote the review deadlines calendar: {out} (import it into Outlook or Google Calendar)")
    return EXIT_OK


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
    sweep.add_argument("register", help="the register: an .xlsx/.xlsm workbook, or a Google Sheet URL or key")
    sweep.add_argument("--today", help="compute as if today were this date (YYYY-MM-DD); default: today in London")
    sweep.add_argument("--config", help="settings file (default: keeper.toml beside the register)")
    sweep.add_argument("--dry-run", action="store_true", help="compute and report, but write nothing and send nothing")
    sweep.add_argument("--json", action="store_true", help="print the machine-readable result (register.md section 7)")
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
    records.add_argument("--out", default="records", help="folder for the .docx files (default records/)")
    records.add_argument("--pupil", help="only this pupil: the sheet row number or the UPN")
    records.set_defaults(func=cmd_records)

    report = sub.add_parser(
        "report",
        help="write the caseload overview workbook (counts, compliance, chart)",
        description="Example: python main.py report register.xlsx --out report.xlsx",
    )
    _report_args(report)
    report.add_argument(
        "--out", default="report.xlsx", help="the overview workbook, or a folder for report.xlsx (default report.xlsx)"
    )
    report.set_defaults(func=cmd_report)

    calendar = sub.add_parser(
        "calendar",
        help="write the review deadlines as a calendar file (.ics)",
        description="Example: python main.py calendar register.xlsx --out reviews.ics",
    )
    _report_args(calendar)
    calendar.add_argument(
        "--out", default="reviews.ics", help="the .ics file, or a folder for reviews.ics (default reviews.ics)"
    )
    calendar.set_defaults(func=cmd_calendar)

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return int(args.func(args))
    except (RegisterError, SettingsError, OutputError) as exc:
        print(f"Review Keeper: {exc}", file=sys.stderr)
        return EXIT_PROBLEM


# ---------------------------------------------------------------------------------------------------------------------
# Cloud Functions entry points (functions-framework). Deployed by scripts/deploy.sh; see DEPLOY.md.
# sweep_http and dispatch are private: Cloud Run IAM admits only the scheduler's service account (its OIDC token), so
# there is no authentication code here. confirm is public: the signed link is the contributor's only credential.


_cloud_log = logging.getLogger("review_keeper.main")
_JSON = {"Content-Type": "application/json", "Cache-Control": "no-store"}


def open_school_register(school: School) -> Register:
    return open_register(school.register)


def _json_reply(payload: dict, status: int = 200) -> tuple[str, int, dict[str, str]]:
    return json.dumps(payload, ensure_ascii=False), status, _JSON


@functions_framework.http
def sweep_http(request) -> tuple[str, int, dict[str, str]]:
    """Cloud Scheduler's daily call: POST {"school": id} sweeps one school, an empty body every school."""
    use_cloud_logging()
    if request.method != "POST":
        return _json_reply({"ok": False, "error": "Use POST."}, 405)
    try:
        schools = load_schools()
        wanted = parse_sweep_body(request.get_data(cache=False), schools)
    except BadRequest as exc:
        return _json_reply({"ok": False, "error": str(exc)}, 400)
    except SettingsError as exc:
        _cloud_log.error("settings could not be loaded", extra={"event": "SettingsError"})
        return _json_reply({"ok": False, "error": str(exc)}, 500)
    result = sweep_schools(
        schools, wanted.school_ids, today=london_today(), open_register=open_school_register, dry_run=wanted.dry_run
    )
    return _json_reply(result, 200 if result["ok"] else 500)


@functions_framework.cloud_event
def sweep_event(cloud_event) -> None:
    """One school's sweep, from a Pub/Sub message {"school": id} published by dispatch."""
    use_cloud_logging()
    schools = load_schools()
    try:
        school = school_from_message(cloud_event.data, schools)
    except BadRequest:
        # Acknowledged, not raised: a malformed message would fail the same way on every redelivery.
        _cloud_log.error("ignored a Pub/Sub message that names no known school", extra={"event": "BadRequest"})
        return
    result = sweep_schools(schools, [school], today=london_today(), open_register=open_school_register)
    if not result["ok"]:
        raise RuntimeError(f"The sweep for school {school} failed; see the log entry before this one.")


@functions_framework.http
def dispatch(request) -> tuple[str, int, dict[str, str]]:
    """A trust's daily call: one Pub/Sub message per school, swept in parallel by sweep_event."""
    from connectors.pubsub import PublishError, PubSubPublisher

    use_cloud_logging()
    project = os.environ.get("KEEPER_PROJECT") or os.environ.get("GOOGLE_CLOUD_PROJECT", "")
    topic = os.environ.get("KEEPER_SWEEP_TOPIC", "keeper-sweep")
    try:
        schools = load_schools()
        publisher = PubSubPublisher.from_env(project, topic)
        return _json_reply(dispatch_schools(schools, publisher))
    except SettingsError as exc:
        return _json_reply({"ok": False, "error": str(exc)}, 500)
    except PublishError as exc:
        _cloud_log.error("dispatch failed", extra={"event": "PublishError"})
        return _json_reply({"ok": False, "error": str(exc)}, 502)


def _open_for_confirm(school: School) -> Register:
    # The contributor's page may read a workbook the SENDCo has open in Excel; writing still waits (the queue).
    if school.register_is_sheet:
        return open_register(school.register)
    from connectors.workbook import WorkbookRegister

    return WorkbookRegister(Path(school.register), read_while_open=True)


def _confirmations() -> Confirmations:
    from functions.evidence_setup import advice_desk

    return Confirmations(
        load_schools(), LinkSigner.from_env(), _open_for_confirm, london_today, advice_desk(dict(os.environ))
    )


@functions_framework.http
def confirm(request) -> tuple[str, int, dict[str, str]]:
    """The contributor's page: GET shows, POST (token in the form body) records Received."""
    use_cloud_logging()
    if request.method not in ("GET", "HEAD", "POST"):
        return "", 405, {**SECURITY_HEADERS, "Allow": "GET, HEAD, POST"}
    try:
        service = _confirmations()
    except (SettingsError, LinkConfigError) as exc:
        _cloud_log.error("confirm is not configured", extra={"event": type(exc).__name__})
        page = ConfirmPage("unavailable", 503)
    else:
        from functions.advice_page import answer

        page = answer(request, service)
    return page.html(), page.status, dict(SECURITY_HEADERS)


def cmd_serve(args: argparse.Namespace) -> int:
    """The confirmation page on this computer, through the same app functions-framework builds in the cloud."""
    from werkzeug.serving import run_simple

    if args.register:
        ref = args.register if _is_sheet(args.register) else str(Path(args.register).resolve())
        os.environ["KEEPER_REGISTER"] = ref
        beside = None if _is_sheet(ref) else Path(ref).parent / "keeper.toml"
        if args.config is None and beside is not None and beside.is_file():
            os.environ["KEEPER_CONFIG"] = str(beside)
    if args.config:
        os.environ["KEEPER_CONFIG"] = str(Path(args.config).resolve())
    schools = load_schools()
    try:
        LinkSigner.from_env()
    except LinkConfigError as exc:
        print(f"Review Keeper: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    app = functions_framework.create_app(target="confirm", source=__file__)
    names = ", ".join(f"{s.id} ({s.register})" for s in schools.values())
    print(f"Review Keeper: confirmation page for {names} on http://{args.host}:{args.port}/confirm?t=...", flush=True)
    # One request at a time: a workbook on disk has one writer.
    run_simple(args.host, args.port, app, threaded=False, use_reloader=False)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
