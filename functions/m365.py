"""Microsoft 365 schools: the settings the composition root reads for Microsoft Graph, and the adapters and the one-off
sign-in built from them. Nothing here reads the environment: functions/bootstrap.py does, and hands `M365Settings` in.

The register and the mail go through one school account (e.g. review-keeper@school) signed in once by the IT lead
(`python main.py m365-login`, msal's device-code flow). Its token cache is kept encrypted (Fernet, key
KEEPER_TOKEN_KEY) at `token_cache`: by default `m365-tokens.bin` in KEEPER_STATE_DIR (lasting storage in the cloud),
else in the working directory. See DEPLOY.md, "Microsoft 365 schools".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # loaded on use: requests and the Graph adapters cost a sweep of a workbook 0.1 s (issue 16)
    from connectors.graph_http import GraphClient, MsalTokens
    from connectors.graph_register import GraphRegister
    from connectors.mail_graph import GraphMailTransport

TOKEN_CACHE_NAME = "m365-tokens.bin"


@dataclass(frozen=True)
class M365Settings:
    client_id: str = ""  # the app registration's Application (client) ID
    tenant: str = ""  # the school's Directory (tenant) ID or domain, e.g. oakfield.sch.uk
    token_cache: Path = Path(TOKEN_CACHE_NAME)
    token_key: str = field(default="", repr=False)  # a secret: never printed, never logged
    emulator: str | None = None  # GRAPH_EMULATOR_HOST: the Graph fake (tests, benchmarks, demos)
    deadline_s: float = 120.0  # one read or one write of the register


class _Tokens:
    """The school account's access tokens, set up on first use: a missing key or an app that is not configured is a
    GraphAuthError from the first request (one sentence in the sweep's result), never an exception while wiring."""

    def __init__(self, m365: M365Settings) -> None:
        self.m365 = m365
        self._source: MsalTokens | None = None

    def msal(self) -> MsalTokens:
        from connectors.graph_http import GraphAuthError, MsalTokens, TokenCacheFile

        if self._source is None:
            if not self.m365.token_key:
                raise GraphAuthError(
                    "KEEPER_TOKEN_KEY is not set: it unlocks the stored Microsoft 365 sign-in; set it (Secret Manager "
                    "in the cloud) to the key made with `python main.py m365-login --new-key`."
                )
            cache = TokenCacheFile(self.m365.token_cache, self.m365.token_key)
            self._source = MsalTokens(self.m365.client_id, self.m365.tenant, cache, emulator=self.m365.emulator)
        return self._source

    def __call__(self, *, force_refresh: bool = False) -> str:
        if self.m365.emulator and not self.m365.client_id:
            return "emulator"  # the emulator takes any bearer token, as the Google emulators do
        return self.msal()(force_refresh=force_refresh)


def graph_client(m365: M365Settings) -> GraphClient:
    """A Graph client for the school account. Makes no request until used."""
    from connectors.graph_http import GraphClient, GraphPolicy, emulator_base

    return GraphClient(_Tokens(m365), base_url=emulator_base(m365.emulator),
                       policy=GraphPolicy(deadline_s=m365.deadline_s))  # fmt: skip


def open_graph_register(ref: str, m365: M365Settings) -> GraphRegister:
    from connectors.graph_register import GraphRegister

    return GraphRegister(ref, graph_client(m365))


def graph_mail(m365: M365Settings, sender: str) -> GraphMailTransport:
    from connectors.mail_graph import GraphMailTransport

    return GraphMailTransport(graph_client(m365), sender=sender)


def new_token_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")


def m365_login(m365: M365Settings, show: Callable[[str], None]) -> str:
    """The device-code sign-in (the IT lead opens the page shown and signs in as the school account); the encrypted
    cache is written to `m365.token_cache`. Returns the account's username."""
    return _Tokens(m365).msal().device_login(show)
