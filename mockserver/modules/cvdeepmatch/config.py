"""The CV DeepMatch position-config validator and auto-filler (CFG-1..9, CFG-11).

Owns the `config` form field of `POST /api/v1/cvdeepmatch/submit`: parsing its JSON text,
checking every documented rule, reporting ALL violations at once as `details.fields`
(paths like ``config.requirements.workExperience.industries_config[1].importance``), and
filling omitted optional structures with safe defaults (CFG-8) so the stored config is the
one the matching engine reads.

Everything the rules need lives in the tables below (fields and their kinds, required
fields, limits, defaults, messages), so the tests iterate the same tables the code reads.

Decisions where the docs are silent (also recorded in the contract's `x-provenance`):
- An integral float (``4.0``) counts as an integer and is stored as ``4`` — JSON cannot tell
  them apart for a JavaScript server, and JSON Schema's ``integer`` accepts it. ``4.5``, ``true``,
  ``"4"`` are rejected.
- ``time_importance`` is an importance too (integer 1–5).
- ``null`` for a field means "not sent": optional fields are then auto-filled, required ones
  are reported missing.
- ``industries_config`` mirrors ``relevant_industries`` as a multiset of names (order free,
  case-sensitive).
- Unknown keys are kept as sent (a requirement in the wrong field does not error, CFG-11);
  ``preferred_languages`` (two r) is one of them and is never read.
"""

from __future__ import annotations

import copy
import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any


CONFIG_FIELD = "config"
MAX_CONFIG_CHARS = 65_536

# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigRule:
    """One documented rule: the catalog behaviour it realises and its message template."""

    key: str
    behaviour: str
    message: str


RULES: tuple[ConfigRule, ...] = (
    ConfigRule("config_json", "CFG-9", "must be valid JSON text ({reason})"),
    ConfigRule("config_object", "CFG-1", "must be a JSON object"),
    ConfigRule("config_too_long", "CFG-9", "must be at most {limit} characters of JSON text"),
    ConfigRule("required", "CFG-1", "is required"),
    ConfigRule("position_name_required", "CFG-11",
               "name (or position_name) is required: the position title as a non-empty string"),
    ConfigRule("position_name_text", "CFG-11", "must be a non-empty string"),
    ConfigRule("must_be_object", "CFG-1", "must be an object"),
    ConfigRule("must_be_array", "CFG-1", "must be an array"),
    ConfigRule("must_be_boolean", "CFG-1", "must be a boolean (true or false)"),
    ConfigRule("non_empty_text", "CFG-1", "must be a non-empty string"),
    ConfigRule("importance_range", "CFG-2", "must be an integer from 1 to 5 (got {value})"),
    ConfigRule("years_integer", "CFG-3", "must be a whole number of years, 0 or more (got {value})"),
    ConfigRule("from_after_to", "CFG-3", "must be less than or equal to `to` ({to}); got {value}"),
    ConfigRule("industries_count", "CFG-4", "must hold 1 to 3 industries (got {count})"),
    ConfigRule("industries_mirror_count", "CFG-4",
               "must hold exactly one entry per relevant_industries entry ({expected}); got {count}"),
    ConfigRule("industries_mirror_name", "CFG-4",
               "{value} does not mirror an entry of relevant_industries"),
    ConfigRule("list_too_long", "CFG-5", "must hold at most {limit} entries (got {count})"),
    ConfigRule("skills_combined_too_long", "CFG-5",
               "hard_skills and soft_skills together must hold at most {limit} entries (got {count})"),
    ConfigRule("study_status_enum", "CFG-6",
               "must be one of Both, Undergraduate, Graduate (case-sensitive); got {value}"),
    ConfigRule("plain_language_name", "CFG-7",
               "must be a plain language name without (, ), [, ] or / (got {value}); put the level in explanations"),
    ConfigRule("non_negative_integer", "CFG-8", "must be an integer, 0 or more (got {value})"),
    ConfigRule("percentage", "CFG-8", "must be a number from 0 to 100 (got {value})"),
    ConfigRule("education_full_block", "CFG-11",
               "is required when education is sent: send the full block (disable it with is_enabled: false)"),
)
RULES_BY_KEY: dict[str, ConfigRule] = {rule.key: rule for rule in RULES}

# Field kinds: how the value at a path is checked.
OBJECT, FREE_OBJECT, YEARS, IMPORTANCE, BOOLEAN, TEXT = "object", "free_object", "years", "importance", "boolean", "text"
TEXT_LIST, LANGUAGE_LIST, WEIGHTED_LIST = "text_list", "language_list", "weighted_list"
NON_NEGATIVE_INT, PERCENTAGE, STUDY_STATUS = "non_negative_int", "percentage", "study_status"

# When a field must be present.
REQUIRED, OPTIONAL, FULL_BLOCK = "required", "optional", "full_block"


@dataclass(frozen=True)
class FieldSpec:
    """A known field of the config: dotted path under `config`, kind, presence rule.

    ``FULL_BLOCK`` fields are required whenever their parent object is sent (education).
    """

    path: str
    kind: str
    presence: str


WE = "requirements.workExperience"
SK = "requirements.skills"
SC = "requirements.skills.skills_config"
LS = "requirements.skills.language_skills_config"
ED = "requirements.education"

FIELD_SPECS: tuple[FieldSpec, ...] = (
    FieldSpec("requirements", OBJECT, REQUIRED),
    FieldSpec(WE, OBJECT, REQUIRED),
    FieldSpec(f"{WE}.from", YEARS, REQUIRED),
    FieldSpec(f"{WE}.to", YEARS, REQUIRED),
    FieldSpec(f"{WE}.importance", IMPORTANCE, REQUIRED),
    FieldSpec(f"{WE}.relevant_industries", TEXT_LIST, REQUIRED),
    FieldSpec(f"{WE}.industries_config", WEIGHTED_LIST, REQUIRED),
    FieldSpec(f"{WE}.time_importance", IMPORTANCE, OPTIONAL),
    FieldSpec(f"{WE}.transferable_skills", BOOLEAN, OPTIONAL),
    FieldSpec(f"{WE}.minimum_job_experience_duration", NON_NEGATIVE_INT, OPTIONAL),
    FieldSpec(f"{WE}.threshold_for_one_exp_relevance", PERCENTAGE, OPTIONAL),
    FieldSpec(f"{WE}.relevant_roles", TEXT_LIST, OPTIONAL),
    FieldSpec(f"{WE}.relevant_companies", TEXT_LIST, OPTIONAL),
    FieldSpec(SK, OBJECT, REQUIRED),
    FieldSpec(f"{SK}.importance", IMPORTANCE, REQUIRED),
    FieldSpec(SC, OBJECT, REQUIRED),
    FieldSpec(f"{SC}.hard_skills", WEIGHTED_LIST, OPTIONAL),
    FieldSpec(f"{SC}.soft_skills", WEIGHTED_LIST, OPTIONAL),
    FieldSpec(f"{SC}.minimal_qualifications", WEIGHTED_LIST, OPTIONAL),
    FieldSpec(f"{SC}.preferable_qualifications", WEIGHTED_LIST, OPTIONAL),
    FieldSpec(f"{SC}.requirements", OBJECT, REQUIRED),
    FieldSpec(f"{SC}.requirements.minimal_qualifications", BOOLEAN, REQUIRED),
    FieldSpec(f"{SC}.requirements.preferable_qualifications", BOOLEAN, REQUIRED),
    FieldSpec(LS, OBJECT, OPTIONAL),
    FieldSpec(f"{LS}.importance", IMPORTANCE, OPTIONAL),
    FieldSpec(f"{LS}.required_languages", LANGUAGE_LIST, OPTIONAL),
    FieldSpec(f"{LS}.prefered_languages", LANGUAGE_LIST, OPTIONAL),
    FieldSpec(f"{LS}.target_countries", TEXT_LIST, OPTIONAL),
    FieldSpec(ED, OBJECT, OPTIONAL),
    FieldSpec(f"{ED}.is_enabled", BOOLEAN, FULL_BLOCK),
    FieldSpec(f"{ED}.importance", IMPORTANCE, FULL_BLOCK),
    FieldSpec(f"{ED}.academic", OBJECT, FULL_BLOCK),
    FieldSpec(f"{ED}.academic.importance", IMPORTANCE, FULL_BLOCK),
    FieldSpec(f"{ED}.academic.degree_level", TEXT, FULL_BLOCK),
    FieldSpec(f"{ED}.academic.study_status", STUDY_STATUS, FULL_BLOCK),
    FieldSpec(f"{ED}.academic.fields_of_study", TEXT_LIST, OPTIONAL),
    FieldSpec(f"{ED}.non_academic", OBJECT, FULL_BLOCK),
    FieldSpec(f"{ED}.non_academic.importance", IMPORTANCE, FULL_BLOCK),
    FieldSpec(f"{ED}.non_academic.certifications", TEXT_LIST, OPTIONAL),
    FieldSpec("explanations", FREE_OBJECT, OPTIONAL),
)
REQUIRED_FIELDS: tuple[str, ...] = tuple(spec.path for spec in FIELD_SPECS if spec.presence == REQUIRED)
EDUCATION_FULL_BLOCK_FIELDS: tuple[str, ...] = tuple(spec.path for spec in FIELD_SPECS if spec.presence == FULL_BLOCK)

# CFG-2: every key with one of these names, anywhere in the config, is an importance.
IMPORTANCE_KEYS: frozenset[str] = frozenset({"importance", "time_importance"})
IMPORTANCE_MIN, IMPORTANCE_MAX = 1, 5

# CFG-4 / CFG-5.
INDUSTRIES_MIN, INDUSTRIES_MAX = 1, 3
LIST_LIMITS: dict[str, int] = {
    f"{WE}.relevant_industries": INDUSTRIES_MAX,
    f"{WE}.industries_config": INDUSTRIES_MAX,
    f"{SC}.hard_skills": 5,
    f"{SC}.soft_skills": 5,
    f"{SC}.minimal_qualifications": 3,
    f"{SC}.preferable_qualifications": 3,
}
COMBINED_SKILLS_LIMIT = 10

# CFG-6 / CFG-7.
STUDY_STATUSES: tuple[str, ...] = ("Both", "Undergraduate", "Graduate")
LANGUAGE_FORBIDDEN_CHARS = "()[]/"

# CFG-8: omitted optional structures, in fill order (a parent before its children). A child
# is filled only when its parent is an object; the education default is used only when the
# whole block is omitted (a partial block is a violation, never completed).
DISABLED_EDUCATION: dict[str, Any] = {
    "is_enabled": False,
    "importance": 1,
    "academic": {"importance": 1, "degree_level": "Any", "study_status": "Both", "fields_of_study": []},
    "non_academic": {"importance": 1, "certifications": []},
}
AUTO_FILL_DEFAULTS: dict[str, Any] = {
    f"{WE}.time_importance": 3,
    f"{WE}.transferable_skills": True,
    f"{WE}.minimum_job_experience_duration": 0,
    f"{WE}.threshold_for_one_exp_relevance": 80,
    f"{WE}.relevant_roles": [],
    f"{WE}.relevant_companies": [],
    f"{SC}.hard_skills": [],
    f"{SC}.soft_skills": [],
    f"{SC}.minimal_qualifications": [],
    f"{SC}.preferable_qualifications": [],
    LS: {"importance": 3, "required_languages": [], "prefered_languages": [], "target_countries": []},
    f"{LS}.importance": 3,
    f"{LS}.required_languages": [],
    f"{LS}.prefered_languages": [],
    f"{LS}.target_countries": [],
    ED: DISABLED_EDUCATION,
    f"{ED}.academic.fields_of_study": [],
    f"{ED}.non_academic.certifications": [],
}

# Integer-valued fields normalised from integral floats (4.0 → 4) in the stored config:
# every importance anywhere, plus these workExperience fields.
INTEGER_FIELDS: tuple[str, ...] = (f"{WE}.from", f"{WE}.to", f"{WE}.minimum_job_experience_duration")

# The docs' "Minimal valid config" (position-config guide), verbatim.
DOCS_MINIMAL_CONFIG: dict[str, Any] = {
    "name": "Senior Backend Engineer",
    "requirements": {
        "workExperience": {
            "from": 5, "to": 10, "importance": 5, "time_importance": 3,
            "transferable_skills": True, "minimum_job_experience_duration": 4,
            "threshold_for_one_exp_relevance": 84, "relevant_roles": ["Backend Engineer"],
            "relevant_companies": [], "relevant_industries": ["SaaS", "Fintech"],
            "industries_config": [{"name": "SaaS", "importance": 5}, {"name": "Fintech", "importance": 4}],
        },
        "skills": {
            "importance": 5,
            "skills_config": {
                "hard_skills": [
                    {"name": "Node.js", "importance": 5},
                    {"name": "TypeScript", "importance": 4},
                    {"name": "PostgreSQL", "importance": 4},
                ],
                "soft_skills": [{"name": "Communication", "importance": 4}],
                "minimal_qualifications": [],
                "preferable_qualifications": [],
                "requirements": {"minimal_qualifications": True, "preferable_qualifications": True},
            },
        },
    },
}

# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------

Fields = dict[str, list[str]]


def parse_config_text(text: str) -> tuple[dict | None, Fields]:
    """The `config` form text as a JSON object, or a `config` field error."""
    violations = _Violations()
    if len(text) > MAX_CONFIG_CHARS:
        violations.add("config_too_long", "", limit=MAX_CONFIG_CHARS)
        return None, violations.fields
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        violations.add("config_json", "", reason=str(exc))
        return None, violations.fields
    except RecursionError:
        violations.add("config_json", "", reason="nested too deeply")
        return None, violations.fields
    if not isinstance(value, dict):
        violations.add("config_object", "")
        return None, violations.fields
    return value, {}


def validate_position_config(raw: object) -> tuple[dict | None, Fields]:
    """``(filled_config, {})`` when ``raw`` obeys every rule, else ``(None, fields)``.

    ``fields`` maps each offending path (``config.…``) to its messages, all at once (CFG-9).
    ``raw`` is not modified.
    """
    violations = _Violations()
    if not isinstance(raw, dict):
        violations.add("config_object", "")
        return None, violations.fields
    _check_position_name(raw, violations)
    _check_known_fields(raw, violations)
    _check_importances(raw, violations)
    _check_years(raw, violations)
    _check_industries(raw, violations)
    _check_list_limits(raw, violations)
    if violations.fields:
        return None, violations.fields
    return _filled(raw), {}


def validate_config_text(text: str) -> tuple[dict | None, Fields]:
    """Parse then validate the `config` form text (the handler's one call)."""
    parsed, fields = parse_config_text(text)
    if parsed is None:
        return None, fields
    return validate_position_config(parsed)


def education_enabled(config: dict) -> bool:
    """Whether a (filled) config asks for education scoring."""
    education = config.get("requirements", {}).get("education")
    return isinstance(education, dict) and education.get("is_enabled") is True


def field_path(dotted: str) -> str:
    """The details.fields key for a config-relative dotted path (``""`` → ``config``)."""
    return CONFIG_FIELD if not dotted else f"{CONFIG_FIELD}.{dotted}"


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


class _Violations:
    def __init__(self) -> None:
        self.fields: Fields = {}

    def add(self, rule_key: str, dotted: str, **values: Any) -> None:
        shown = {k: _show(v) if k == "value" else v for k, v in values.items()}
        message = RULES_BY_KEY[rule_key].message.format(**shown)
        messages = self.fields.setdefault(field_path(dotted), [])
        if message not in messages:
            messages.append(message)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if _json_safe(value) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_safe(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def _as_int(value: Any) -> int | None:
    """``value`` as an int when it is an integer (integral floats included, bools not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _lookup(config: dict, dotted: str) -> tuple[bool, Any]:
    """(parent_is_object, value) for a dotted path; value None when absent."""
    node: Any = config
    parts = dotted.split(".")
    for part in parts[:-1]:
        if not isinstance(node, dict):
            return False, None
        node = node.get(part)
    if not isinstance(node, dict):
        return False, None
    return True, node.get(parts[-1])


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _check_position_name(config: dict, violations: _Violations) -> None:
    sent = [key for key in ("name", "position_name") if config.get(key) is not None]
    if not sent:
        violations.add("position_name_required", "name")
    for key in sent:
        if not _is_text(config[key]):
            violations.add("position_name_text", key)


def _check_known_fields(config: dict, violations: _Violations) -> None:
    for spec in FIELD_SPECS:
        parent_ok, value = _lookup(config, spec.path)
        if not parent_ok:
            continue  # the parent is missing or malformed: already reported, or optional
        if value is None:
            if spec.presence == REQUIRED:
                violations.add("required", spec.path)
            elif spec.presence == FULL_BLOCK:
                violations.add("education_full_block", spec.path)
            continue
        _check_kind(spec, value, violations)


def _check_kind(spec: FieldSpec, value: Any, violations: _Violations) -> None:
    path, kind = spec.path, spec.kind
    if kind in (OBJECT, FREE_OBJECT):
        if not isinstance(value, dict):
            violations.add("must_be_object", path)
    elif kind == BOOLEAN:
        if not isinstance(value, bool):
            violations.add("must_be_boolean", path)
    elif kind == TEXT:
        if not _is_text(value):
            violations.add("non_empty_text", path)
    elif kind == NON_NEGATIVE_INT:
        number = _as_int(value)
        if number is None or number < 0:
            violations.add("non_negative_integer", path, value=value)
    elif kind == PERCENTAGE:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            violations.add("percentage", path, value=value)
    elif kind == STUDY_STATUS:
        if value not in STUDY_STATUSES:
            violations.add("study_status_enum", path, value=value)
    elif kind in (TEXT_LIST, LANGUAGE_LIST):
        _check_text_list(path, value, kind == LANGUAGE_LIST, violations)
    elif kind == WEIGHTED_LIST:
        _check_weighted_list(path, value, violations)
    # YEARS and IMPORTANCE values are checked by their own rules below.


def _check_text_list(path: str, value: Any, languages: bool, violations: _Violations) -> None:
    if not isinstance(value, list):
        violations.add("must_be_array", path)
        return
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if not _is_text(item):
            violations.add("non_empty_text", item_path)
        elif languages and any(ch in item for ch in LANGUAGE_FORBIDDEN_CHARS):
            violations.add("plain_language_name", item_path, value=item)


def _check_weighted_list(path: str, value: Any, violations: _Violations) -> None:
    """A list of ``{name, importance}`` entries (skills, qualifications, industries)."""
    if not isinstance(value, list):
        violations.add("must_be_array", path)
        return
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if not isinstance(item, dict):
            violations.add("must_be_object", item_path)
            continue
        if item.get("name") is None:
            violations.add("required", f"{item_path}.name")
        elif not _is_text(item["name"]):
            violations.add("non_empty_text", f"{item_path}.name")
        if item.get("importance") is None:
            violations.add("required", f"{item_path}.importance")


def _check_importances(config: dict, violations: _Violations) -> None:
    """CFG-2 over the whole tree (wrong-field entries included). Iterative: bounded by node count."""
    stack: list[tuple[str, Any]] = [("", config)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                child_path = f"{path}.{key}" if path else str(key)
                if key in IMPORTANCE_KEYS and child is not None:
                    number = _as_int(child)
                    if number is None or not IMPORTANCE_MIN <= number <= IMPORTANCE_MAX:
                        violations.add("importance_range", child_path, value=child)
                else:
                    stack.append((child_path, child))
        elif isinstance(node, list):
            stack.extend((f"{path}[{index}]", child) for index, child in enumerate(node))


def _check_years(config: dict, violations: _Violations) -> None:
    years: dict[str, int] = {}
    for key in ("from", "to"):
        parent_ok, value = _lookup(config, f"{WE}.{key}")
        if not parent_ok or value is None:
            continue
        number = _as_int(value)
        if number is None or number < 0:
            violations.add("years_integer", f"{WE}.{key}", value=value)
        else:
            years[key] = number
    if len(years) == 2 and years["from"] > years["to"]:
        violations.add("from_after_to", f"{WE}.from", value=years["from"], to=years["to"])


def _check_industries(config: dict, violations: _Violations) -> None:
    _, industries = _lookup(config, f"{WE}.relevant_industries")
    _, configured = _lookup(config, f"{WE}.industries_config")
    if isinstance(industries, list) and len(industries) < INDUSTRIES_MIN:
        violations.add("industries_count", f"{WE}.relevant_industries", count=len(industries))
    if not (isinstance(industries, list) and isinstance(configured, list)):
        return
    if len(configured) != len(industries):
        violations.add("industries_mirror_count", f"{WE}.industries_config",
                       expected=len(industries), count=len(configured))
    unmatched = Counter(name for name in industries if isinstance(name, str))
    for index, entry in enumerate(configured):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            continue  # reported by the list's own check
        if unmatched[name] > 0:
            unmatched[name] -= 1
        else:
            violations.add("industries_mirror_name", f"{WE}.industries_config[{index}].name", value=name)


def _check_list_limits(config: dict, violations: _Violations) -> None:
    lengths: dict[str, int] = {}
    for dotted, limit in LIST_LIMITS.items():
        _, value = _lookup(config, dotted)
        if isinstance(value, list):
            lengths[dotted] = len(value)
            if len(value) > limit:
                rule = "industries_count" if dotted.endswith("relevant_industries") else "list_too_long"
                violations.add(rule, dotted, limit=limit, count=len(value))
    combined = lengths.get(f"{SC}.hard_skills", 0) + lengths.get(f"{SC}.soft_skills", 0)
    if combined > COMBINED_SKILLS_LIMIT:
        violations.add("skills_combined_too_long", SC, limit=COMBINED_SKILLS_LIMIT, count=combined)


# --------------------------------------------------------------------------------------
# Auto-fill (CFG-8)
# --------------------------------------------------------------------------------------


def _filled(config: dict) -> dict:
    filled = json.loads(json.dumps(config))  # a deep copy that is as deep-safe as json itself
    for dotted, default in AUTO_FILL_DEFAULTS.items():
        parent_ok, value = _lookup(filled, dotted)
        if parent_ok and value is None:
            _assign(filled, dotted, copy.deepcopy(default))
    _normalise_integers(filled)
    return filled


def _normalise_integers(config: dict) -> None:
    """4.0 → 4 for every importance (anywhere) and the integer workExperience fields."""
    stack: list[Any] = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                if key in IMPORTANCE_KEYS and isinstance(child, float):
                    node[key] = int(child)
                else:
                    stack.append(child)
        elif isinstance(node, list):
            stack.extend(node)
    for dotted in INTEGER_FIELDS:
        parent_ok, value = _lookup(config, dotted)
        if parent_ok and isinstance(value, float):
            _assign(config, dotted, int(value))


def _assign(config: dict, dotted: str, value: Any) -> None:
    """Set a dotted path whose parent objects exist (checked by the caller with `_lookup`)."""
    *parents, last = dotted.split(".")
    node = config
    for part in parents:
        node = node[part]
    node[last] = value
