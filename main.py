"""Review Keeper: entry points. Each command reads its arguments, builds the adapters from settings and calls one job.

python main.py demo                                   # make demo/register.xlsx and sweep it
python main.py sweep register.xlsx                    # compute and write the AR columns
python main.py sweep register.xlsx --dry-run --json   # the machine-readable result, nothing written
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from connectors.base import Register, RegisterError
from functions.settings import Settings, SettingsError, load_settings
from functions.sweep import SweepResult, london_today, ordered_by_urgency, run_sweep
from review_rules.model import Status
from sheet_schema.ar_columns import STATUS_LABELS, next_action, uk_date

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 2, 64


def _today(text: str | None) -> date:
    if text is None:
        return london_today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SystemExit(f'--today "{text}" is not a date; write it as YYYY-MM-DD, e.g. 2025-10-01.') from None


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

        return open_sheet_register(ref)
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
            first = pupil.errors[0] if pupil.errors else ""
            print(f"  {who} {first}", file=out)
            continue
        flags = []
        if clock.pfa_required:
            flags.append("PfA")
        if clock.phase_transfer:
            flags.append(f"transfer: final by {uk_date(clock.phase_transfer.final_by)}")
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


def cmd_sweep(args: argparse.Namespace) -> int:
    settings = _settings_for(args.register, args.config)
    today = _today(args.today)
    register = open_register(args.register)
    result = run_sweep(register, today=today, settings=settings, dry_run=args.dry_run)
    if args.json:
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print_summary(result, settings)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from scripts.make_demo import write_demo_register

    today = _today(args.today)
    out = Path(args.out)
    write_demo_register(out, today=today)
    print(f"Wrote a demo register with made-up pupils: {out}\n")
    settings = load_settings(None, out)
    from connectors.workbook import WorkbookRegister

    result = run_sweep(WorkbookRegister(out), today=today, settings=settings)
    print_summary(result, settings)
    print(
        f'\nOpen {out} and look at the columns headed "AR ..." to the right of the register: status, the date to hold '
        "each meeting by, the next action, Year 9 and phase-transfer flags and any problems with a row."
    )
    return EXIT_OK


def cmd_records(args: argparse.Namespace) -> int:
    from functions.reporting import records_job

    settings = _settings_for(args.register, args.config)
    paths = records_job(
        open_register(args.register),
        today=_today(args.today),
        settings=settings,
        out_dir=Path(args.out),
        pupil=args.pupil,
    )
    print(f"Wrote {len(paths)} review records to {args.out}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from functions.reporting import overview_job

    settings = _settings_for(args.register, args.config)
    out = overview_job(open_register(args.register), today=_today(args.today), settings=settings, out=Path(args.out))
    print(f"Wrote the caseload overview: {out}")
    return EXIT_OK


def cmd_calendar(args: argparse.Namespace) -> int:
    from functions.reporting import calendar_job

    settings = _settings_for(args.register, args.config)
    out = calendar_job(open_register(args.register), today=_today(args.today), settings=settings, out=Path(args.out))
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
    report.add_argument("--out", default="report.xlsx", help="the overview workbook to write (default report.xlsx)")
    report.set_defaults(func=cmd_report)

    calendar = sub.add_parser(
        "calendar",
        help="write the review deadlines as a calendar file (.ics)",
        description="Example: python main.py calendar register.xlsx --out reviews.ics",
    )
    _report_args(calendar)
    calendar.add_argument("--out", default="reviews.ics", help="the .ics file to write (default reviews.ics)")
    calendar.set_defaults(func=cmd_calendar)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return int(args.func(args))
    except (RegisterError, SettingsError) as exc:
        print(f"Review Keeper: {exc}", file=sys.stderr)
        return EXIT_PROBLEM


if __name__ == "__main__":
    sys.exit(main())
