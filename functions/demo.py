"""The demo: a register with made-up pupils, its keeper.toml, and one sweep of it whose emails go to an outbox folder
beside it, so a newcomer sees every column and email without a network or a real school."""

from __future__ import annotations

import email
import sys
from collections.abc import Callable
from datetime import date
from email import policy
from pathlib import Path
from typing import TextIO

from connectors.outbox import OutboxTransport
from connectors.workbook import WorkbookRegister

from .links import LinkSigner
from .mailer import LEDGER_NAME, FileLedger
from .results import print_summary
from .settings import CONFIG_NAME, Settings
from .sweep import run_sweep

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


def first_link_email(outbox: Path) -> Path | None:
    """An .eml in the outbox whose email carries a contributor's confirmation link (a request or chaser)."""
    for eml in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        if body is not None and "/confirm?t=" in str(body.get_content()):
            return eml
    return None


def run_demo(
    out: Path,
    *,
    today: date,
    write_register: Callable[..., object],
    load_settings: Callable[[Path], Settings],
    school_id: str = "",
    stream: TextIO = sys.stdout,
    python: str = ".venv/bin/python",
) -> None:
    """Write the demo register (`write_register(out, today=...)`, scripts/make_demo.py) and its settings, sweep it into
    an outbox folder and say what to look at. `school_id` is KEEPER_SCHOOL_ID, so `serve` accepts the demo's links.
    `python`: the interpreter the hint names, the one running now (a bare `python` may lack the packages)."""

    def say(text: str = "") -> None:
        print(text, file=stream)

    write_register(out, today=today)
    say(f"Wrote a demo register with made-up pupils: {out}")
    config = write_demo_config(out)
    if config is not None:
        say(f"Wrote its settings (the made-up school and SENDCo): {config}")
    say()
    settings = load_settings(out)
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
    result = run_sweep(
        WorkbookRegister(out),
        today=today,
        settings=settings,
        transport=OutboxTransport(outbox, "review-keeper@oakfield.example.org"),
        ledger=FileLedger(ledger_file),
        signer=LinkSigner(DEMO_SECRET, DEMO_BASE_URL, school_id),
    )
    print_summary(result, settings, stream)
    say(
        f'\nOpen {out} and look at the columns headed "AR ..." to the right of the register: status, the date to hold '
        "each meeting by, the next action, Year 9 and phase-transfer flags and any problems with a row. The "
        f"Contributions sheet shows who was asked and chased; the emails themselves are .eml files in {outbox}."
    )
    eml = first_link_email(outbox)
    if eml is not None:
        say(
            f"To try a contributor's link, run  KEEPER_LINK_SECRET={DEMO_SECRET} {python} main.py serve {out}  and open "
            f"the link in {eml}: fill in the form and send it. The answers go to the Advice tab and the Received cell on "
            "its Contributions row fills in."
        )
