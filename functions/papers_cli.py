"""The command line and the web side of the papers pack (docs/rules.md s6; docs/register.md s8): `papers REGISTER
--pupil ROW|UPN [--send]`, and the reply to a download link (GET /papers?t=...). main.py adds them with one call each,
so its own file stays a few lines per command. Each: bootstrap, then one job (functions/papers_job.py, papers.py)."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from . import bootstrap
from .evaluate import london_today
from .reporting import OutputError
from .settings import SettingsError

Today = Callable[[str | None], date]


def add_papers_command(sub: Any, report_args: Callable[[argparse.ArgumentParser], None], today: Today) -> None:
    """`sub`: main.py's subparsers; `report_args` adds REGISTER, --today and --config; `today` reads --today."""

    def papers(args: argparse.Namespace) -> int:
        from .papers_job import papers_job

        here = bootstrap.local(args.register, args.config)
        sending = here.papers_sending() if args.send else None
        with tempfile.TemporaryDirectory(prefix="keeper-lo-") as profile:
            try:
                outcome = papers_job(
                    here.register(), today=today(args.today), settings=here.settings, pupil=args.pupil,
                    out_dir=Path(args.out), store=here.evidence_store(), profile=Path(profile), sending=sending,
                )  # fmt: skip
            except OSError as exc:
                raise OutputError(f"The papers could not be written to {args.out} ({exc.strerror}).") from None
        print(f"Wrote the papers ({outcome.pages} pages) to {outcome.pack}")
        for line in [*outcome.left_out, *outcome.failures]:
            print(f"  {line}")
        if sending is not None:
            print(f"Sent a download link to {outcome.sent_to} invitee{'' if outcome.sent_to == 1 else 's'}.")
        return 0

    p = sub.add_parser(
        "papers",
        help="one pupil's papers pack as a PDF (record and reports); --send emails each invitee a download link",
        description="Example: python main.py papers register.xlsx --pupil 7 --send",
    )
    report_args(p)
    p.add_argument("--pupil", required=True, help="the pupil: the sheet row number or the UPN")
    p.add_argument("--out", default="papers", help="folder for the PDF (default papers/)")
    p.add_argument("--send", action="store_true", help="email each invitee a link to download it")
    p.set_defaults(func=papers)


def papers_reply(request: Any, dep: bootstrap.Deployment) -> tuple[bytes, int, dict[str, str]]:
    """GET /papers?t=...: a papers pack for a genuine, unexpired download link (functions/papers.py). GET /record?t=...
    (the LA's link from `submit --send`) is answered here too, so `serve` and the `papers` target serve both."""
    from .confirm import SECURITY_HEADERS, ConfirmPage
    from .papers import download

    if str(getattr(request, "path", "")).rstrip("/").endswith("/record"):
        return record_reply(request, dep)
    try:
        signer = bootstrap.papers_signer(dep.runtime, school="")
    except SettingsError:
        page = ConfirmPage("unavailable", 503)
        return page.html().encode("utf-8"), page.status, dict(SECURITY_HEADERS)
    return download(request.args.get("t"), signer=signer, folder_for=dep.papers_folders(), today=london_today())


def record_reply(request: Any, dep: bootstrap.Deployment) -> tuple[bytes, int, dict[str, str]]:
    """GET /record?t=...: the review record `submit` kept, for the LA's genuine, unexpired link (functions/la_record.py).
    Verified without a school binding: the link's own school picks the folder."""
    from .la_record import RecordSigner, record_download, record_page

    if request.method not in ("GET", "HEAD"):
        body, _, headers = record_page("broken")
        return body, 405, {**headers, "Allow": "GET, HEAD"}
    rt = dep.runtime
    if not rt.link_secret:
        return record_page("unavailable")
    signer = RecordSigner(rt.link_secret, rt.base_url, "")
    return record_download(request.args.get("t"), signer=signer, folder_for=dep.papers_folders(), today=london_today())


__all__ = ["add_papers_command", "papers_reply", "record_reply"]
