"""Reading a candidate link the way the candidate's browser does (the test side of
`mockserver.modules.interview.tokens.candidate_link`)."""

from __future__ import annotations

from mockserver.modules.interview.tokens import FRAGMENT_PREFIX


def token_from_link(link: str) -> str:
    """The token carried in a candidate link's fragment (what the candidate's browser reads)."""
    marker = "/" + FRAGMENT_PREFIX
    position = link.rfind(marker)
    if position < 0:
        raise ValueError("not a candidate link: no '#t=' fragment")
    token = link[position + len(marker):]
    if not token:
        raise ValueError("not a candidate link: empty token")
    return token
