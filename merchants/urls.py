"""Which addresses the app may send a browser to after sign-in: its own paths only. No Flask here."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote, urlsplit

MAX_NEXT: Final = 2000
# Browsers drop tab, CR and LF from a URL before using it ('/\t/evil.example' becomes '//evil.example'), and other
# control characters have no business in a path either.
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


def same_site_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site ('/markets/3?q=x'), else None.

    Refused, also after percent-decoding (once more than the framework already did): anything not starting
    with a single '/', a second '/' or a backslash at the start (a browser reads '/\\evil' as '//evil'),
    control characters anywhere, and anything a URL parser reads with a scheme or a host.
    """
    if not target or len(target) > MAX_NEXT:
        return None
    for form in (target, unquote(target)):
        if not form.startswith("/") or form[1:2] in ("/", "\\") or "\\" in form or _CONTROL.search(form):
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return None
    return target
