"""The CV DeepMatch requests list over HTTP: parameter validation, filters by project, tags,
metadata and status, and cursor pages that never repeat or skip (CVDM-5, LIST-1, LIST-3,
AUTH-7, META-2). Shared helpers: ``cvdeepmatch_helpers``.
"""

from __future__ import annotations

import json

import pytest

from contract_tests.catalog import covers
from contract_tests.cvdeepmatch_helpers import (REQUESTS, WATCHDOG_SECONDS, accepted, cvdm_tenant, invalid_fields,
                                                listed, listed_ids, names_field, submit)
from contract_tests.cvdeepmatch_helpers import ops  # noqa: F401  (fixtures)


# --------------------------------------------------------------------------- the requests list

@covers("CVDM-5", "LIST-1")
@pytest.mark.parametrize("params, names", [
    ({"status": "completed"}, ("status",)), ({"limit": "0"}, ("limit",)), ({"limit": "101"}, ("limit",)),
    ({"metadata_value": "x"}, ("metadata_key", "metadata_value"))],
    ids=["bad-status", "limit-0", "limit-101", "value-without-key"])
def test_bad_list_parameters_are_invalid_input_naming_them(api, ops, params, names):
    fields = invalid_fields(api.get(REQUESTS, params=params), ops.list)
    assert any(names_field(fields, name) for name in names), fields


@covers("LIST-3")
def test_a_malformed_cursor_is_invalid_input(api, ops):
    fields = invalid_fields(api.get(REQUESTS, params={"cursor": "not-a-cursor"}), ops.list)
    assert names_field(fields, "cursor"), fields


@covers("LIST-1", "CVDM-5", "AUTH-7", "META-2")
def test_the_list_filters_by_project_tags_metadata_and_status(api, ops, provision, credit_guard, time_machine):
    credit_guard.allow("three CV DeepMatch submits (9 credits)")
    tenant = cvdm_tenant(provision, "cvdm-filters")
    client = api.with_key(tenant.key)
    in_project = api.with_key(provision.key_on(tenant.client_id, project="ct-gamma"))
    a = accepted(submit(in_project, tags=json.dumps(["ct-a", "shared"]), metadata=json.dumps({"batch": "one"})), ops)["id"]
    time_machine.pass_time(1, "distinct creation times")
    b = accepted(submit(client, tags=json.dumps(["shared"]), metadata=json.dumps({"batch": "two"})), ops)["id"]
    time_machine.pass_time(1, "distinct creation times")
    c = accepted(submit(client, tags=json.dumps(["ct-a", "shared"]), metadata=json.dumps({"batch": "one", "n": 3})), ops)["id"]
    expectations = [
        ({}, [c, b, a]),
        ({"project": "ct-gamma"}, [a]),
        ({"project": "none"}, [c, b]),
        ({"tags": "ct-a,shared"}, [c, a]),
        ({"tags": "shared"}, [c, b, a]),
        ({"tags": "ct-a,absent"}, []),
        ({"metadata_key": "batch", "metadata_value": "two"}, [b]),
        ({"metadata_key": "n", "metadata_value": "3"}, [c]),
    ]
    for params, expected in expectations:
        assert listed_ids(client, ops, **params) == expected, f"{params}"
    # The status filter, stated so a match finishing meanwhile (a fast-running clock) is no
    # false failure: each row has the status asked for, newest first, and the lists asked in
    # lifecycle order together hold every match.
    seen: set[str] = set()
    for status in ("processing", "finished", "failed"):
        rows = listed(client, ops, status=status)["requests"]
        assert all(row["status"] == status for row in rows), (status, rows)
        ids = [row["id"] for row in rows]
        assert ids == [i for i in (c, b, a) if i in ids], f"status={status}: {ids} is not newest first"
        seen.update(ids)
    assert {a, b, c} <= seen, "a match is missing from every status list"
    rows = {row["id"]: row for row in listed(client, ops)["requests"]}
    assert rows[a]["project"] == "ct-gamma" and rows[b]["project"] is None, rows
    assert rows[c]["metadata"] == {"batch": "one", "n": 3} and rows[c]["tags"] == ["ct-a", "shared"]
    time_machine.pass_time(WATCHDOG_SECONDS + 60, "every match to end")
    assert listed_ids(client, ops, status="processing") == []
    assert listed_ids(client, ops, status="finished") == [c, b, a]


@covers("LIST-3", "LIST-1", "CVDM-5")
def test_cursor_pages_are_newest_first_and_never_repeat_or_skip_while_matches_arrive(api, ops, provision,
                                                                                    credit_guard, time_machine):
    credit_guard.allow("four CV DeepMatch submits (12 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-pages").key)
    made = []
    for _ in range(3):
        made.append(accepted(submit(client), ops)["id"])
        time_machine.pass_time(1, "distinct creation times")
    first = listed(client, ops, limit=1)
    assert [r["id"] for r in first["requests"]] == [made[2]] and first["has_more"] and first["next_cursor"], first
    arrived = accepted(submit(client), ops)["id"]
    seen, cursor = [made[2]], first["next_cursor"]
    for _ in range(5):
        page = listed(client, ops, limit=1, cursor=cursor)
        seen += [r["id"] for r in page["requests"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None, page
            break
    assert seen == [made[2], made[1], made[0]], f"pages repeated or skipped a row: {seen}"
    assert listed_ids(client, ops, limit=2) == [arrived, made[2]]
