"""The adapters, built from typed settings (functions/bootstrap.py reads and checks them): the register (a workbook, a
Google Sheet, or an Excel workbook in OneDrive/SharePoint through Microsoft Graph), the mail transport, the sent-ledger, the link signer and the Pub/Sub publisher. Jobs receive them as
arguments; nothing here reads the environment."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from connectors.base import Register, RegisterError
from connectors.lease import Lease

# The SMTP and SendGrid transports (ssl, smtplib, http.client) are imported only when configured: most sweeps use
# neither (issue 16: imports only where used).
from connectors.mail_base import MailError, MailTransport
from connectors.outbox import OutboxTransport

from .links import LinkSigner
from .m365 import TOKEN_CACHE_NAME, M365Settings, graph_mail, open_graph_register
from .mailer import LEDGER_NAME, FileLedger
from .setting_tables import MailSettings, Runtime, SettingsError
from .settings import Settings
from .sweep import MailSetup


def is_graph(ref: str) -> bool:
    """A OneDrive or SharePoint link, or `graph:<drive-id>/<item-id>` (a register in Microsoft 365)."""
    from connectors.graph_codec import is_graph_reference

    return not Path(ref).exists() and is_graph_reference(ref)


def is_remote(ref: str) -> bool:
    """A register reached over the network (a Google Sheet or a Microsoft 365 workbook): no folder of its own."""
    return is_graph(ref) or is_sheet(ref)


def m365_for(settings: Settings | None, rt: Runtime) -> M365Settings:
    """The Microsoft 365 app and sign-in: the environment's values over [m365] in keeper.toml. The encrypted sign-in
    lives in KEEPER_M365_TOKEN_CACHE, else [m365] cache_file, else m365-tokens.bin in KEEPER_STATE_DIR."""
    table = (settings.extra.get("m365") if settings is not None else None) or {}
    cache = rt.m365_token_cache or str(table.get("cache_file") or "") or str(rt.state_dir / TOKEN_CACHE_NAME)
    return M365Settings(
        client_id=rt.m365_client_id or str(table.get("client_id") or ""),
        tenant=rt.m365_tenant or str(table.get("tenant") or ""),
        token_cache=Path(cache),
        token_key=rt.token_key,
        emulator=rt.graph_emulator_host or None,
    )


def is_sheet(ref: str) -> bool:
    """A Google Sheet URL or key (anything that is not a file here)."""
    if Path(ref).exists():
        return False
    if "docs.google.com/spreadsheets" in ref:
        return True
    from connectors.sheets import is_sheet_reference

    return is_sheet_reference(ref)


def open_register(
    ref: str,
    rt: Runtime,
    settings: Settings | None = None,
    *,
    read_while_open: bool = False,
    deadline_s: float | None = None,
) -> Register:
    """A workbook path, a Google Sheet URL or key, or a OneDrive/SharePoint link (or graph:<drive-id>/<item-id>).
    `read_while_open`: a workbook on disk open in Excel is still read (for the commands that only read; any write
    still refuses); a shared online sheet or workbook has no lock file, so it does not apply there. `deadline_s`: the
    longest one read or one write of an online register may take, retries included (default 120 s)."""
    if is_graph(ref):
        m365 = m365_for(settings, rt)
        return open_graph_register(ref, m365 if deadline_s is None else replace(m365, deadline_s=deadline_s))
    if is_sheet(ref):
        from connectors.sheets import open_sheet_register

        try:
            return open_sheet_register(
                ref,
                emulator_host=rt.sheets_emulator_host,
                credentials_file=rt.credentials_file,
                deadline_s=120 if deadline_s is None else deadline_s,
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

    return WorkbookRegister(Path(ref), read_while_open=read_while_open)


def _beside(base_dir: Path, configured: str | None, default: str) -> Path:
    path = Path(configured or default)
    return path if path.is_absolute() else base_dir / path


def transport_for(mail: MailSettings, base_dir: Path, m365: M365Settings | None = None) -> MailTransport:
    """The configured transport; the outbox folder and relative paths are taken from `base_dir`."""
    if mail.kind == "outbox":
        return OutboxTransport(_beside(base_dir, mail.outbox, "outbox"), mail.sender)
    if mail.kind == "graph":  # as the signed-in school account, with the same sign-in as a Microsoft 365 register
        return graph_mail(m365 or M365Settings(), mail.sender)
    try:
        if mail.kind == "smtp":
            if not mail.smtp_host:
                raise MailError("KEEPER_MAIL is smtp but KEEPER_SMTP_HOST is not set.")
            import ssl

            from connectors.mail_smtp import SmtpTransport

            context = ssl.create_default_context()
            if mail.smtp_cafile:
                context.load_verify_locations(cafile=mail.smtp_cafile)
            return SmtpTransport(
                mail.smtp_host,
                mail.smtp_port,
                security=mail.smtp_security,
                user=mail.smtp_user,
                password=mail.smtp_password,
                oauth_token=mail.smtp_oauth_token,
                sender=mail.sender,
                timeout=mail.timeout,
                ssl_context=context,
            )
        from connectors.mail_sendgrid import SendGridTransport

        return SendGridTransport(
            mail.sendgrid_api_key,
            sender=mail.sender,
            host=mail.sendgrid_api_host,
            sandbox=mail.sendgrid_sandbox,
            timeout=mail.timeout,
        )
    except MailError as exc:
        raise SettingsError(str(exc)) from None


def task_queue(rt: Runtime) -> Any:
    """The trust's Cloud Tasks queue (connectors/queue_tasks.py) when KEEPER_TASKS_QUEUE names one, else None (dispatch
    then publishes to Pub/Sub). Raises EnqueueError naming a missing or bad setting."""
    if not rt.tasks.get("KEEPER_TASKS_QUEUE", "").strip():
        return None
    from connectors.queue_tasks import CloudTasksQueue, QueueConfig

    config = QueueConfig.from_env(rt.tasks)
    assert config is not None
    return CloudTasksQueue.from_env(config, rt.tasks)


def link_signer(rt: Runtime, school: str = "") -> LinkSigner:
    """Raises LinkConfigError when KEEPER_LINK_SECRET is unset."""
    return LinkSigner(rt.link_secret, rt.base_url, school)


def mail_setup(settings: Settings, rt: Runtime, base_dir: Path, *, school_id: str | None = None) -> MailSetup:
    """The transport (None for KEEPER_MAIL=none), the sent-ledger (KEEPER_LEDGER, else review-keeper-sent.jsonl in
    `base_dir`), the link signer (None without KEEPER_LINK_SECRET: emails then ask for a reply) and the time limit."""
    mail = settings.mail
    transport = None if mail.kind == "none" else transport_for(mail, base_dir, m365_for(settings, rt))
    # Links carry the school's id (the confirm page opens that school's register): the trust's [[schools]] id, or
    # KEEPER_SCHOOL_ID, or none for a one-school install (the confirm page then has only one register to open).
    school = school_id if school_id is not None else rt.school_id
    signer = link_signer(rt, school) if rt.link_secret.strip() else None
    return MailSetup(transport, FileLedger(_beside(base_dir, mail.ledger, LEDGER_NAME)), signer, mail.deadline)


LEASE_SUFFIX = ".keeper-lease"


def local_lease(ref: str) -> Lease:
    """The command line's lease: ".<name>.keeper-lease" beside a workbook; for a Google Sheet or a Microsoft 365
    workbook (no folder here) in the working folder, named by a digest of its reference (the same one, the same lease)."""
    from connectors.lease_file import FileLease

    if is_remote(ref):
        digest = hashlib.sha256(ref.strip().encode("utf-8")).hexdigest()[:16]
        return FileLease(Path.cwd() / f".sheet-{digest}{LEASE_SUFFIX}")
    path = Path(ref).resolve()
    return FileLease(path.with_name(f".{path.name}{LEASE_SUFFIX}"))


def school_lease(school_id: str, rt: Runtime) -> Lease:
    """A deployment's lease for one school: gs://KEEPER_LEASE_BUCKET/review-keeper/leases/<id>.json, else a file in
    KEEPER_STATE_DIR/<id>/."""
    if rt.lease_bucket:
        from connectors.lease_gcs import GcsLease

        return GcsLease.connect(
            rt.lease_bucket, f"review-keeper/leases/{school_id}.json", emulator_host=rt.storage_emulator_host
        )
    from connectors.lease_file import FileLease

    return FileLease(rt.state_dir / school_id / f"sweep{LEASE_SUFFIX}")


def publisher(rt: Runtime) -> Any:
    """The Pub/Sub publisher for the trust's fan-out: the emulator (or a fake) when PUBSUB_EMULATOR_HOST is set."""
    from connectors.pubsub import PubSubPublisher

    return PubSubPublisher.connect(rt.project, rt.sweep_topic, emulator_host=rt.pubsub_emulator_host)
