"""CV DeepMatch results: the parsed CV (`cv_parser_result`) and the match (`cv2jd_result`).

Deterministic and input-responsive: the same CV text, config and job description always
give the same result, and the result moves the way an integrator expects — a CV naming the
required hard skills scores higher on `skills`, years of experience inside `from..to` score
higher on `workExperience`, and `breakdown.education` exists only when the config enables
education. Every weight is `importance / 5`, as the engine is documented to do.

Nothing here reads a clock: a CV's "2019 – present" ends in ``reference_year``, which the
caller takes from the virtual clock (default: the latest year the CV itself mentions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from mockserver.modules.cvdeepmatch.config import education_enabled

# --------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------

SKILL_VOCABULARY: tuple[str, ...] = (
    # languages and runtimes
    "Python", "Java", "JavaScript", "TypeScript", "Node.js", "Golang", "Rust", "C++", "C#",
    "Ruby", "PHP", "Kotlin", "Swift", "Scala", "Elixir", "SQL", "Bash",
    # frameworks and libraries
    "React", "Angular", "Vue.js", "Next.js", "Django", "Flask", "FastAPI", "Spring Boot",
    "Express", "Ruby on Rails", ".NET", "GraphQL", "REST", "gRPC", "Pandas", "NumPy",
    "TensorFlow", "PyTorch", "scikit-learn",
    # data and infrastructure
    "PostgreSQL", "MySQL", "MongoDB", "Redis", "Elasticsearch", "Kafka", "RabbitMQ",
    "Snowflake", "Spark", "Airflow", "AWS", "Azure", "GCP", "Docker", "Kubernetes",
    "Terraform", "Ansible", "Linux", "Git", "CI/CD", "Jenkins", "GitHub Actions",
    "Microservices", "Machine Learning", "Data Analysis", "Excel", "Power BI", "Tableau",
    "Salesforce", "SAP", "Jira", "Figma", "Agile", "Scrum", "DevOps", "Security",
    # soft skills
    "Communication", "Leadership", "Teamwork", "Problem Solving", "Mentoring",
    "Stakeholder Management", "Project Management", "Customer Service", "Negotiation",
    "Time Management", "Adaptability", "Critical Thinking", "Presentation", "Sales",
)

LANGUAGE_VOCABULARY: tuple[str, ...] = (
    "English", "Spanish", "French", "German", "Portuguese", "Italian", "Dutch", "Hindi",
    "Mandarin", "Chinese", "Japanese", "Korean", "Arabic", "Turkish", "Polish", "Russian",
    "Serbian", "Croatian", "Ukrainian", "Swedish", "Norwegian", "Danish", "Finnish", "Greek",
    "Czech", "Romanian", "Hungarian", "Hebrew",
)

# Degree levels, highest first: (level, rank, pattern).
DEGREE_LEVELS: tuple[tuple[str, int, re.Pattern], ...] = tuple(
    (level, rank, re.compile(pattern, re.IGNORECASE)) for level, rank, pattern in (
        ("PhD", 5, r"\b(ph\.?\s?d\.?|doctorate|doctor of)(?![a-z])"),
        ("Master", 4, r"\b(master'?s?|m\.?sc\.?|mba|m\.?eng\.?|m\.a\.)(?![a-z])"),
        ("Bachelor", 3, r"\b(bachelor'?s?|b\.?sc\.?|b\.?eng\.?|b\.a\.|undergraduate degree)(?![a-z])"),
        ("Associate", 2, r"\b(associate'?s? degree|diploma)(?![a-z])"),
        ("High School", 1, r"\b(high school|secondary school|a-levels?)(?![a-z])"),
    )
)
INSTITUTION_WORDS = re.compile(r"\b(university|college|institute|school|academy|polytechnic)\b", re.IGNORECASE)

NAME_HEADINGS = frozenset({"resume", "résumé", "curriculum vitae", "cv", "profile"})
STOPWORDS = frozenset({
    "and", "the", "for", "with", "from", "into", "that", "this", "have", "has", "are", "was",
    "of", "in", "on", "at", "to", "a", "an", "or", "as", "by", "be", "is", "its", "our", "your",
    "ability", "able", "experience", "experienced", "strong", "good", "demonstrated",
})

EXCERPT_CHARS = 500
JD_IMPLIED_SKILL_WEIGHT = 0.4     # a vocabulary skill the JD names but the config does not
JD_IMPLIED_SKILLS_MAX = 10
PREFERABLE_WEIGHT_FACTOR = 0.5    # preferable qualifications / languages weigh half
ROLE_WEIGHT, COMPANY_WEIGHT = 0.6, 0.4
TRANSFERABLE_CREDIT = 0.5
NEUTRAL_SCORE = 0.5               # a dimension with nothing to measure
OVERQUALIFIED_STEP, OVERQUALIFIED_FLOOR = 0.05, 0.5
MAX_CLAIMED_YEARS = 60

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_YEAR = r"(?:19[5-9]\d|20\d\d)"
_MONTH = r"(?:(?:[A-Za-z]{3,9}\.?\s+)|(?:\d{1,2}/))?"
_RANGE = re.compile(
    rf"{_MONTH}(?<!\d)(?P<start>{_YEAR})(?!\d)\s*(?:-|–|—|to|until)\s*"
    rf"{_MONTH}(?P<end>(?<!\d){_YEAR}(?!\d)|present|current|now|today)",
    re.IGNORECASE,
)
_ANY_YEAR = re.compile(rf"(?<!\d){_YEAR}(?!\d)")
_CLAIMED_YEARS = re.compile(r"(?<!\d)(\d{1,2})\s*\+?\s*(?:years?|yrs?)\b", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z0-9][a-z0-9+#.]*")


# --------------------------------------------------------------------------------------
# Parsing the CV
# --------------------------------------------------------------------------------------


def parse_cv_text(text: str, known_skills: Iterable[str] = (), known_languages: Iterable[str] = (),
                  reference_year: int | None = None) -> dict:
    """The `cv_parser_result` for a CV's extracted text.

    ``known_skills`` / ``known_languages`` (the config's skill and language names) are looked
    for alongside the built-in vocabularies and reported in the config's spelling.
    """
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    mentioned_years = [int(year) for year in _ANY_YEAR.findall(text)]
    if reference_year is None:
        reference_year = max(mentioned_years) if mentioned_years else None
    education = _education_entries(lines)
    education_lines = {index for index, line in enumerate(lines) if _degree_of(line)}
    experience = _experience_entries(lines, education_lines, reference_year)
    email = _EMAIL.search(text)
    return {
        "name": _name_of(lines),
        "email": email.group(0) if email else None,
        "skills": _find_terms(text, list(known_skills) + list(SKILL_VOCABULARY)),
        "languages": _find_terms(text, list(known_languages) + list(LANGUAGE_VOCABULARY)),
        "experience": experience,
        "education": education,
        "years_of_experience": _years_of_experience(lines, education_lines, experience),
        "raw_text_excerpt": _excerpt(text),
    }


def config_terms(config: dict) -> tuple[list[str], list[str]]:
    """(skill names, language names) a config asks about — extra terms for the parser."""
    skills = config.get("requirements", {}).get("skills", {})
    skills_config = skills.get("skills_config", {})
    languages_config = skills.get("language_skills_config") or {}
    skill_names = [item["name"] for key in ("hard_skills", "soft_skills")
                   for item in skills_config.get(key) or [] if isinstance(item, dict) and item.get("name")]
    language_names = list(languages_config.get("required_languages") or []) + \
        list(languages_config.get("prefered_languages") or [])
    return skill_names, language_names


def _name_of(lines: list[str]) -> str | None:
    for line in lines[:5]:
        if line.lower().strip(" :") in NAME_HEADINGS:
            continue
        words = line.split()
        if ("@" in line or ":" in line or any(ch.isdigit() for ch in line)
                or len(line) > 60 or len(words) > 6 or not any(ch.isalpha() for ch in line)):
            continue
        return line
    return None


def _term_pattern(term: str) -> re.Pattern:
    return re.compile(rf"(?<![A-Za-z0-9+#]){re.escape(term)}(?![A-Za-z0-9+#])", re.IGNORECASE)


def _find_terms(text: str, terms: list[str]) -> list[str]:
    """Each term found in ``text`` (first spelling wins), in order of first appearance."""
    found: dict[str, tuple[int, str]] = {}
    for term in terms:
        key = term.strip().lower()
        if not key or key in found:
            continue
        match = _term_pattern(term.strip()).search(text)
        if match:
            found[key] = (match.start(), term.strip())
    return [term for _, term in sorted(found.values())]


def _degree_of(line: str) -> tuple[str, int] | None:
    for level, rank, pattern in DEGREE_LEVELS:
        if pattern.search(line):
            return level, rank
    return None


def degree_rank(level_text: str) -> int:
    """Rank 1–5 of a degree level written in words (``Master``, ``BSc``…), 0 if unknown."""
    degree = _degree_of(level_text)
    return degree[1] if degree else 0


def _education_entries(lines: list[str]) -> list[dict]:
    entries = []
    for line in lines:
        degree = _degree_of(line)
        if not degree:
            continue
        segments = [seg.strip(" .") for seg in re.split(r",|\||;| - | – | — | at ", line) if seg.strip(" .")]
        institution = next((seg for seg in segments if INSTITUTION_WORDS.search(seg)), None)
        field = None
        field_match = re.search(r"\b(?:in|of)\s+([A-Z][A-Za-z&/ ]{2,60}?)(?=,|\||;| - | at |\(|$|\s(?:19|20)\d\d)", line)
        if field_match and not INSTITUTION_WORDS.search(field_match.group(1)):
            field = field_match.group(1).strip()
        years = [int(year) for year in _ANY_YEAR.findall(line)]
        entries.append({
            "degree_level": degree[0],
            "field_of_study": field,
            "institution": institution,
            "graduation_year": max(years) if years else None,
        })
    return entries


def _experience_entries(lines: list[str], education_lines: set[int], reference_year: int | None) -> list[dict]:
    entries = []
    for index, line in enumerate(lines):
        if index in education_lines:
            continue
        match = _RANGE.search(line)
        if not match:
            continue
        start = int(match.group("start"))
        end_text = match.group("end")
        end = int(end_text) if end_text.isdigit() else (reference_year or start)
        end = max(end, start)
        title, company = _title_and_company(line[:match.start()] + " " + line[match.end():])
        if title is None and index > 0 and (index - 1) not in education_lines:
            title, company = _title_and_company(lines[index - 1])
        if title is None:
            continue
        entries.append({"title": title, "company": company, "start_year": start, "end_year": end,
                        "years": end - start})
    return entries


def _title_and_company(text: str) -> tuple[str | None, str | None]:
    text = re.sub(r"[()\[\]]", " ", text)
    text = " ".join(text.split()).strip(" ,|;:-–—")
    if not text:
        return None, None
    for separator in (" at ", " @ ", ",", "|", " - ", " – ", " — "):
        if separator in text:
            title, company = text.split(separator, 1)
            title, company = title.strip(" ,|;:-–—"), company.strip(" ,|;:-–—")
            if title:
                return title, company or None
    return text, None


def _years_of_experience(lines: list[str], education_lines: set[int], experience: list[dict]) -> float:
    """Merged date ranges, or the largest "N years" claim when that is larger."""
    spans = sorted((entry["start_year"], entry["end_year"]) for entry in experience)
    total, current_start, current_end = 0, None, None
    for start, end in spans:
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    claims = [int(n) for index, line in enumerate(lines) if index not in education_lines
              for n in _CLAIMED_YEARS.findall(line) if int(n) <= MAX_CLAIMED_YEARS]
    return max([total] + claims)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS - 1] + "…"


# --------------------------------------------------------------------------------------
# Scoring the match
# --------------------------------------------------------------------------------------


def score_match(parsed_cv: dict, config: dict, job_description: str) -> dict:
    """The `cv2jd_result` for a parsed CV against a (filled) config and job description."""
    requirements = config.get("requirements", {})
    work = requirements.get("workExperience", {})
    skills = requirements.get("skills", {})
    profile = _profile_tokens(parsed_cv)
    dimensions: list[tuple[str, float, float]] = [
        ("workExperience", _work_experience_score(parsed_cv, work, profile), _weight(work.get("importance"))),
        ("skills", _skills_score(parsed_cv, skills, job_description, profile), _weight(skills.get("importance"))),
    ]
    if education_enabled(config):
        education = requirements["education"]
        dimensions.append(("education", _education_score(parsed_cv, education, profile),
                           _weight(education.get("importance"))))
    overall = _weighted_mean([(score, weight) for _, score, weight in dimensions])
    return {
        "overall_score": _round(overall),
        "breakdown": {name: _round(score) for name, score, _ in dimensions},
    }


def _weight(importance: Any) -> float:
    return (importance if isinstance(importance, (int, float)) and not isinstance(importance, bool) else 3) / 5


def _round(score: float) -> float:
    return round(min(1.0, max(0.0, score)), 2)


def _weighted_mean(pairs: list[tuple[float, float]]) -> float:
    total = sum(weight for _, weight in pairs)
    if total <= 0:
        return NEUTRAL_SCORE
    return sum(score * weight for score, weight in pairs) / total


def _tokens(text: str) -> set[str]:
    return {token.rstrip(".") for token in _TOKEN.findall(text.lower())} - STOPWORDS


def _significant(text: str) -> set[str]:
    return {token for token in _tokens(text) if len(token) >= 3 and not token.isdigit()}


def _profile_tokens(parsed_cv: dict) -> set[str]:
    parts: list[str] = [parsed_cv.get("raw_text_excerpt") or ""]
    parts += parsed_cv.get("skills") or []
    parts += parsed_cv.get("languages") or []
    for entry in parsed_cv.get("experience") or []:
        parts += [entry.get("title") or "", entry.get("company") or ""]
    for entry in parsed_cv.get("education") or []:
        parts += [entry.get("degree_level") or "", entry.get("field_of_study") or "", entry.get("institution") or ""]
    return _tokens(" ".join(parts))


def _overlap(phrase: str, tokens: set[str]) -> float:
    """Share of ``phrase``'s significant words present in ``tokens`` (1.0 for an empty phrase)."""
    wanted = _significant(phrase) or _tokens(phrase)
    if not wanted:
        return 1.0
    return len(wanted & tokens) / len(wanted)


def _has_term(parsed_terms: Iterable[str], name: str, profile: set[str]) -> float:
    lowered = {term.lower() for term in parsed_terms}
    if name.strip().lower() in lowered:
        return 1.0
    return 1.0 if _overlap(name, profile) == 1.0 and _significant(name) else 0.0


def _work_experience_score(parsed_cv: dict, work: dict, profile: set[str]) -> float:
    components: list[tuple[float, float]] = []
    years = float(parsed_cv.get("years_of_experience") or 0)
    low, high = work.get("from", 0), work.get("to", 0)
    if low <= years <= high:
        years_fit = 1.0
    elif years < low:
        years_fit = years / low
    else:
        years_fit = max(OVERQUALIFIED_FLOOR, 1 - OVERQUALIFIED_STEP * (years - high))
    components.append((years_fit, _weight(work.get("time_importance", 3))))

    roles = work.get("relevant_roles") or []
    if roles:
        minimum_months = work.get("minimum_job_experience_duration", 0)
        threshold = work.get("threshold_for_one_exp_relevance", 80) / 100
        titles = [_tokens(entry["title"]) for entry in parsed_cv.get("experience") or []
                  if entry.get("years", 0) * 12 >= minimum_months]
        transferable = work.get("transferable_skills", True)
        role_scores = []
        for role in roles:
            best = max((_overlap(role, title) for title in titles), default=0.0)
            role_scores.append(1.0 if best >= threshold else (TRANSFERABLE_CREDIT if transferable and best > 0 else 0.0))
        components.append((sum(role_scores) / len(role_scores), ROLE_WEIGHT))

    industries = [item for item in work.get("industries_config") or [] if isinstance(item, dict)]
    if industries:
        industry_fit = _weighted_mean([(1.0 if _overlap(item["name"], profile) == 1.0 else 0.0,
                                        _weight(item.get("importance"))) for item in industries])
        components.append((industry_fit, _weighted_mean([(_weight(i.get("importance")), 1.0) for i in industries])))

    companies = work.get("relevant_companies") or []
    if companies:
        hits = sum(1.0 for company in companies if _overlap(company, profile) == 1.0)
        components.append((hits / len(companies), COMPANY_WEIGHT))
    return _weighted_mean(components)


def _skills_score(parsed_cv: dict, skills: dict, job_description: str, profile: set[str]) -> float:
    skills_config = skills.get("skills_config", {})
    found_skills = parsed_cv.get("skills") or []
    items: list[tuple[float, float]] = []
    asked: set[str] = set()
    for key in ("hard_skills", "soft_skills"):
        for item in skills_config.get(key) or []:
            asked.add(item["name"].strip().lower())
            items.append((_has_term(found_skills, item["name"], profile), _weight(item.get("importance"))))
    toggles = skills_config.get("requirements", {})
    for key, factor in (("minimal_qualifications", 1.0), ("preferable_qualifications", PREFERABLE_WEIGHT_FACTOR)):
        if toggles.get(key):
            for item in skills_config.get(key) or []:
                items.append((_overlap(item["name"], profile), _weight(item.get("importance")) * factor))
    languages = skills.get("language_skills_config") or {}
    language_weight = _weight(languages.get("importance", 3))
    found_languages = parsed_cv.get("languages") or []
    for key, factor in (("required_languages", 1.0), ("prefered_languages", PREFERABLE_WEIGHT_FACTOR)):
        for language in languages.get(key) or []:
            items.append((_has_term(found_languages, language, set()), language_weight * factor))
    implied = [skill for skill in _find_terms(job_description, list(SKILL_VOCABULARY))
               if skill.lower() not in asked][:JD_IMPLIED_SKILLS_MAX]
    for skill in implied:
        items.append((_has_term(found_skills, skill, profile), JD_IMPLIED_SKILL_WEIGHT))
    return _weighted_mean(items)


def _education_score(parsed_cv: dict, education: dict, profile: set[str]) -> float:
    entries = parsed_cv.get("education") or []
    academic = education.get("academic", {})
    required_rank = degree_rank(academic.get("degree_level") or "")
    best_rank = max((degree_rank(entry["degree_level"]) for entry in entries), default=0)
    level_fit = 1.0 if best_rank >= required_rank else best_rank / required_rank
    fields = academic.get("fields_of_study") or []
    if fields:
        studied = _tokens(" ".join(entry.get("field_of_study") or "" for entry in entries))
        field_fit = max(_overlap(field, studied) for field in fields)
        academic_fit = 0.7 * level_fit + 0.3 * field_fit
    else:
        academic_fit = level_fit
    components = [(academic_fit, _weight(academic.get("importance")))]
    non_academic = education.get("non_academic", {})
    certifications = non_academic.get("certifications") or []
    if certifications:
        held = sum(1.0 for cert in certifications if _overlap(cert, profile) == 1.0) / len(certifications)
        components.append((held, _weight(non_academic.get("importance"))))
    return _weighted_mean(components)


# --------------------------------------------------------------------------------------
# One match, end to end
# --------------------------------------------------------------------------------------

CV_PARSE_FAILED_MESSAGE = "No text could be extracted from the CV. Submit a text-based PDF."


@dataclass(frozen=True)
class MatchOutcome:
    """What a finished run reports: `finished` with both results, or `failed` with an error."""

    status: str
    cv2jd_result: dict | None = None
    cv_parser_result: dict | None = None
    error: dict | None = None


def match_cv(cv_text: str, config: dict, job_description: str, reference_year: int | None = None) -> MatchOutcome:
    """Parse ``cv_text`` and score it; a CV without readable text fails with CV_PARSE_FAILED."""
    if not cv_text.strip():
        return MatchOutcome("failed", error={"code": "CV_PARSE_FAILED", "message": CV_PARSE_FAILED_MESSAGE})
    return score_cv(cv_text, config, job_description, reference_year)


def score_cv(cv_text: str, config: dict, job_description: str, reference_year: int | None = None) -> MatchOutcome:
    """A `finished` match for ``cv_text`` even when it is empty (a scenario forcing `finished`)."""
    skill_names, language_names = config_terms(config)
    parsed = parse_cv_text(cv_text, skill_names, language_names, reference_year)
    return MatchOutcome("finished", cv2jd_result=score_match(parsed, config, job_description),
                        cv_parser_result=parsed)
