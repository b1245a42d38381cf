"""Review Keeper: entry points. Each one asks the composition root (functions/bootstrap.py) for its settings and
adapters, then runs one job.

python main.py demo                                   # make demo/register.xlsx and sweep it
python main.py sweep register.xlsx                    # compute and write the AR columns
python main.py sweep register.xlsx --dry-run --json   # the machine-readable result, nothing written
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and sys.argv[1:2] == ["sweep"]:
    # Before anything imports openpyxl: a sweep never needs the numpy that openpyxl would load (connectors/lean_import.py).
    from connectors.lean_import import import_openpyxl_without_numpy

    import_openpyxl_without_numpy()

import argparse  # after the lean openpyxl import above, on purpose
import gc
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from connectors.base import RegisterError
from connectors.files import stop_on_sigterm
from functions import bootstrap
from functions.la_cli import add_la_commands
from functions.links import LinkConfigError
from functions.papers_cli import add_papers_command
from functions.reporting import OutputError
from functions.results import links_note, print_summary
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
        today=today,
        settings=here.settings,
        dry_run=args.dry_run,
        transport=mail.transport,
        ledger=mail.ledger,
        signer=mail.signer,
        deadline=mail.deadline,
        queue=here.submission_queue(),
        lease=bootstrap.adapters.local_lease(here.ref),
        lease_wait=here.runtime.lease_wait,
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
            store=here.evidence_store(),
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

    add_papers_command(sub, _report_args, _today)  # papers (issue 12)

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


def tune_collector_for_a_short_run() -> None:
    """A command runs for seconds and then exits, and most of what it allocates (a workbook's hundreds of thousands of
    cells, every pupil's review) lives until it ends: Python's default collector rescans all of it again and again
    looking for garbage cycles that are not there (issue 16: 0.35 s of a 2,000-pupil sweep, 2 s at 10,000). So the
    objects made by the imports are frozen out of every pass, and the young generation is collected after 10,000 new
    container objects instead of 700: that pass still frees the short-lived cycles of building emails, and letting
    100,000 allocations of them pile up cost 30 MB at the peak of a first sweep. The older generations wait for 1,000
    young passes (10 million objects), which a sweep never reaches: with 50, the workbook's cells were rescanned three
    times on the way through (0.32 s of a 10,000-pupil daily sweep, 11.0 -> 10.3 s CPU, peak 286 MB both), and what
    escapes a young pass while still in use is only an email or two per pass (10,000-pupil first sweep, 6,827 emails:
    peak 301 -> 305 MB). Not for `serve`, which runs for hours."""
    gc.freeze()
    gc.set_threshold(10_000, 1_000, 1_000)


def main(argv: Sequence[str] | None = None, *, short_run: bool = False) -> int:
    """`short_run`: this process ends with the command (`python main.py ...`), so the collector may be tuned for it;
    False when called from a longer-lived process (tests, a notebook), whose collector is left alone."""
    args = build_parser().parse_args(argv)
    if short_run and args.func is not cmd_serve:
        tune_collector_for_a_short_run()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    stop_on_sigterm()  # SIGTERM ends a run as Ctrl-C does: a save's temporary file removed, the sweep's lease freed
    try:
        return int(args.func(args))
    except (RegisterError, SettingsError, OutputError, LinkConfigError) as exc:
        print(f"Review Keeper: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    except KeyboardInterrupt as exc:
        from functions.serving import stopped_message  # with the web server it serves: only `serve` needs werkzeug

        message, code = stopped_message(exc)
        print(f"Review Keeper: {message}", file=sys.stderr)
        return code


# ---------------------------------------------------------------------------------------------------------------------
# Cloud Functions entry points: sweep_http, sweep_event, dispatch and confirm (functions/cloud_entry.py). functions-
# framework loads this file and asks it for its target by name; the name is looked up here (PEP 562) and the module
# imported then, so a command-line sweep never loads functions-framework and Flask (issue 16: a tenth of a second and
# 13 MB of every sweep). Deployed by scripts/deploy.sh; see DEPLOY.md.
CLOUD_ENTRY_POINTS = frozenset({"sweep_http", "sweep_event", "dispatch", "confirm", "papers"})
_FROM_CLOUD_ENTRY = {name: name for name in CLOUD_ENTRY_POINTS} | {
    "serve_app": "serve_app",  # these two were defined here before; kept importable from main
    "_confirmations": "confirmations",
}


def __getattr__(name: str) -> Any:
    if name in _FROM_CLOUD_ENTRY:
        from functions import cloud_entry

        return getattr(cloud_entry, _FROM_CLOUD_ENTRY[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def cmd_serve(args: argparse.Namespace) -> int:
    """The confirmation page on this computer: the cloud's confirm handler on a threaded server with per-connection
    timeouts and request limits, whose log never carries a link's token (functions/serving.py)."""
    from functions.cloud_entry import SECURITY_HEADERS, confirmations, serve_app
    from functions.serving import serve

    # The page's GET reads the workbook even while the SENDCo has it open; a contributor's POST still refuses to write.
    dep = replace(bootstrap.deployment(register=args.register, config=args.config), read_while_open=True)
    try:
        from functions.papers_cli import papers_reply

        app = serve_app(confirmations(dep), lambda request: papers_reply(request, dep))
    except LinkConfigError as exc:
        print(f"Review Keeper: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    names = ", ".join(f"{s.settings.school_name} ({s.register})" for s in dep.schools.values())
    page = "Review Keeper: confirmation page for {} on http://{}:{}/confirm?t=..."
    announce = lambda port: print(page.format(names, args.host, port), flush=True)  # noqa: E731
    serve(app, args.host, args.port, error_headers=SECURITY_HEADERS, announce=announce)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(short_run=True))
