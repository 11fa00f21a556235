"""The review page: what a link would decide, in plain HTML with one form and no
JavaScript, and the rule that only that page's own form may decide. Pure.

A GET or HEAD of a link never changes anything: Slack's unfurler, Teams and Outlook Safe
Links and mail scanners fetch links before any human does. Only a POST of the page's form
decides, and only as a same-origin request: its `Origin` is interact's own, or `null` with
`Sec-Fetch-Site: same-origin` (what browsers send under a `no-referrer` policy). A page on
another site can submit a form here, but not with our Origin: it is refused and changes
nothing. The page may not be framed (clickjacking), cached, indexed or leak its URL, which
is a capability, through the Referer.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from werkzeug.datastructures import Headers

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
}


def same_origin(headers: Headers, own: str) -> bool:
    """Whether a POST comes from a page of `own` origin. Browsers send Origin on every
    form POST; a request without one is not from our page."""
    origin = headers.get("Origin")
    if origin is None:
        return False
    if origin == "null":
        return headers.get("Sec-Fetch-Site") == "same-origin"
    return origin.lower() == own


@dataclass(frozen=True)
class View:
    """One page: a title, the sentence that matters, facts, and the buttons of its form."""

    title: str
    lead: str
    facts: tuple[tuple[str, str], ...] = ()
    choices: tuple[tuple[str, str], ...] = ()  # (value of `choice`, label)
    note: str = ""


STYLE = """
body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}p.lead{font-size:1.1rem}dl{display:grid;grid-template-columns:max-content auto;
gap:.3rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}form{margin-top:1.5rem}
button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.6rem;cursor:pointer}
button[value=approve],button[value=undo]{background:#1a7f37;color:#fff;border:0}
button[value=reject]{background:#cf222e;color:#fff;border:0}p.note{color:#57606a}
"""


def render(view: View) -> str:
    facts = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in view.facts)
    form = ""
    if view.choices:
        buttons = "".join(
            f'<button type="submit" name="choice" value="{escape(value)}">{escape(label)}</button>'
            for value, label in view.choices
        )
        form = f'<form method="post">{buttons}</form>'
    note = f'<p class="note">{escape(view.note)}</p>' if view.note else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>riposte: {escape(view.title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{escape(view.title)}</h1><p class="lead">{escape(view.lead)}</p>'
        f"<dl>{facts}</dl>{form}{note}</body></html>"
    )
