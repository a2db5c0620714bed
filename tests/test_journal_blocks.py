"""Journal lines kept in this process are compressed a block at a time (`LineBlock`): a line
reads back the same before and after its block is sealed — every field, the console's
request detail and the grading report built on them."""

from __future__ import annotations

from mockserver.platform.journal import BLOCK_LINES, KeptLine
from tests.conftest import FULL, Api, make_app


def _varied_requests(api: Api, count: int) -> None:
    """``count`` requests of different kinds: public, authenticated, unknown path, bad key,
    a query string, a JSON body with an idempotency key, a 401 whose key the registry knows."""
    kinds = [
        lambda: api.call("GET", "/api/v1/health", key=None),
        lambda: api.call("GET", "/api/v1/credits"),
        lambda: api.call("GET", "/api/v1/nowhere"),
        lambda: api.call("GET", "/api/v1/credits", key="zh_api_test_no_such_key_0000"),
        lambda: api.call("GET", "/api/v1/speech/runs?limit=2&status=completed"),
        lambda: api.call("GET", "/api/v1/credits", key=None, headers={"Authorization": f"Bearer {FULL}"}),
        lambda: api.call("POST", "/api/v1/cvdeepmatch/submit", json={"idempotency_key": "k-1", "x": "é"}),
    ]
    for i in range(count):
        kinds[i % len(kinds)]()


def test_lines_read_back_the_same_once_their_block_is_compressed():
    with Api(make_app()) as api:
        platform = api.app.state.platform
        _varied_requests(api, BLOCK_LINES - 1)
        before = list(platform.journal.entries())
        grades_before = api.get("/__mock/grades", params={"client": "acme"}).json()
        api.call("GET", "/api/v1/health", key=None)  # the block's last line: it is sealed
        after = list(platform.journal.entries())[:len(before)]
        assert platform.journal._rows._rows[0][0].items is None  # the first block is sealed now
        assert after == before
        assert {type(value) for entry in after for value in entry.values()} >= {str, int, float, tuple}
        grades_after = api.get("/__mock/grades", params={"client": "acme"}).json()
        assert grades_after == grades_before
        # the console's request view of a line in a sealed block
        oldest = api.get("/__mock/journal", params={"limit": 1000}).json()["entries"][-1]
        detail = api.get(f"/__mock/journal/{oldest['requestId']}").json()
        assert detail["requestHeaders"]["host"] and detail["path"] == "/api/v1/health"


def test_every_request_line_is_kept_as_its_block_place_and_client():
    with Api(make_app()) as api:
        api.call("GET", "/api/v1/credits")
        row = api.app.state.platform.journal._rows._rows[-1]
        assert isinstance(row, KeptLine) and row[2] == "acme"
