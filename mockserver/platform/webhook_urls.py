"""Admitting a `webhook_url` at submit (HOOK-1) with the platform's resolver.

The resolver is the operating system's, in front of which scenario files may put a static
table (`settings: {webhooks: {dns: {"hooks.example.test": ["93.184.215.14"]}}}`).
A name that does not resolve *here* is admitted at submit (inferred: the platform resolves
public names; an offline mock cannot, and refusing would break the docs' own
`https://example.com/...` examples); its delivery attempts then fail as network errors,
are retried, and show up as failed in the delivery log. Every other refusal is the
documented 400.
"""

from __future__ import annotations

from ..webhooks.admission import inspect_webhook_url
from .context import Platform


def admit_webhook_url(platform: Platform, url: str) -> None:
    refusal = inspect_webhook_url(url, resolver=platform.resolver,
                                  allow_local=platform.settings.allow_local_webhooks)
    if refusal is not None and not refusal.transient:
        raise refusal.to_error()
