"""Keep citizen IDs, phone and account numbers out of server logs.

Search-as-you-type and the market search put what the officer typed in the query string, and access logs
write query strings down. Long digit runs in a logged line are masked to their last four digits; the
gunicorn configuration (gunicorn.conf.py) leaves query strings out of its access log altogether.
"""

from __future__ import annotations

import logging
import re

from merchants.identity import mask_tail

# Query strings only (paths hold record ids, the rest of the line addresses, status and size).
_QUERY = re.compile(r"\?[^\s\"]*")
# 6+ digits, optionally grouped as typed and URL-encoded: "0912+345+678", "0912%20345", "0912.345.678".
_LONG_NUMBER = re.compile(r"\d(?:(?:%20|%2B|[.+\-])?\d){5,}")


def _mask_param(param: str) -> str:
    if param.startswith("v="):  # our own static-file version (a file time), not a person's number
        return param
    return _LONG_NUMBER.sub(lambda m: mask_tail(re.sub(r"%20|%2B|\D", "", m.group()), sep=""), param)


def _mask_query(query: re.Match[str]) -> str:
    return "?" + "&".join(_mask_param(p) for p in query.group()[1:].split("&"))


# A set-password link's token is the key to an account until it is used: never written to a log.
_LINK_TOKEN = re.compile(r"(/set-password/)[^\s\"?/]+")


def mask_numbers(text: str) -> str:
    """'?q=022185001234' → '?q=••••1234': enough to follow a log, not enough to identify anyone."""
    return _LINK_TOKEN.sub(r"\1•••", _QUERY.sub(_mask_query, text))


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """A URL with %0A in its path must not start a forged line in the log: control characters become \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class MaskNumbers(logging.Filter):
    """A logging filter: ``mask_numbers`` on the formatted message, ``escape_controls`` on the values put into it.

    Only the interpolated values come from outside (a request's path and headers): escaping them, not the
    server's own template, stops a forged line while the dev server's coloured banner stays readable.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.args:
            args = record.args
            if isinstance(args, dict):
                record.args = {k: escape_controls(v) if isinstance(v, str) else v for k, v in args.items()}
            else:
                record.args = tuple(escape_controls(v) if isinstance(v, str) else v for v in args)
            message = record.getMessage()
        masked = mask_numbers(message)
        record.msg, record.args = masked, None
        return True


def install(logger_name: str = "werkzeug") -> None:
    """Add the filter once (the app factory may run many times in one process)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, MaskNumbers) for f in logger.filters):
        logger.addFilter(MaskNumbers())
