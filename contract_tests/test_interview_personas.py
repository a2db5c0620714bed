"""Interview personas over HTTP (INTV-1, A10): the generated or verbatim system prompt, the
required fields, the newest-first list without prompt text, and tenancy (AUTH-6). Shared
helpers: ``interview_helpers``.
"""

from __future__ import annotations

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import assert_error, assert_no_problems
from contract_tests.contract import schema_problems
from contract_tests.interview_helpers import MAX_PAGES, PERSONAS, UUID, create_persona, create_session, refused_field
from contract_tests.interview_helpers import module_credits, ops, persona  # noqa: F401  (fixtures)


# --------------------------------------------------------------------------- personas (INTV-1, A10)

@covers("INTV-1", "META-4")
def test_a_persona_without_a_system_prompt_gets_one_generated_for_its_role(api, ops, credit_guard):
    credit_guard.allow("creating an Interview persona")
    made = create_persona(api, ops, role_name="Site Reliability Engineer", language="en")
    assert UUID.match(made["id"]) and not {"persona_id", "personaId"} & set(made), made
    assert made["system_prompt_source"] == "generated" and made["base_prompt_override"] is None, made
    assert made["system_prompt"].strip(), "a generated system prompt is never empty"
    assert "Site Reliability Engineer" in made["system_prompt"], "the template is filled in for the persona's role"
    fetched = api.get(f"{PERSONAS}/{made['id']}")
    assert fetched.status_code == 200, fetched.text[:300]
    assert_no_problems(schema_problems(ops["get_persona"], 200, fetched.json()))
    assert fetched.json() == made


@covers("INTV-1")
def test_a_supplied_system_prompt_is_stored_verbatim(api, ops, credit_guard):
    credit_guard.allow("creating an Interview persona")
    prompt = "  Eres un entrevistador técnico.\nPregunta solo por SQL.  "
    made = create_persona(api, ops, role_name="Ingeniero de backend", language="es", system_prompt=prompt,
                          base_prompt_override="Pause two seconds between turns.")
    fetched = api.get(f"{PERSONAS}/{made['id']}").json()
    assert fetched["system_prompt"] == prompt, "the custom prompt comes back byte for byte"
    assert fetched["system_prompt_source"] == "custom"
    assert fetched["base_prompt_override"] == "Pause two seconds between turns."


@covers("INTV-1", "ERR-4")
@pytest.mark.parametrize("body, field", [
    ({"language": "en"}, "role_name"),
    ({"role_name": "Engineer"}, "language"),
    ({"role_name": "Engineer", "language": "xx"}, "language"),
    ({"role_name": "   ", "language": "en"}, "role_name"),
], ids=["no-role", "no-language", "unknown-language", "blank-role"])
def test_a_persona_needs_a_role_name_and_a_supported_language(api, ops, body, field):
    refused_field(api.post(PERSONAS, json=body), ops["create_persona"], field)


@covers("INTV-1", "LIST-3", "LIST-4")
def test_personas_list_newest_first_in_cursor_pages_without_prompt_text(api, ops, provision, credit_guard):
    credit_guard.allow("creating Interview personas")
    client = api.with_key(provision.tenant("personas", permissions=["interview"]).key)
    made = [create_persona(client, ops, role_name=f"Role {n}", language="en")["id"] for n in range(5)]
    seen, cursor = [], None
    for _ in range(MAX_PAGES):
        resp = client.get(PERSONAS, params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 200, resp.text[:300]
        page = resp.json()
        assert_no_problems(schema_problems(ops["list_personas"], 200, page))
        assert all("system_prompt" not in row for row in page["personas"]), "list rows carry no prompt text"
        seen += [row["id"] for row in page["personas"]]
        create_persona(client, ops, role_name="Arrives between pages", language="en")
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == made[::-1], "pages are newest first and never repeat or skip while personas arrive"
    assert page["next_cursor"] is None


@covers("AUTH-6", "A10")
def test_another_clients_persona_is_forbidden_and_never_listed(api, second_api, ops, persona):
    assert_error(second_api.get(f"{PERSONAS}/{persona['id']}"), 403, "FORBIDDEN", ops["get_persona"])
    resp = create_session(second_api, persona["id"], consent_mode="integrator")
    assert_error(resp, 403, "FORBIDDEN", ops["create_session"])
    cursor = None
    for _ in range(MAX_PAGES):
        page = second_api.get(PERSONAS, params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        assert persona["id"] not in [row["id"] for row in page["personas"]], "another client lists the persona"
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break


@covers("INTV-2", "AUTH-6")
def test_a_session_on_an_unknown_persona_is_404(api, ops):
    resp = create_session(api, "00000000-0000-4000-8000-000000000000", consent_mode="integrator")
    assert_error(resp, 404, "NOT_FOUND", ops["create_session"])
