"""Admitting a `webhook_url` at submit (HOOK-1) with the platform's resolver.

The resolver is the operating system's (or one a test injects), in front of which scenario
files may put a static table (`settings: {webhooks: {dns: {"hooks.example.test": ["93.184.215.14"]}}}`).
The table is read from the scenarios in force at each lookup, so `POST /__mock/scenarios/reload`
applies an edited table at once — to admission and to every later delivery attempt (the
webhook engine resolves through the same object), which is how DNS rebinding is simulated
without a restart.
A name that does not resolve *here* is admitted at submit (inferred: the platform resolves
public names; an offline mock cannot, and refusing would break the docs' own
`https://example.com/...` examples); its delivery attempts then fail as network errors,
are retried, and show up as failed in the delivery log. Every other refusal is the
documented 400.
"""

from __future__ import annotations

from typing import Callable

from ..scenarios import Scenarios
from ..webhooks.admission import Resolver, StaticResolver, inspect_webhook_url
from .context import Platform


class ScenarioDnsResolver:
    """Answers from the current scenarios' `settings.webhooks.dns` table, else from ``fallback``."""

    def __init__(self, current_scenarios: Callable[[], Scenarios], fallback: Resolver) -> None:
        self.current_scenarios = current_scenarios
        self.fallback = fallback
        self._table_of: object = None
        self._static = StaticResolver({}, fallback=fallback)

    def __call__(self, host: str) -> list[str]:
        scenarios = self.current_scenarios()
        if scenarios is not self._table_of:  # a reload swapped the scenarios: rebuild the table
            table = scenarios.setting("webhooks", "dns", {}) or {}
            self._static = StaticResolver(table, fallback=self.fallback)
            self._table_of = scenarios
        return self._static(host)


def admit_webhook_url(platform: Platform, url: str) -> None:
    refusal = inspect_webhook_url(url, resolver=platform.resolver,
                                  allow_local=platform.settings.allow_local_webhooks)
    if refusal is not None and not refusal.transient:
        raise refusal.to_error()
