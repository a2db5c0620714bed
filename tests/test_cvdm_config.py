"""The CV DeepMatch position-config validator: every CFG rule, all-at-once reporting, auto-fill.

Each rule in `cvdm_config.RULES` has one failing and one passing config here (a rule
without a case fails the suite), the required/full-block/limit tables are iterated, and
Hypothesis checks that valid configs pass and single-rule mutations are refused at the
rule's path.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.errors import ApiError, validation_error
from mockserver.modules.cvdeepmatch import config as cc
from mockserver.modules.cvdeepmatch.config import (
    AUTO_FILL_DEFAULTS, DOCS_MINIMAL_CONFIG, EDUCATION_FULL_BLOCK_FIELDS, LIST_LIMITS, REQUIRED_FIELDS,
    RULES, RULES_BY_KEY, education_enabled, parse_config_text,
    validate_config_text, validate_position_config,
)

def require_valid_config(text: str) -> dict:
    """The filled config, or the 400 INVALID_INPUT the submit handler answers (every violation
    in details.fields)."""
    filled, fields = validate_config_text(text)
    if filled is None:
        raise validation_error("INVALID_INPUT", fields, message="The position config failed validation.")
    return filled


WE = "requirements.workExperience"
SC = "requirements.skills.skills_config"
LS = "requirements.skills.language_skills_config"
ED = "requirements.education"

FULL_EDUCATION = {
    "is_enabled": True,
    "importance": 3,
    "academic": {"importance": 4, "degree_level": "Bachelor", "study_status": "Graduate",
                 "fields_of_study": ["Computer Science"]},
    "non_academic": {"importance": 2, "certifications": ["AWS Certified Developer"]},
}


# -- path helpers ------------------------------------------------------------------------

def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        steps.append(int(index) if index else name)
    return steps


def _get(config: Any, path: str) -> Any:
    node = config
    for step in _steps(path):
        node = node[step]
    return node


def _set(config: dict, path: str, value: Any) -> dict:
    steps = _steps(path)
    node = config
    for step in steps[:-1]:
        node = node[step]
    node[steps[-1]] = value
    return config


def _delete(config: dict, path: str) -> dict:
    steps = _steps(path)
    node = config
    for step in steps[:-1]:
        node = node[step]
    del node[steps[-1]]
    return config


def minimal() -> dict:
    return copy.deepcopy(DOCS_MINIMAL_CONFIG)


def skills(count: int, prefix: str) -> list[dict]:
    return [{"name": f"{prefix} {n}", "importance": 3} for n in range(count)]


def message_prefix(rule_key: str) -> str:
    return RULES_BY_KEY[rule_key].message.split("{")[0]


def assert_refused_at(fields: dict, path: str, rule_key: str) -> None:
    assert path in fields, f"{path} not in {sorted(fields)}"
    assert any(m.startswith(message_prefix(rule_key)) for m in fields[path]), fields[path]


# -- one failing and one passing config per rule ------------------------------------------

Mutation = Callable[[dict], dict]


def text_of(mutate: Mutation) -> str:
    return json.dumps(mutate(minimal()))


def with_industries(names: list[str], configured: list[str]) -> Mutation:
    def mutate(config: dict) -> dict:
        _set(config, f"{WE}.relevant_industries", names)
        return _set(config, f"{WE}.industries_config", [{"name": n, "importance": 3} for n in configured])
    return mutate


def with_education(**academic: Any) -> Mutation:
    def mutate(config: dict) -> dict:
        education = copy.deepcopy(FULL_EDUCATION)
        education["academic"].update(academic)
        return _set(config, ED, education)
    return mutate


def with_languages(names: list[str]) -> Mutation:
    return lambda config: _set(config, "requirements.skills.language_skills_config", {"required_languages": names})


def padded(chars: int) -> str:
    config = minimal()
    config["notes"] = ""
    base = len(json.dumps(config))
    config["notes"] = "x" * (chars - base)
    return json.dumps(config)


# rule key -> (failing config text, path reported, passing config text)
RULE_CASES: dict[str, tuple[str, str, str]] = {
    "config_json": ('{"name": "x",', "config", text_of(lambda c: c)),
    "config_object": ('["Senior Backend Engineer"]', "config", text_of(lambda c: c)),
    "config_too_long": (padded(cc.MAX_CONFIG_CHARS + 1), "config", padded(cc.MAX_CONFIG_CHARS)),
    "required": (text_of(lambda c: _delete(c, f"{WE}.to")), f"config.{WE}.to", text_of(lambda c: c)),
    "position_name_required": (text_of(lambda c: _delete(c, "name")), "config.name",
                               text_of(lambda c: _set(_delete(c, "name"), "position_name", "Backend Engineer"))),
    "position_name_text": (text_of(lambda c: _set(c, "name", "   ")), "config.name",
                           text_of(lambda c: _set(c, "name", "B"))),
    "must_be_object": (text_of(lambda c: _set(c, SC, [])), f"config.{SC}", text_of(lambda c: c)),
    "must_be_array": (text_of(lambda c: _set(c, f"{SC}.hard_skills", {"name": "Go", "importance": 3})),
                      f"config.{SC}.hard_skills", text_of(lambda c: _set(c, f"{SC}.hard_skills", []))),
    "must_be_boolean": (text_of(lambda c: _set(c, f"{SC}.requirements.minimal_qualifications", "true")),
                        f"config.{SC}.requirements.minimal_qualifications",
                        text_of(lambda c: _set(c, f"{SC}.requirements.minimal_qualifications", False))),
    "non_empty_text": (text_of(lambda c: _set(c, f"{WE}.relevant_roles", [" "])), f"config.{WE}.relevant_roles[0]",
                       text_of(lambda c: _set(c, f"{WE}.relevant_roles", ["Backend Engineer", "SRE"]))),
    "importance_range": (text_of(lambda c: _set(c, "requirements.skills.importance", 0)),
                         "config.requirements.skills.importance",
                         text_of(lambda c: _set(c, "requirements.skills.importance", 1))),
    "years_integer": (text_of(lambda c: _set(c, f"{WE}.from", -1)), f"config.{WE}.from",
                      text_of(lambda c: _set(c, f"{WE}.from", 0))),
    "from_after_to": (text_of(lambda c: _set(c, f"{WE}.from", 11)), f"config.{WE}.from",
                      text_of(lambda c: _set(c, f"{WE}.from", 10))),
    "industries_count": (text_of(with_industries([], [])), f"config.{WE}.relevant_industries",
                         text_of(with_industries(["SaaS", "Fintech", "Retail"], ["SaaS", "Fintech", "Retail"]))),
    "industries_mirror_count": (text_of(with_industries(["SaaS", "Fintech"], ["SaaS"])),
                                f"config.{WE}.industries_config",
                                text_of(with_industries(["SaaS", "Fintech"], ["Fintech", "SaaS"]))),
    "industries_mirror_name": (text_of(with_industries(["SaaS", "Fintech"], ["SaaS", "Banking"])),
                               f"config.{WE}.industries_config[1].name",
                               text_of(with_industries(["SaaS", "SaaS"], ["SaaS", "SaaS"]))),
    "list_too_long": (text_of(lambda c: _set(c, f"{SC}.minimal_qualifications", skills(4, "Q"))),
                      f"config.{SC}.minimal_qualifications",
                      text_of(lambda c: _set(c, f"{SC}.minimal_qualifications", skills(3, "Q")))),
    "skills_combined_too_long": (
        text_of(lambda c: _set(_set(c, f"{SC}.hard_skills", skills(6, "H")), f"{SC}.soft_skills", skills(5, "S"))),
        f"config.{SC}",
        text_of(lambda c: _set(_set(c, f"{SC}.hard_skills", skills(5, "H")), f"{SC}.soft_skills", skills(5, "S")))),
    "study_status_enum": (text_of(with_education(study_status="graduate")), f"config.{ED}.academic.study_status",
                          text_of(with_education(study_status="Undergraduate"))),
    "plain_language_name": (text_of(with_languages(["English", "Spanish/Catalan"])), f"config.{LS}.required_languages[1]",
                            text_of(with_languages(["English", "Spanish"]))),
    "non_negative_integer": (text_of(lambda c: _set(c, f"{WE}.minimum_job_experience_duration", 2.5)),
                             f"config.{WE}.minimum_job_experience_duration",
                             text_of(lambda c: _set(c, f"{WE}.minimum_job_experience_duration", 0))),
    "percentage": (text_of(lambda c: _set(c, f"{WE}.threshold_for_one_exp_relevance", 101)),
                   f"config.{WE}.threshold_for_one_exp_relevance",
                   text_of(lambda c: _set(c, f"{WE}.threshold_for_one_exp_relevance", 99.5))),
    "education_full_block": (text_of(lambda c: _set(c, ED, {"is_enabled": False})), f"config.{ED}.academic",
                             text_of(lambda c: _set(c, ED, dict(copy.deepcopy(FULL_EDUCATION), is_enabled=False)))),
}


@pytest.mark.parametrize("rule", RULES, ids=[rule.key for rule in RULES])
def test_each_rule_refuses_its_violation_at_its_path(rule):
    failing, path, _ = RULE_CASES[rule.key]
    filled, fields = validate_config_text(failing)
    assert filled is None
    assert_refused_at(fields, path, rule.key)


@pytest.mark.parametrize("rule", RULES, ids=[rule.key for rule in RULES])
def test_each_rule_accepts_the_nearest_valid_config(rule):
    _, _, passing = RULE_CASES[rule.key]
    filled, fields = validate_config_text(passing)
    assert fields == {}
    assert isinstance(filled, dict)


def test_every_rule_has_a_case_and_names_a_cfg_behaviour():
    assert set(RULE_CASES) == set(RULES_BY_KEY)
    assert all(re.fullmatch(r"CFG-\d+", rule.behaviour) for rule in RULES)


# -- the tables, iterated ----------------------------------------------------------------

@pytest.mark.parametrize("path", REQUIRED_FIELDS)
def test_each_required_field_is_reported_missing_when_omitted(path):
    filled, fields = validate_position_config(_delete(minimal(), path))
    assert filled is None
    assert_refused_at(fields, f"config.{path}", "required")


@pytest.mark.parametrize("path", REQUIRED_FIELDS)
def test_a_null_required_field_counts_as_missing(path):
    _, fields = validate_position_config(_set(minimal(), path, None))
    assert_refused_at(fields, f"config.{path}", "required")


@pytest.mark.parametrize("path", EDUCATION_FULL_BLOCK_FIELDS)
def test_a_sent_education_block_missing_any_part_is_refused(path):
    config = _set(minimal(), ED, copy.deepcopy(FULL_EDUCATION))
    _, fields = validate_position_config(_delete(config, path))
    assert_refused_at(fields, f"config.{path}", "education_full_block")


@pytest.mark.parametrize("path,limit", LIST_LIMITS.items())
def test_each_list_accepts_its_cap_and_refuses_one_more(path, limit):
    def at(count: int) -> dict:
        config = minimal()
        if "industr" in path:
            names = [f"Industry {n}" for n in range(count)]
            return with_industries(names, names)(config)
        return _set(config, path, skills(count, "Item"))

    assert validate_position_config(at(limit))[1] == {}
    _, fields = validate_position_config(at(limit + 1))
    assert f"config.{path}" in fields


@pytest.mark.parametrize("path,default", AUTO_FILL_DEFAULTS.items())
def test_each_omitted_optional_field_is_filled_with_its_default(path, default):
    config = minimal()
    config["requirements"]["skills"]["language_skills_config"] = {"required_languages": ["English"]}
    if path.startswith(ED + "."):
        config = _set(config, ED, copy.deepcopy(FULL_EDUCATION))
    parent, _, key = path.rpartition(".")
    _get(config, parent).pop(key, None)
    filled, fields = validate_position_config(config)
    assert fields == {}
    assert _get(filled, path) == default


# -- specific behaviours -----------------------------------------------------------------

def test_the_docs_minimal_config_is_accepted_and_the_stored_copy_gains_the_defaults():
    filled, fields = validate_position_config(DOCS_MINIMAL_CONFIG)
    assert fields == {}
    assert filled["requirements"]["education"] == cc.DISABLED_EDUCATION
    assert filled["requirements"]["skills"]["language_skills_config"] == AUTO_FILL_DEFAULTS[LS]
    assert filled["requirements"]["workExperience"]["threshold_for_one_exp_relevance"] == 84  # sent, kept
    assert "education" not in DOCS_MINIMAL_CONFIG["requirements"]  # the input is not modified
    assert education_enabled(filled) is False


def test_the_integration_guide_curl_config_without_optional_workexperience_fields_is_accepted():
    config = minimal()
    for key in ("time_importance", "transferable_skills", "minimum_job_experience_duration",
                "threshold_for_one_exp_relevance", "relevant_roles", "relevant_companies"):
        del config["requirements"]["workExperience"][key]
    filled, fields = validate_position_config(config)
    assert fields == {}
    assert filled["requirements"]["workExperience"]["time_importance"] == 3
    assert filled["requirements"]["workExperience"]["relevant_roles"] == []


def test_all_violations_are_reported_at_once():
    config = minimal()
    del config["name"]
    _set(config, f"{WE}.from", 12)
    _set(config, f"{WE}.industries_config[1].importance", 4.5)
    _set(config, f"{SC}.hard_skills", skills(6, "H"))
    _set(config, ED, {"is_enabled": True})
    _set(config, LS, {"prefered_languages": ["English (B2+)"]})
    filled, fields = validate_position_config(config)
    assert filled is None
    assert set(fields) >= {
        "config.name",
        f"config.{WE}.from",
        f"config.{WE}.industries_config[1].importance",
        f"config.{SC}.hard_skills",
        f"config.{ED}.importance",
        f"config.{ED}.academic",
        f"config.{ED}.non_academic",
        f"config.{LS}.prefered_languages[0]",
    }


@pytest.mark.parametrize("value", [0, 6, -1, 4.5, True, False, "4", [4], {"v": 4}])
def test_importance_that_is_not_an_integer_1_to_5_is_refused(value):
    _, fields = validate_position_config(_set(minimal(), f"{SC}.hard_skills[0].importance", value))
    assert_refused_at(fields, f"config.{SC}.hard_skills[0].importance", "importance_range")


def test_an_integral_float_importance_is_accepted_and_stored_as_an_integer():
    config = _set(minimal(), f"{WE}.importance", 4.0)
    _set(config, f"{WE}.from", 5.0)
    filled, fields = validate_position_config(config)
    assert fields == {}
    assert filled["requirements"]["workExperience"]["importance"] == 4
    assert isinstance(filled["requirements"]["workExperience"]["importance"], int)
    assert isinstance(filled["requirements"]["workExperience"]["from"], int)


def test_an_importance_in_a_wrong_field_is_still_checked():
    config = minimal()
    config["requirements"]["extras"] = [{"name": "Kubernetes", "importance": 9}]
    _, fields = validate_position_config(config)
    assert_refused_at(fields, "config.requirements.extras[0].importance", "importance_range")


def test_time_importance_is_an_importance():
    _, fields = validate_position_config(_set(minimal(), f"{WE}.time_importance", 7))
    assert_refused_at(fields, f"config.{WE}.time_importance", "importance_range")


def test_preferred_languages_with_two_rs_is_silently_ignored_and_kept():
    config = _set(minimal(), LS, {"preferred_languages": ["English (B2+)"], "required_languages": ["English"]})
    filled, fields = validate_position_config(config)
    assert fields == {}
    stored = filled["requirements"]["skills"]["language_skills_config"]
    assert stored["preferred_languages"] == ["English (B2+)"]
    assert stored["prefered_languages"] == []


def test_a_requirement_in_the_wrong_field_does_not_error():
    config = _set(minimal(), f"{SC}.hard_skills", [{"name": "English", "importance": 3}])
    config["requirements"]["skills"]["languages"] = ["English"]
    filled, fields = validate_position_config(config)
    assert fields == {}
    assert filled["requirements"]["skills"]["languages"] == ["English"]


@pytest.mark.parametrize("name", ["English (B2+)", "English [C1]", "English/Spanish", "Spanish (native)"])
def test_language_names_with_a_proficiency_suffix_are_refused(name):
    _, fields = validate_position_config(with_languages([name])(minimal()))
    assert_refused_at(fields, f"config.{LS}.required_languages[0]", "plain_language_name")


@pytest.mark.parametrize("status", ["Graduated", "graduate", "BOTH", "both", ""])
def test_study_status_is_case_sensitive(status):
    _, fields = validate_position_config(with_education(study_status=status)(minimal()))
    assert_refused_at(fields, f"config.{ED}.academic.study_status", "study_status_enum")


def test_a_full_enabled_education_block_is_accepted_and_enables_education():
    filled, fields = validate_position_config(_set(minimal(), ED, copy.deepcopy(FULL_EDUCATION)))
    assert fields == {}
    assert education_enabled(filled) is True


def test_position_name_alias_alone_is_accepted():
    config = _delete(minimal(), "name")
    config["position_name"] = "Senior Backend Engineer"
    filled, fields = validate_position_config(config)
    assert fields == {}
    assert filled["position_name"] == "Senior Backend Engineer"


@pytest.mark.parametrize("text,reason", [
    ("", "must be valid JSON text"),
    ("{", "must be valid JSON text"),
    ('{"name": NaN}', "must be valid JSON text"),
    ("null", "must be a JSON object"),
    ('"config"', "must be a JSON object"),
    ("42", "must be a JSON object"),
])
def test_config_text_that_is_not_a_json_object_is_a_config_field_error(text, reason):
    parsed, fields = parse_config_text(text)
    assert parsed is None
    assert list(fields) == ["config"]
    assert fields["config"][0].startswith(reason)


def test_require_valid_config_raises_invalid_input_with_every_field():
    config = _set(minimal(), f"{WE}.from", 12)
    _set(config, "requirements.skills.importance", 0)
    with pytest.raises(ApiError) as caught:
        require_valid_config(json.dumps(config))
    error = caught.value
    assert (error.status, error.code) == (400, "INVALID_INPUT")
    assert set(error.details["fields"]) == {f"config.{WE}.from", "config.requirements.skills.importance"}


def test_require_valid_config_returns_the_filled_config():
    filled = require_valid_config(json.dumps(DOCS_MINIMAL_CONFIG))
    assert filled["requirements"]["education"]["is_enabled"] is False


# -- properties --------------------------------------------------------------------------

label = st.from_regex(r"[A-Z][A-Za-z0-9.+#]{0,11}( [A-Za-z0-9]{1,8}){0,2}", fullmatch=True)
importance = st.one_of(st.integers(1, 5), st.integers(1, 5).map(float))
weighted = st.builds(lambda name, imp: {"name": name, "importance": imp}, label, importance)
language = st.sampled_from(["English", "Spanish", "German", "Portuguese", "Mandarin", "Serbian"])


@st.composite
def valid_configs(draw) -> dict:
    low = draw(st.integers(0, 20))
    industries = draw(st.lists(label, min_size=1, max_size=3))
    mirrored = draw(st.permutations(industries))
    work: dict[str, Any] = {
        "from": low, "to": draw(st.integers(low, 40)), "importance": draw(importance),
        "relevant_industries": industries,
        "industries_config": [{"name": n, "importance": draw(importance)} for n in mirrored],
    }
    optional_work = {
        "time_importance": importance, "transferable_skills": st.booleans(),
        "minimum_job_experience_duration": st.integers(0, 120),
        "threshold_for_one_exp_relevance": st.integers(0, 100),
        "relevant_roles": st.lists(label, max_size=3), "relevant_companies": st.lists(label, max_size=3),
    }
    for key, strategy in optional_work.items():
        if draw(st.booleans()):
            work[key] = draw(strategy)
    hard = draw(st.lists(weighted, max_size=5))
    skills_config: dict[str, Any] = {
        "soft_skills": draw(st.lists(weighted, max_size=5)),
        "minimal_qualifications": draw(st.lists(weighted, max_size=3)),
        "preferable_qualifications": draw(st.lists(weighted, max_size=3)),
        "requirements": {"minimal_qualifications": draw(st.booleans()),
                         "preferable_qualifications": draw(st.booleans())},
    }
    if hard or draw(st.booleans()):
        skills_config["hard_skills"] = hard
    skills_block: dict[str, Any] = {"importance": draw(importance), "skills_config": skills_config}
    if draw(st.booleans()):
        skills_block["language_skills_config"] = {
            "required_languages": draw(st.lists(language, max_size=2)),
            "prefered_languages": draw(st.lists(language, max_size=2)),
            "target_countries": draw(st.lists(label, max_size=2)),
        }
    requirements: dict[str, Any] = {"workExperience": work, "skills": skills_block}
    if draw(st.booleans()):
        requirements["education"] = {
            "is_enabled": draw(st.booleans()), "importance": draw(importance),
            "academic": {"importance": draw(importance), "degree_level": draw(st.sampled_from(["High School", "Bachelor", "Master", "PhD"])),
                         "study_status": draw(st.sampled_from(cc.STUDY_STATUSES))},
            "non_academic": {"importance": draw(importance)},
        }
    config: dict[str, Any] = {"requirements": requirements}
    config[draw(st.sampled_from(["name", "position_name"]))] = draw(label)
    if draw(st.booleans()):
        config["explanations"] = {"language_skills_config": {"required_languages": "English C1"}}
    if draw(st.booleans()):
        config["requirements"]["skills"]["preferred_languages"] = ["English (B2+)"]
    return config


def _importance_paths(config: Any, path: str = "") -> list[str]:
    found = []
    if isinstance(config, dict):
        for key, child in config.items():
            child_path = f"{path}.{key}" if path else key
            if key in cc.IMPORTANCE_KEYS:
                found.append(child_path)
            else:
                found += _importance_paths(child, child_path)
    elif isinstance(config, list):
        for index, child in enumerate(config):
            found += _importance_paths(child, f"{path}[{index}]")
    return found


def _mutate_importance(draw, config):
    path = draw(st.sampled_from(_importance_paths(config)))
    return _set(config, path, draw(st.sampled_from([0, 6, -2, 2.5, True, "3"]))), path


def _mutate_from_after_to(draw, config):
    to = config["requirements"]["workExperience"]["to"]
    return _set(config, f"{WE}.from", to + draw(st.integers(1, 10))), f"{WE}.from"


def _mutate_years(draw, config):
    key = draw(st.sampled_from(["from", "to"]))
    return _set(config, f"{WE}.{key}", draw(st.sampled_from([-1, 2.5, "5", True]))), f"{WE}.{key}"


def _mutate_required(draw, config):
    path = draw(st.sampled_from(REQUIRED_FIELDS))
    return _delete(config, path), path


def _mutate_industries_count(draw, config):
    return with_industries([], [])(config), f"{WE}.relevant_industries"


def _mutate_mirror_count(draw, config):
    configured = config["requirements"]["workExperience"]["industries_config"]
    return _set(config, f"{WE}.industries_config", configured[:-1]), f"{WE}.industries_config"


def _mutate_mirror_name(draw, config):
    return _set(config, f"{WE}.industries_config[0].name", "zz not an industry"), f"{WE}.industries_config[0].name"


def _mutate_list_length(draw, config):
    path = draw(st.sampled_from([p for p in LIST_LIMITS if "industr" not in p]))
    return _set(config, path, skills(LIST_LIMITS[path] + 1, "Extra")), path


def _mutate_study_status(draw, config):
    return with_education(study_status=draw(st.sampled_from(["Graduated", "both", "", "PhD"])))(config), \
        f"{ED}.academic.study_status"


def _mutate_language(draw, config):
    key = draw(st.sampled_from(["required_languages", "prefered_languages"]))
    block = config["requirements"]["skills"].setdefault("language_skills_config", {})
    names = list(block.get(key) or []) + [draw(st.sampled_from(["English (B2)", "German [C1]", "Serbian/Croatian"]))]
    block[key] = names
    return config, f"{LS}.{key}[{len(names) - 1}]"


def _mutate_position_name(draw, config):
    key = "name" if "name" in config else "position_name"
    return _set(config, key, draw(st.sampled_from(["", "   ", 5, ["x"]]))), key


def _mutate_education_block(draw, config):
    education = copy.deepcopy(FULL_EDUCATION)
    path = draw(st.sampled_from(EDUCATION_FULL_BLOCK_FIELDS))
    config = _set(config, ED, education)
    return _delete(config, path), path


def _mutate_toggle(draw, config):
    key = draw(st.sampled_from(["minimal_qualifications", "preferable_qualifications"]))
    path = f"{SC}.requirements.{key}"
    return _set(config, path, draw(st.sampled_from(["yes", 1, 0, "false"]))), path


MUTATIONS = {
    "importance_range": _mutate_importance, "from_after_to": _mutate_from_after_to,
    "years_integer": _mutate_years, "required": _mutate_required,
    "industries_count": _mutate_industries_count, "industries_mirror_count": _mutate_mirror_count,
    "industries_mirror_name": _mutate_mirror_name, "list_too_long": _mutate_list_length,
    "study_status_enum": _mutate_study_status, "plain_language_name": _mutate_language,
    "position_name_text": _mutate_position_name, "education_full_block": _mutate_education_block,
    "must_be_boolean": _mutate_toggle,
}


@settings(max_examples=200, deadline=None)
@given(valid_configs())
def test_any_generated_valid_config_is_accepted(config):
    original = copy.deepcopy(config)
    filled, fields = validate_position_config(config)
    assert fields == {}
    assert filled is not None
    assert config == original


@settings(max_examples=300, deadline=None)
@given(valid_configs(), st.sampled_from(sorted(MUTATIONS)), st.data())
def test_any_single_rule_mutation_of_a_valid_config_is_refused_at_that_path(config, rule_key, data):
    mutated, path = MUTATIONS[rule_key](data.draw, copy.deepcopy(config))
    filled, fields = validate_position_config(mutated)
    assert filled is None
    assert f"config.{path}" in fields, (rule_key, path, fields)
