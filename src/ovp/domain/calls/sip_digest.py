"""What a SIP proxy needs to check a caller's digest (RFC 3261 §22.4, RFC 2617): HA1, the hash of
user name, realm and password, which proves the caller knows the password without the proxy ever
holding it."""

from __future__ import annotations

import hashlib
import re

from ovp.domain.errors import InvalidInput, Problem
from ovp.domain.validation import BAD_VALUE, MISSING

REALM_PARAMETER = "realm"
# A realm is sent as a quoted string: printable ASCII without the quote and the backslash.
_REALM = re.compile(r'[\x20\x21\x23-\x5b\x5d-\x7e]{1,128}')


def parse_realm(query: dict[str, str]) -> str:
    realm = query.get(REALM_PARAMETER)
    if realm is None:
        code, title = MISSING
        raise InvalidInput([Problem(code, title, "realm is required: the realm the proxy challenges callers in.",
                                    parameter=REALM_PARAMETER)])
    if not _REALM.fullmatch(realm):
        code, title = BAD_VALUE
        raise InvalidInput([Problem(code, title, "realm must be 1 to 128 printable ASCII characters, without '\"' "
                                                 "or '\\'.", parameter=REALM_PARAMETER)])
    return realm


def ha1(user_name: str, realm: str, password: str) -> str:
    """MD5 of user:realm:password in hex, as SIP digest (algorithm MD5) defines it."""
    return hashlib.md5(f"{user_name}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()
