"""The command line for the LA's clock (issue 14): `las`, `submit` and `la-figures`. main.py adds them with one call,
so its own file stays a few lines per command. Each command: bootstrap, then one job (functions/la_commands.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import bootstrap

if TYPE_CHECKING:  # a plain sweep imports this file through main.py: the record's modules load only for `submit`
    from sheet_schema.model import ReviewedPupil

    from .la_record import RecordKeeping

Today = Callable[[str | None], date]


def add_la_commands(sub: Any, report_args: Callable[[argparse.ArgumentParser], None], today: Today) -> None:
    """`sub`: main.py's subparsers; `report_args` adds REGISTER, --today and --config; `today` reads --today."""

    def las(args: argparse.Namespace) -> int:
        from .la_commands import las_lines

        here = bootstrap.local(args.register, args.config)
        print("\n".join(las_lines(here.register(), today=today(args.today), settings=here.settings)))
        return 0

    def submit(args: argparse.Namespace) -> int:
        from .la_commands import submit_record

        here = bootstrap.local(args.register, args.config)
        mail = here.mail()
        day = today(args.today)
        done = submit_record(here.register(), pupil=args.pupil, today=day, settings=here.settings,
                             transport=mail.transport, ledger=mail.ledger, keeping=record_keeping(here, day),
                             send=args.send)  # fmt: skip
        print("\n".join(done.lines))
        return 0

    def la_figures(args: argparse.Namespace) -> int:
        from .la_commands import trust_la_figures

        dep = bootstrap.deployment(config=args.config)
        out = trust_la_figures(dep.schools, dep.open_register, today=today(args.today), out=Path(args.out))
        print(f"Wrote the LA timeliness figures for {len(dep.schools)} school(s): {out}")
        return 0

    def record_keeping(here: bootstrap.Local, day: date) -> RecordKeeping | None:
        """Where the LA's record is kept and how its links are signed: the papers' folder and the link secret."""
        from sheet_schema.advice import pupil_key

        from .la_record import RecordKeeping, RecordSigner
        from .papers import PapersSigner, served_copy
        from .reporting import records_job

        rt = here.runtime
        # The record is served where the papers are: KEEPER_PAPERS_URL (the cloud's keeper-papers function), else
        # KEEPER_BASE_URL (`serve` answers both), from the folder that serves this school's links (KEEPER_SCHOOL_ID's).
        base = rt.papers_url or rt.base_url
        if not rt.link_secret or not base:
            return None
        folder = bootstrap.papers_folder(here.ref, rt, rt.school_id)
        packs = PapersSigner(rt.link_secret, base, rt.school_id)

        def write_record(row: int, work: Path) -> Path:
            register = here.register(read_only=True)
            (path,) = records_job(register, today=day, settings=here.settings, out_dir=work, pupil=str(row),
                                  store=here.evidence_store())  # fmt: skip
            return path

        def pack_for(pupil: ReviewedPupil, meeting: date) -> Path | None:
            # The pack `papers --send` published for this meeting (functions/papers_job.py names it the same way).
            pack = served_copy(folder, packs.pack_id(pupil_key(pupil.record.upn or pupil.record.name), meeting))
            return pack if pack.is_file() else None

        return RecordKeeping(RecordSigner(rt.link_secret, base, rt.school_id), folder, write_record, pack_for)

    p = sub.add_parser(
        "las",
        help="list the LAs in the register, their pupils (counts) and their keeper.toml profiles",
        description="Example: python main.py las register.xlsx",
    )
    report_args(p)
    p.set_defaults(func=las)

    p = sub.add_parser(
        "submit",
        help="email one pupil's review record to their LA as a signed link (where its profile says submit = email)",
        description="Example: python main.py submit register.xlsx --pupil 7 --send",
    )
    report_args(p)
    p.add_argument("--pupil", required=True, help="the pupil: the sheet row number or the UPN")
    p.add_argument("--send", action="store_true", help="send it (without: say what would go)")
    p.set_defaults(func=submit)

    p = sub.add_parser(
        "la-figures",
        help="a trust's LA timeliness: per LA and per school, across keeper.toml's [[schools]]",
        description="Example: python main.py la-figures --config keeper.toml --out la-figures.xlsx",
    )
    p.add_argument("--config", help="settings file with [[schools]] (default: KEEPER_CONFIG or keeper.toml)")
    p.add_argument("--today", help="compute as if today were this date (YYYY-MM-DD); default: today in London")
    p.add_argument("--out", default="la-figures.xlsx", help="the workbook to write (default la-figures.xlsx)")
    p.set_defaults(func=la_figures)


__all__ = ["add_la_commands"]
