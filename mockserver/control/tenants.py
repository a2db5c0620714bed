"""A client's credit ledger through the control API: `GET /__mock/clients/{client_id}/ledger`.

The balance, held and available credits and usage (as `GET /api/v1/credits` reports them)
plus every ledger transaction, newest first, in pages of `limit` with a `cursor` — the
console's Tenants section shows it. Reading settles due holds first, as every credits read does.
"""

from __future__ import annotations

from starlette.routing import Route

from ..platform.credits import TXN, shown_transaction
from .http import guard, json_response, not_found

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
TXN_FIELDS = ("id", "type", "amount", "balanceAfter", "module", "runId", "description", "createdAt")


def ledger_page(platform, client_id: str, query) -> dict:
    limit_raw = query.get("limit") or str(DEFAULT_LIMIT)
    cursor_raw = query.get("cursor")
    if not limit_raw.isdigit() or int(limit_raw) < 1:
        raise ValueError(f"limit must be a positive integer, not {limit_raw!r}")
    if cursor_raw is not None and not cursor_raw.isdigit():
        raise ValueError(f"cursor must be the nextCursor of a previous page, not {cursor_raw!r}")
    limit = min(int(limit_raw), MAX_LIMIT)
    now = platform.clock.now()
    account = platform.ledger.summary(client_id, now, limit=0)
    entries = sorted(platform.store.scan_entries(TXN, owner=client_id), key=lambda e: (e.doc["at"], e.seq), reverse=True)
    txns = [e.doc for e in entries]
    if cursor_raw is not None:
        position = int(cursor_raw)
        txns = txns[position:]
    else:
        position = 0
    page = txns[:limit]
    more = len(txns) > limit
    account.pop("recentTransactions", None)
    return {"client": client_id, "account": account,
            "transactions": [{k: shown_transaction(t)[k] for k in TXN_FIELDS} for t in page],
            "nextCursor": str(position + limit) if more else None}


def routes(platform) -> list[Route]:
    async def ledger(request):
        client_id = request.path_params["client_id"]
        if client_id not in platform.registry.clients:
            raise not_found(f"no client {client_id!r}")
        return json_response(200, ledger_page(platform, client_id, request.query_params))

    return [Route("/clients/{client_id}/ledger", guard(platform)(ledger), methods=["GET"])]
