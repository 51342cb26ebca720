"""The JSON-schema formats FedRAMP's schemas use, checked with the standard library only.

FedRAMP's Security Decision Record schema marks ``evidenceLocation`` and ``certificationPackageOverviewUri``
as ``uri``, ``lastUpdated`` as ``date``, and its common definitions use ``date-time``. jsonschema checks
``uri`` only with ``rfc3987`` or ``rfc3986-validator`` installed and ``date-time`` only with
``rfc3339-validator``; without them a "format-checked" validation silently passes any string (a relative
``./matrix-dev.json`` included). These functions check the three formats themselves: the evidence uses
them to refuse a base URI that would make its records invalid, and the tests register them on
jsonschema's ``FormatChecker``.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime

_UNRESERVED = r"[A-Za-z0-9\-._~]"
_PCT = r"%[0-9A-Fa-f]{2}"
_SUB = r"[!$&'()*+,;=]"
_PCHAR = f"(?:{_UNRESERVED}|{_PCT}|{_SUB}|[:@])"
_SEGMENT = f"{_PCHAR}*"
_SEGMENT_NZ = f"{_PCHAR}+"
_AUTHORITY = (f"(?:(?:{_UNRESERVED}|{_PCT}|{_SUB}|:)*@)?"  # userinfo
              rf"(?P<host>\[[^\]/?#@]*\]|(?:{_UNRESERVED}|{_PCT}|{_SUB})*)"  # IP-literal (checked below) or reg-name
              r"(?::[0-9]*)?")
_HIER = (f"(?://{_AUTHORITY}(?:/{_SEGMENT})*"  # "//" authority path-abempty
         f"|/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"  # path-absolute
         f"|{_SEGMENT_NZ}(?:/{_SEGMENT})*"  # path-rootless
         "|)")  # path-empty
#: RFC 3986 section 3: URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ] (absolute: a scheme is required).
_URI = re.compile(rf"[A-Za-z][A-Za-z0-9+\-.]*:{_HIER}(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?")
#: RFC 3339 section 5.6 date-time.
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def is_uri(value: object) -> bool:
    """An absolute URI (RFC 3986 ``URI``): what JSON Schema's ``uri`` format means. Not a relative reference."""
    if not isinstance(value, str):
        return True  # formats constrain strings only
    match = _URI.fullmatch(value)
    if match is None:
        return False
    host = match.group("host")
    if host and host.startswith("["):
        literal = host[1:-1]
        if literal[:1] in ("v", "V"):  # IPvFuture
            return re.fullmatch(rf"[vV][0-9A-Fa-f]+\.(?:{_UNRESERVED}|{_SUB}|:)+", literal) is not None
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return False
    return True


def is_date(value: object) -> bool:
    """RFC 3339 ``full-date``."""
    if not isinstance(value, str):
        return True
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_date_time(value: object) -> bool:
    """RFC 3339 ``date-time`` (a leap second's ``:60`` accepted as RFC 3339 allows)."""
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.fullmatch(value)
    if match is None or not is_date(match.group(1)):
        return False
    hour, minute, second = (int(match.group(i)) for i in (2, 3, 4))
    offset = match.group(6).upper()
    if offset != "Z":
        try:
            datetime.strptime(offset.replace(":", ""), "%z")
        except ValueError:
            return False
        if int(offset[1:3]) > 23 or int(offset[4:6]) > 59:
            return False
    return hour <= 23 and minute <= 59 and second <= 60


#: format name -> check, for ``jsonschema.FormatChecker.checks``.
CHECKS = {"uri": is_uri, "date": is_date, "date-time": is_date_time}
