"""CV DeepMatch position config rules over HTTP: every rule broken is INVALID_INPUT at its
path, all at once (CFG-1..9, CFG-11), and configs on the documented edges are accepted.
Shared helpers: ``cvdeepmatch_helpers``.
"""

from __future__ import annotations

import re

import pytest

from contract_tests.catalog import covers
from contract_tests.cvdeepmatch_helpers import (DELETE, DOCS_CONFIG, accepted, edited, invalid_fields, submit,
                                                with_education)
from contract_tests.cvdeepmatch_helpers import ops  # noqa: F401  (fixtures)

LANGUAGES = {"importance": 3, "required_languages": ["English"], "prefered_languages": ["Spanish"],
             "target_countries": ["United Kingdom"]}
WE = ("requirements", "workExperience")
SC = ("requirements", "skills", "skills_config")


# --------------------------------------------------------------------------- building requests

def with_languages(config: dict = DOCS_CONFIG, **fields) -> dict:
    return edited(config, (("requirements", "skills", "language_skills_config"), dict(LANGUAGES, **fields)))


def skill_items(prefix: str, count: int) -> list[dict]:
    return [{"name": f"{prefix} {n}", "importance": 3} for n in range(1, count + 1)]


# --------------------------------------------------------------------------- reading responses

def _strip_indexes(path: str) -> str:
    return re.sub(r"\[[0-9]+\]", "", path)


def names_config_path(fields: dict, *paths: str) -> bool:
    """Some field path is ``config.<path>`` or lies under it (list indexes ignored)."""
    wanted = ["config." + _strip_indexes(p) for p in paths]
    keys = [_strip_indexes(k) for k in fields]
    return any(k == w or k.startswith(w + ".") for k in keys for w in wanted)


# --------------------------------------------------------------------------- the position config

CONFIG_VIOLATIONS = [
    # CFG-1: required structure
    ("CFG-1", "no-name", edited(DOCS_CONFIG, (("name",), DELETE)), ("name",)),
    ("CFG-1", "no-workExperience", edited(DOCS_CONFIG, (WE, DELETE)), ("requirements.workExperience",)),
    ("CFG-1", "no-from", edited(DOCS_CONFIG, (WE + ("from",), DELETE)), ("requirements.workExperience.from",)),
    ("CFG-1", "no-to", edited(DOCS_CONFIG, (WE + ("to",), DELETE)), ("requirements.workExperience.to",)),
    ("CFG-1", "no-experience-importance", edited(DOCS_CONFIG, (WE + ("importance",), DELETE)),
     ("requirements.workExperience.importance",)),
    ("CFG-1", "no-industries-config", edited(DOCS_CONFIG, (WE + ("industries_config",), DELETE)),
     ("requirements.workExperience.industries_config",)),
    ("CFG-1", "no-skills-importance", edited(DOCS_CONFIG, (("requirements", "skills", "importance"), DELETE)),
     ("requirements.skills.importance",)),
    ("CFG-1", "no-skills-config", edited(DOCS_CONFIG, (SC, DELETE)), ("requirements.skills.skills_config",)),
    ("CFG-1", "no-toggles", edited(DOCS_CONFIG, (SC + ("requirements",), DELETE)),
     ("requirements.skills.skills_config.requirements",)),
    ("CFG-1", "no-minimal-toggle", edited(DOCS_CONFIG, (SC + ("requirements", "minimal_qualifications"), DELETE)),
     ("requirements.skills.skills_config.requirements.minimal_qualifications",)),
    ("CFG-1", "toggle-not-boolean", edited(DOCS_CONFIG, (SC + ("requirements", "preferable_qualifications"), "yes")),
     ("requirements.skills.skills_config.requirements.preferable_qualifications",)),
    # CFG-2: every importance an integer 1–5
    ("CFG-2", "importance-0", edited(DOCS_CONFIG, (WE + ("importance",), 0)), ("requirements.workExperience.importance",)),
    ("CFG-2", "importance-negative", edited(DOCS_CONFIG, (("requirements", "skills", "importance"), -1)),
     ("requirements.skills.importance",)),
    ("CFG-2", "importance-6", edited(DOCS_CONFIG, (SC + ("hard_skills", 0, "importance"), 6)),
     ("requirements.skills.skills_config.hard_skills[0].importance",)),
    ("CFG-2", "importance-fraction", edited(DOCS_CONFIG, (WE + ("industries_config", 1, "importance"), 4.5)),
     ("requirements.workExperience.industries_config[1].importance",)),
    ("CFG-2", "importance-7-in-education", edited(with_education(), (("requirements", "education", "importance"), 7)),
     ("requirements.education.importance",)),
    ("CFG-2", "importance-0-in-languages", with_languages(importance=0),
     ("requirements.skills.language_skills_config.importance",)),
    ("CFG-2", "time-importance-6", edited(DOCS_CONFIG, (WE + ("time_importance",), 6)),
     ("requirements.workExperience.time_importance",)),
    # CFG-3: from ≤ to, integer years
    ("CFG-3", "from-above-to", edited(DOCS_CONFIG, (WE + ("from",), 11)),
     ("requirements.workExperience.from", "requirements.workExperience.to")),
    ("CFG-3", "fractional-years", edited(DOCS_CONFIG, (WE + ("from",), 2.5)), ("requirements.workExperience.from",)),
    # CFG-4: 1–3 industries mirrored one-for-one
    ("CFG-4", "no-industries", edited(DOCS_CONFIG, (WE + ("relevant_industries",), []), (WE + ("industries_config",), [])),
     ("requirements.workExperience.relevant_industries",)),
    ("CFG-4", "four-industries", edited(DOCS_CONFIG, (WE + ("relevant_industries",), ["A", "B", "C", "D"]),
                                        (WE + ("industries_config",), [{"name": n, "importance": 3} for n in "ABCD"])),
     ("requirements.workExperience.relevant_industries", "requirements.workExperience.industries_config")),
    ("CFG-4", "count-mismatch", edited(DOCS_CONFIG, (WE + ("industries_config",), [{"name": "SaaS", "importance": 5}])),
     ("requirements.workExperience.industries_config",)),
    ("CFG-4", "names-do-not-mirror", edited(DOCS_CONFIG, (WE + ("industries_config", 1, "name"), "Retail")),
     ("requirements.workExperience.industries_config",)),
    # CFG-5: cardinality caps
    ("CFG-5", "six-hard-skills", edited(DOCS_CONFIG, (SC + ("hard_skills",), skill_items("Tool", 6))),
     ("requirements.skills.skills_config.hard_skills",)),
    ("CFG-5", "six-soft-skills", edited(DOCS_CONFIG, (SC + ("soft_skills",), skill_items("Trait", 6))),
     ("requirements.skills.skills_config.soft_skills",)),
    ("CFG-5", "four-minimal", edited(DOCS_CONFIG, (SC + ("minimal_qualifications",), skill_items("Essential", 4))),
     ("requirements.skills.skills_config.minimal_qualifications",)),
    ("CFG-5", "four-preferable", edited(DOCS_CONFIG, (SC + ("preferable_qualifications",), skill_items("Plus", 4))),
     ("requirements.skills.skills_config.preferable_qualifications",)),
    # CFG-6: study_status, case-sensitive
    ("CFG-6", "graduated", with_education(study_status="Graduated"), ("requirements.education.academic.study_status",)),
    ("CFG-6", "lower-case", with_education(study_status="graduate"), ("requirements.education.academic.study_status",)),
    # CFG-7: plain language names
    ("CFG-7", "parentheses", with_languages(required_languages=["English (B2+)"]),
     ("requirements.skills.language_skills_config.required_languages",)),
    ("CFG-7", "brackets", with_languages(required_languages=["English [C1]"]),
     ("requirements.skills.language_skills_config.required_languages",)),
    ("CFG-7", "slash-in-prefered", with_languages(prefered_languages=["Spanish/Catalan"]),
     ("requirements.skills.language_skills_config.prefered_languages",)),
    # CFG-11: name non-empty; a sent education block is complete
    ("CFG-11", "empty-name", edited(DOCS_CONFIG, (("name",), "")), ("name",)),
    ("CFG-11", "name-not-a-string", edited(DOCS_CONFIG, (("name",), 42)), ("name",)),
    ("CFG-11", "partial-education", edited(DOCS_CONFIG, (("requirements", "education"), {"is_enabled": False})),
     ("requirements.education",)),
]


@pytest.mark.parametrize("rule, config, paths", [
    pytest.param(rule, config, paths, id=f"{rule}-{label}",
                 marks=covers(rule, "CFG-9", *(("A2",) if rule == "CFG-2" else ())))
    for rule, label, config, paths in CONFIG_VIOLATIONS])
def test_a_config_breaking_a_rule_is_invalid_input_at_its_path(api, ops, rule, config, paths):
    fields = invalid_fields(submit(api, config=config), ops.submit)
    assert names_config_path(fields, *paths), f"{rule}: details.fields names none of config.{paths}: {fields}"


@covers("CFG-9", "CFG-3", "CFG-2", "CFG-6", "CFG-7")
def test_every_config_violation_is_reported_at_once(api, ops):
    config = edited(with_languages(with_education(study_status="Graduated"), required_languages=["English (B2+)"]),
                    (WE + ("from",), 11), (SC + ("hard_skills", 0, "importance"), 6))
    fields = invalid_fields(submit(api, config=config), ops.submit)
    for path in (("requirements.workExperience.from", "requirements.workExperience.to"),
                 ("requirements.skills.skills_config.hard_skills[0].importance",),
                 ("requirements.education.academic.study_status",),
                 ("requirements.skills.language_skills_config.required_languages",)):
        assert names_config_path(fields, *path), f"config.{path[0]} is not among the reported fields: {fields}"


# --------------------------------------------------------------------------- accepted submits (spend credits)

EDGE_CONFIGS = [
    ("CVDM-3", "position-id-28-chars", DOCS_CONFIG, "Ab9._-" * 4 + "Zz0_"),
    ("CFG-2", "importance-1-and-5", edited(DOCS_CONFIG, (WE + ("importance",), 1), (SC + ("hard_skills", 0, "importance"), 5)),
     None),
    ("CFG-3", "from-equals-to", edited(DOCS_CONFIG, (WE + ("from",), 10)), None),
    ("CFG-4", "three-industries", edited(DOCS_CONFIG, (WE + ("relevant_industries",), ["SaaS", "Fintech", "Retail"]),
                                         (WE + ("industries_config",), [{"name": n, "importance": 3} for n in
                                                                        ("SaaS", "Fintech", "Retail")])), None),
    ("CFG-5", "at-every-cap", edited(DOCS_CONFIG, (SC + ("hard_skills",), skill_items("Tool", 5)),
                                     (SC + ("soft_skills",), skill_items("Trait", 5)),
                                     (SC + ("minimal_qualifications",), skill_items("Essential", 3)),
                                     (SC + ("preferable_qualifications",), skill_items("Plus", 3))), None),
    ("CFG-6", "full-education-off", with_education(study_status="Graduate"), None),
    ("CFG-11", "position-name-alias", edited(DOCS_CONFIG, (("name",), DELETE), (("position_name",), "Backend Engineer")),
     None),
    ("CFG-11", "preferred-two-rs-and-misplaced-language",
     edited(with_languages(), (("requirements", "skills", "language_skills_config", "preferred_languages"), ["French"]),
            (SC + ("hard_skills",), [{"name": "English", "importance": 3}])), None),
]


@pytest.mark.parametrize("rule, config, position_id", [
    pytest.param(rule, config, position_id, id=f"{rule}-{label}", marks=covers(rule))
    for rule, label, config, position_id in EDGE_CONFIGS])
def test_a_config_on_the_documented_edges_is_accepted(api, ops, credit_guard, rule, config, position_id):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    accepted(submit(api, config=config, **({"position_id": position_id} if position_id else {})), ops)
