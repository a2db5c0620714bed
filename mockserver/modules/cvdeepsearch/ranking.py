"""Best-first ranking of a corpus against a position config (CVDS-9, preview).

A deterministic, explainable stand-in for the semantic search engine. `position_metadata`
has the CV DeepMatch requirements shape, but only "a non-empty object" is guaranteed
(CFG-10), and `parsed_cv` is free-form, so every read here is defensive.

Scoring (every importance is divided by 5, as the engine does):
- skills: each hard/soft skill found in the CV counts its weight — in full when listed
  under a skills-like key, `TEXT_ONLY_CREDIT` of it when it only appears in the CV's text;
  the dimension is the matched share of the total weight.
- work experience: the mean of (a) years of experience against `from`/`to`, (b) the share
  of `relevant_roles` found, (c) the weighted share of industries found (`industries_config`,
  or `relevant_industries` at equal weights) — each part only when the position sets it;
  roles/industries named by a job entry count in full, elsewhere in the CV partially.
- a position with neither dimension falls back to the words of its `name`/`position_name`.
The score is the importance-weighted mean of the dimensions, rounded to 4 decimals: a sort
key in [0, 1], not a percentage. Ties go to the smaller `external_id`.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

TEXT_ONLY_CREDIT = 0.5
DEFAULT_IMPORTANCE = 3
SCORE_DECIMALS = 4
_EXPERIENCE_KEYS = ("workExperience", "work_experience", "experience", "experiences",
                    "employment", "employment_history", "positions", "jobs")
_TOTAL_YEARS_KEYS = ("years_of_experience", "total_years_experience", "experience_years",
                     "total_experience_years", "yearsOfExperience", "totalYearsExperience")
_START_KEYS = ("from", "start", "start_date", "startDate", "start_year", "startYear")
_END_KEYS = ("to", "end", "end_date", "endDate", "end_year", "endYear")
_ROLE_KEYS = ("title", "role", "position", "job_title", "jobTitle")
_INDUSTRY_KEYS = ("industry", "industries", "sector")
_CURRENT_WORDS = ("present", "current", "now", "ongoing", "today")
_SKILL_LIST_KEYS = ("technologies", "tools", "competencies", "languages_and_tools", "tech_stack")
_SKILL_NAME_KEYS = ("name", "skill", "title", "label")
_YEAR = re.compile(r"(?<![0-9])(19[0-9]{2}|20[0-9]{2})(?![0-9])")
_MONTH = re.compile(r"(?<![0-9])(19[0-9]{2}|20[0-9]{2})[-/.](0?[1-9]|1[0-2])(?![0-9])")
_WORD = re.compile(r"[a-z0-9][a-z0-9+#.]*")
_MAX_NODES = 20_000  # bound on the CV nodes walked per candidate


@dataclass(frozen=True)
class Requirement:
    name: str
    weight: float


@dataclass(frozen=True)
class PositionProfile:
    """What a position config asks for, read defensively."""

    skills: tuple[Requirement, ...]
    skills_weight: float
    years_from: float | None
    years_to: float | None
    roles: tuple[str, ...]
    industries: tuple[Requirement, ...]
    experience_weight: float
    title_words: tuple[str, ...]


@dataclass(frozen=True)
class CvFacts:
    """What a parsed CV offers to match against."""

    skills: frozenset[str]
    text: str
    roles: str
    industries: str
    years: float | None


def _weight(importance: Any) -> float:
    if isinstance(importance, bool) or not isinstance(importance, (int, float)):
        importance = DEFAULT_IMPORTANCE
    return max(float(importance), 0.0) / 5


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _requirements(items: Any) -> list[Requirement]:
    found = []
    for entry in _as_list(items):
        if isinstance(entry, str) and entry.strip():
            found.append(Requirement(entry.strip(), _weight(None)))
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"].strip():
            found.append(Requirement(entry["name"].strip(), _weight(entry.get("importance"))))
    return found


def read_position(position_metadata: dict[str, Any]) -> PositionProfile:
    requirements = _as_dict(position_metadata.get("requirements")) or position_metadata
    experience = _as_dict(requirements.get("workExperience"))
    skills_block = _as_dict(requirements.get("skills"))
    skills_config = _as_dict(skills_block.get("skills_config"))
    skills = _requirements(skills_config.get("hard_skills")) + _requirements(skills_config.get("soft_skills"))
    industries = _requirements(experience.get("industries_config")) or _requirements(experience.get("relevant_industries"))
    roles = [role.strip() for role in _as_list(experience.get("relevant_roles")) if isinstance(role, str) and role.strip()]
    name = position_metadata.get("name") or position_metadata.get("position_name")
    return PositionProfile(
        skills=tuple(skills),
        skills_weight=_weight(skills_block.get("importance", 5)),
        years_from=_number(experience.get("from")),
        years_to=_number(experience.get("to")),
        roles=tuple(roles),
        industries=tuple(industries),
        experience_weight=_weight(experience.get("importance", 5)),
        title_words=tuple(_WORD.findall(name.lower())) if isinstance(name, str) else (),
    )


# -- reading a CV ------------------------------------------------------------------------

def _walk(value: Any) -> Iterable[tuple[tuple[str, ...], Any]]:
    """(key path, leaf) pairs of a JSON value, breadth-first, at most _MAX_NODES nodes.
    List items share their list's key, so `{"skills": ["Go"]}` yields (("skills",), "Go")."""
    queue: deque[tuple[tuple[str, ...], Any]] = deque([((), value)])
    visited = 0
    while queue and visited < _MAX_NODES:
        path, node = queue.popleft()
        visited += 1
        if isinstance(node, dict):
            queue.extend((path + (str(key),), child) for key, child in node.items())
        elif isinstance(node, list):
            queue.extend((path, child) for child in node)
        else:
            yield path, node


def _is_skill_key(key: str) -> bool:
    lowered = key.lower()
    return "skill" in lowered or lowered in _SKILL_LIST_KEYS


def _is_skill_leaf(path: tuple[str, ...]) -> bool:
    """A string listed as a skill: directly under a skills-like key, or the `name` of an
    entry inside one (`{"skills": [{"name": "Go", "level": "expert"}]}` → only "Go")."""
    if not path:
        return False
    if _is_skill_key(path[-1]):
        return True
    return path[-1].lower() in _SKILL_NAME_KEYS and any(_is_skill_key(key) for key in path[:-1])


def _fractional_year(value: Any, open_end: float | None) -> float | None:
    """A date-ish value as fractional years (2019-07 → 2019.5); "present" → `open_end`."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and 1900 <= value <= 2100:
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _CURRENT_WORDS:
            return open_end
        month = _MONTH.search(text)
        if month:
            return int(month.group(1)) + (int(month.group(2)) - 1) / 12
        year = _YEAR.search(text)
        if year:
            return float(year.group(1))
    return None


def _first(entry: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in entry and entry[key] not in (None, ""):
            return entry[key]
    return None


def _experience_entries(parsed_cv: dict[str, Any]) -> list[dict[str, Any]]:
    for key in _EXPERIENCE_KEYS:
        entries = [entry for entry in _as_list(parsed_cv.get(key)) if isinstance(entry, dict)]
        if entries:
            return entries
    return []


def _merged_length(spans: list[tuple[float, float]]) -> float:
    """Total length of possibly overlapping spans (parallel jobs do not double-count)."""
    total = 0.0
    current: tuple[float, float] | None = None
    for start, end in sorted(spans):
        if current is not None and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current is not None:
            total += current[1] - current[0]
        current = (start, end)
    return total + (current[1] - current[0] if current is not None else 0.0)


def years_of_experience(parsed_cv: dict[str, Any], as_of: float | None = None) -> float | None:
    """Years of work experience: an explicit total field if the CV has one, else the merged
    length of its jobs' from/to spans. Open-ended jobs ("present", no end) run to `as_of`
    (fractional year), or — without it — to the end of the latest year the CV mentions."""
    for key in _TOTAL_YEARS_KEYS:
        total = _number(parsed_cv.get(key))
        if total is not None and total >= 0:
            return total
    entries = _experience_entries(parsed_cv)
    if as_of is None:
        mentioned = [int(year) for _, leaf in _walk(entries) if isinstance(leaf, (str, int))
                     for year in _YEAR.findall(str(leaf))]
        as_of = max(mentioned) + 1.0 if mentioned else None
    spans = []
    for entry in entries:
        start = _fractional_year(_first(entry, _START_KEYS), as_of)
        end_raw = _first(entry, _END_KEYS)
        end = _fractional_year(end_raw, as_of) if end_raw is not None else as_of
        if start is not None and end is not None and end > start:
            spans.append((start, end))
    return _merged_length(spans) if spans else None


def _joined(values: Iterable[Any]) -> str:
    parts = []
    for value in values:
        for item in ([value] if isinstance(value, str) else _as_list(value)):
            if isinstance(item, str):
                parts.append(item.lower())
    return " \n ".join(parts)


def read_cv(parsed_cv: dict[str, Any], as_of: float | None = None) -> CvFacts:
    skills: set[str] = set()
    texts: list[str] = []
    for path, leaf in _walk(parsed_cv):
        if isinstance(leaf, str) and leaf.strip():
            texts.append(leaf.lower())
            if _is_skill_leaf(path):
                skills.add(leaf.strip().lower())
    entries = _experience_entries(parsed_cv)
    return CvFacts(
        skills=frozenset(skills),
        text=" \n ".join(texts),
        roles=_joined(_first(entry, _ROLE_KEYS) for entry in entries),
        industries=_joined(_first(entry, _INDUSTRY_KEYS) for entry in entries),
        years=years_of_experience(parsed_cv, as_of),
    )


# -- matching ----------------------------------------------------------------------------

def _mentions(haystack: str, needle: str) -> bool:
    """Case-insensitive whole-term match (`Java` does not match `JavaScript`)."""
    term = needle.strip().lower()
    if not term or not haystack:
        return False
    return re.search(r"(?<![a-z0-9])" + re.escape(term) + r"(?![a-z0-9])", haystack) is not None


def skill_credit(facts: CvFacts, skill: str) -> float:
    """1 when listed as a skill, TEXT_ONLY_CREDIT when only mentioned in text, else 0."""
    term = skill.strip().lower()
    if term in facts.skills or any(_mentions(listed, term) for listed in facts.skills):
        return 1.0
    return TEXT_ONLY_CREDIT if _mentions(facts.text, term) else 0.0


def _experience_credit(entries_text: str, full_text: str, term: str) -> float:
    """1 when a job entry names `term` (title / industry), TEXT_ONLY_CREDIT when only the
    rest of the CV mentions it, else 0."""
    if _mentions(entries_text, term):
        return 1.0
    return TEXT_ONLY_CREDIT if _mentions(full_text, term) else 0.0


def years_fit(years: float | None, years_from: float | None, years_to: float | None) -> float:
    """1 inside [from, to]; below `from` proportionally less; above `to` gently less (≥ 0.5)."""
    if years_from is None and years_to is None:
        return 1.0
    if years is None:
        return 0.0
    low = max(years_from or 0.0, 0.0)
    high = years_to if years_to is not None and years_to >= low else None
    if years < low:
        return years / low if low > 0 else 1.0
    if high is not None and years > high:
        return max(0.5, 1.0 - 0.5 * (years - high) / max(high, 1.0))
    return 1.0


def score_candidate(profile: PositionProfile, facts: CvFacts) -> tuple[float, list[str]]:
    """(score, matched skill names) for one candidate."""
    dimensions: list[tuple[float, float]] = []  # (weight, value)
    matched: list[str] = []
    if profile.skills:
        total = sum(requirement.weight for requirement in profile.skills)
        got = 0.0
        for requirement in profile.skills:
            credit = skill_credit(facts, requirement.name)
            if credit > 0:
                matched.append(requirement.name)
            got += requirement.weight * credit
        dimensions.append((profile.skills_weight, got / total if total > 0 else 0.0))
    experience_parts: list[float] = []
    if profile.years_from is not None or profile.years_to is not None:
        experience_parts.append(years_fit(facts.years, profile.years_from, profile.years_to))
    if profile.roles:
        found = sum(_experience_credit(facts.roles, facts.text, role) for role in profile.roles)
        experience_parts.append(found / len(profile.roles))
    if profile.industries:
        total = sum(industry.weight for industry in profile.industries)
        got = sum(industry.weight * _experience_credit(facts.industries, facts.text, industry.name)
                  for industry in profile.industries)
        experience_parts.append(got / total if total > 0 else 0.0)
    if experience_parts:
        dimensions.append((profile.experience_weight, sum(experience_parts) / len(experience_parts)))
    if not dimensions and profile.title_words:
        found = sum(1 for word in profile.title_words if _mentions(facts.text, word))
        dimensions.append((1.0, found / len(profile.title_words)))
    total_weight = sum(weight for weight, _ in dimensions)
    if total_weight <= 0:
        return 0.0, matched
    score = sum(weight * value for weight, value in dimensions) / total_weight
    return round(score, SCORE_DECIMALS), matched


def fractional_year(epoch_seconds: float) -> float:
    """An instant as a fractional calendar year (2026-07-02 → ≈ 2026.5)."""
    moment = datetime.fromtimestamp(epoch_seconds, tz=timezone.utc)
    start = datetime(moment.year, 1, 1, tzinfo=timezone.utc)
    end = datetime(moment.year + 1, 1, 1, tzinfo=timezone.utc)
    return moment.year + (moment - start) / (end - start)


def rank_candidates(position_metadata: dict[str, Any], candidates: list[tuple[str, dict[str, Any]]],
                    top_n: int, *, now: float | None = None) -> list[dict[str, Any]]:
    """The best-first ranking (CvdsResultItem list) of `candidates` — (external_id, parsed_cv)
    pairs, already limited to the searched corpus and to `embedded` candidates — cut to `top_n`.

    `now` (virtual epoch seconds, e.g. the run's start) closes open-ended jobs; without it
    they end with the latest year the CV mentions. Deterministic: equal input gives equal
    output; ties go to the smaller external_id.
    """
    profile = read_position(position_metadata)
    as_of = fractional_year(now) if now is not None else None
    scored = []
    for external_id, parsed_cv in candidates:
        score, matched = score_candidate(profile, read_cv(_as_dict(parsed_cv), as_of))
        scored.append((score, external_id, matched))
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    return [
        {"rank": rank, "external_id": external_id, "score": score, "matched_skills": matched}
        for rank, (score, external_id, matched) in enumerate(scored[:max(top_n, 0)], start=1)
    ]
