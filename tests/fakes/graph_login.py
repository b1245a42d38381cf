"""The sign-in side of the Graph fake: just enough of the Microsoft identity platform for msal's device-code flow and
silent refresh (OpenID configuration, device authorization, token endpoint). Its endpoints are published under
https://login.microsoftonline.com, which the adapter's emulator mode sends to this server."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from tests.fakes.graph_api import FakeGraphServer

LOGIN = "https://login.microsoftonline.com"
ACCOUNT = "review-keeper@school.example"
UNKNOWN_TENANT = "no-such-school.example"  # Entra answers 400 for a tenant that does not exist


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(json.dumps(payload), status, content_type="application/json")


def _tokens(server: FakeGraphServer, tenant: str, client_id: str) -> dict[str, Any]:
    server.tokens_issued += 1
    now = int(time.time())
    claims = {"iss": f"{LOGIN}/{tenant}/v2.0", "sub": "sub-1", "aud": client_id, "exp": now + 3600, "iat": now,
              "oid": "oid-1", "tid": tenant, "preferred_username": ACCOUNT, "name": "Review Keeper"}  # fmt: skip
    return {
        "token_type": "Bearer",
        "scope": "https://graph.microsoft.com/Files.ReadWrite https://graph.microsoft.com/Mail.Send",
        "expires_in": server.token_lifetime,
        "access_token": f"fake-access-{uuid.uuid4().hex}",
        "refresh_token": f"fake-refresh-{uuid.uuid4().hex}",
        "id_token": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "client_info": _b64({"uid": "oid-1", "utid": tenant}),
    }


def login_response(server: FakeGraphServer, method: str, path: str, body: str) -> Response:
    parts = path.strip("/").split("/")
    tenant = parts[0] if parts else ""
    rest = "/".join(parts[1:])
    if method == "GET" and rest == "v2.0/.well-known/openid-configuration" and tenant == UNKNOWN_TENANT:
        return _json(
            400, {"error": "invalid_tenant", "error_description": f"AADSTS90002: Tenant '{tenant}' not found."}
        )
    if method == "GET" and rest == "v2.0/.well-known/openid-configuration":
        base = f"{LOGIN}/{tenant}"
        return _json(200, {
            "issuer": f"{base}/v2.0",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        })  # fmt: skip
    form = {k: v[-1] for k, v in parse_qs(body).items()}
    if method == "POST" and rest == "oauth2/v2.0/devicecode":
        return _json(200, {
            "device_code": "device-code-1", "user_code": "FAKE-CODE", "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900, "interval": 1,
            "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the "
                       "code FAKE-CODE to authenticate.",
        })  # fmt: skip
    if method == "POST" and rest == "oauth2/v2.0/token":
        grant = form.get("grant_type", "")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            return _json(200, _tokens(server, tenant, form.get("client_id", "")))
        if grant == "refresh_token":
            if not server.refresh_allowed:
                return _json(400, {"error": "invalid_grant", "error_description": "AADSTS50173: The provided grant "
                                   "has expired due to it being revoked."})  # fmt: skip
            return _json(200, _tokens(server, tenant, form.get("client_id", "")))
        return _json(400, {"error": "unsupported_grant_type", "error_description": grant})
    return _json(404, {"error": "not_found", "error_description": path})
