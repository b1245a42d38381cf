"""The contributor's pages' one stylesheet and the headers sent with every page (functions/confirm.py).

The Content-Security-Policy allows exactly this stylesheet by its hash: no other style, and no script, can run even if
something were injected. Focus is always visible (WCAG 2.2 2.4.7, 2.4.11); controls are at least 24 px (2.5.8)."""

from __future__ import annotations

import base64
import hashlib

# The page's only stylesheet; the Content-Security-Policy allows exactly this text by its hash, so no other style and
# no script can run even if something were injected.
CSS = """
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:1.125rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1b1b1b;background:#fff}
main{max-width:36rem;margin:0 auto;padding:1.25rem 1rem 3rem}
h1{font-size:1.6rem;line-height:1.25;margin:0.5rem 0 1rem}
p,dl{margin:0 0 1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:0.25rem 1rem}
dt{font-weight:600}
dd{margin:0}
label{display:block;font-weight:600;margin:1.25rem 0 0.25rem}
.hint{display:block;font-weight:400;color:#3d3d3d;font-size:1rem}
textarea{width:100%;min-height:6rem;font:inherit;padding:0.5rem;border:2px solid #1b1b1b;border-radius:4px}
button{margin-top:1.25rem;min-height:3rem;width:100%;font:inherit;font-weight:700;color:#fff;background:#0b5a2b;border:2px solid #0b5a2b;border-radius:6px;padding:0.6rem 1rem;cursor:pointer}
button:hover{background:#084420}
textarea:focus,button:focus,input:focus,a:focus{outline:3px solid #fd0;outline-offset:2px;box-shadow:0 0 0 5px #1b1b1b}
h2{font-size:1.25rem;margin:0 0 0.5rem}
fieldset{border:0;padding:0;margin:1.25rem 0 0}
legend{font-weight:600;padding:0;margin-bottom:0.25rem}
.check{display:flex;align-items:center;gap:0.75rem;margin:0.5rem 0}
.check input{width:1.75rem;height:1.75rem;margin:0;flex:none;accent-color:#0b5a2b}
.check label{margin:0;font-weight:400}
input[type=file]{display:block;width:100%;font:inherit;padding:0.5rem;border:2px dashed #1b1b1b;border-radius:4px}
.note{border-left:6px solid #1d4f91;background:#eef3fa;padding:0.5rem 1rem}
a{color:#1d4f91}
button.secondary{color:#1b1b1b;background:#fff;border-color:#1b1b1b}
button.secondary:hover{background:#eee}
h2.other{margin-top:2.5rem;padding-top:1rem;border-top:1px solid #b1b4b6}
ul{padding-left:1.25rem}
.panel{border-left:6px solid #0b5a2b;padding:0.5rem 1rem;background:#eef6f0;margin:0 0 1rem}
.panel.problem{border-color:#a3161a;background:#fbeeee}
.school{color:#3d3d3d;font-size:1rem;margin:0}
@media (min-width:40rem){button{width:auto}}
""".strip()
CSS_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")

# Sent with every page, good or bad.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Type": "text/html; charset=utf-8",
    # A shared or family computer must not show a contributor's page from the back button or a cache.
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        f"default-src 'none'; style-src '{CSS_HASH}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}

__all__ = ["CSS", "CSS_HASH", "SECURITY_HEADERS"]
