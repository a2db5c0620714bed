"""CV DeepSearch preview ranking (CVDS-9): best-first order from the position config,
determinism, the top_n cut, and that only the given candidates appear."""

from __future__ import annotations

import random

from cvds_contract_helpers import assert_valid, component
from mockserver.modules.cvdeepsearch.ranking import (
    TEXT_ONLY_CREDIT,
    rank_candidates,
    read_cv,
    skill_credit,
    years_fit,
    years_of_experience,
)

NOW = 1_781_000_000.0  # 2026-06-09

BACKEND = {
    "name": "Senior Backend Engineer",
    "requirements": {
        "workExperience": {
            "from": 5, "to": 10, "importance": 5,
            "relevant_roles": ["Backend Engineer"],
            "relevant_industries": ["SaaS", "Fintech"],
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
                "requirements": {"minimal_qualifications": True, "preferable_qualifications": True},
            },
        },
    },
}

SKILLS_ONLY = {"requirements": {"skills": {"importance": 5, "skills_config": {"hard_skills": [
    {"name": "Go", "importance": 3}, {"name": "Rust", "importance": 3}, {"name": "SQL", "importance": 3}]}}}}


def cv(skills: list[str], **extra) -> dict:
    return {"name": "Someone", "skills": skills, **extra}


def ids(ranking: list[dict]) -> list[str]:
    return [row["external_id"] for row in ranking]


def test_more_required_skills_rank_higher():
    candidates = [("one", cv(["Go"])), ("three", cv(["Go", "Rust", "SQL"])), ("two", cv(["Rust", "SQL"])),
                  ("none", cv(["Cobol"]))]
    ranking = rank_candidates(SKILLS_ONLY, candidates, top_n=10)
    assert ids(ranking) == ["three", "two", "one", "none"]
    assert [row["rank"] for row in ranking] == [1, 2, 3, 4]
    assert ranking[0]["score"] > ranking[1]["score"] > ranking[2]["score"] > ranking[3]["score"]


def test_skill_importance_weights_the_score():
    position = {"requirements": {"skills": {"skills_config": {"hard_skills": [
        {"name": "Go", "importance": 5}, {"name": "Perl", "importance": 1}]}}}}
    ranking = rank_candidates(position, [("perl", cv(["Perl"])), ("go", cv(["Go"]))], top_n=2)
    assert ids(ranking) == ["go", "perl"]


def test_skill_match_is_case_insensitive_and_whole_term():
    facts = read_cv(cv(["node.js", "javascript"]))
    assert skill_credit(facts, "Node.js") == 1.0
    assert skill_credit(facts, "Java") == 0.0


def test_skill_named_only_in_text_earns_partial_credit():
    facts = read_cv({"summary": "Built services in Go for five years.", "skills": []})
    assert skill_credit(facts, "go") == TEXT_ONLY_CREDIT


def test_skills_given_as_objects_count_by_name_only():
    facts = read_cv({"skills": [{"name": "Kubernetes", "level": "Go-getter"}]})
    assert skill_credit(facts, "Kubernetes") == 1.0
    assert skill_credit(facts, "Go-getter") == TEXT_ONLY_CREDIT


def test_experience_years_inside_the_range_beat_too_few():
    position = {"requirements": {"workExperience": {"from": 5, "to": 10, "importance": 5}}}
    senior = {"experience": [{"title": "Engineer", "from": "2015-01", "to": "2024-01"}]}
    junior = {"experience": [{"title": "Engineer", "from": "2022-01", "to": "2024-01"}]}
    ranking = rank_candidates(position, [("junior", junior), ("senior", senior)], top_n=2, now=NOW)
    assert ids(ranking) == ["senior", "junior"]


def test_years_of_experience_merges_overlaps_and_closes_present_at_now():
    parsed = {"workExperience": [
        {"title": "A", "start_date": "2018-01", "end_date": "2021-01"},
        {"title": "B", "start_date": "2020-01", "end_date": "present"},
    ]}
    assert round(years_of_experience(parsed, as_of=2026.0), 2) == 8.0
    assert years_of_experience({"years_of_experience": 7}) == 7


def test_years_fit_shape():
    assert years_fit(7, 5, 10) == 1.0
    assert years_fit(2.5, 5, 10) == 0.5
    assert 0.5 <= years_fit(30, 5, 10) < 1.0
    assert years_fit(None, 5, 10) == 0.0


def test_relevant_roles_and_industries_lift_a_candidate():
    base_skills = ["Node.js", "TypeScript"]
    fit = cv(base_skills, experience=[{"title": "Backend Engineer", "industry": "SaaS", "from": 2016, "to": 2024}])
    off = cv(base_skills, experience=[{"title": "Chef", "industry": "Hospitality", "from": 2016, "to": 2024}])
    ranking = rank_candidates(BACKEND, [("off", off), ("fit", fit)], top_n=2, now=NOW)
    assert ids(ranking) == ["fit", "off"]
    assert ranking[0]["matched_skills"] == ["Node.js", "TypeScript"]


def test_role_in_a_job_entry_beats_a_role_only_mentioned_elsewhere():
    position = {"requirements": {"workExperience": {"relevant_roles": ["Backend Engineer"]}}}
    held = {"experience": [{"title": "Backend Engineer"}]}
    wished = {"objective": "Become a backend engineer", "experience": [{"title": "Barista"}]}
    ranking = rank_candidates(position, [("wished", wished), ("held", held)], top_n=2)
    assert ids(ranking) == ["held", "wished"]
    assert ranking[0]["score"] == 1.0 and ranking[1]["score"] == TEXT_ONLY_CREDIT


def test_ties_break_by_external_id():
    same = cv(["Go"])
    ranking = rank_candidates(SKILLS_ONLY, [("c", same), ("a", same), ("b", same)], top_n=3)
    assert ids(ranking) == ["a", "b", "c"]
    assert len({row["score"] for row in ranking}) == 1


def test_ranking_is_deterministic_regardless_of_input_order():
    rng = random.Random(7)
    pool = ["Go", "Rust", "SQL", "Node.js", "TypeScript", "PostgreSQL", "Communication"]
    candidates = [(f"cand-{i:03d}", cv(rng.sample(pool, rng.randint(0, len(pool))))) for i in range(60)]
    first = rank_candidates(BACKEND, candidates, top_n=60, now=NOW)
    shuffled = candidates[:]
    rng.shuffle(shuffled)
    assert rank_candidates(BACKEND, shuffled, top_n=60, now=NOW) == first


def test_top_n_cuts_the_list_and_only_given_candidates_appear():
    candidates = [(f"c{i}", cv(["Go"] * (i % 2))) for i in range(30)]
    ranking = rank_candidates(SKILLS_ONLY, candidates, top_n=5)
    assert len(ranking) == 5
    assert set(ids(ranking)) <= {external_id for external_id, _ in candidates}
    assert ids(rank_candidates(SKILLS_ONLY, candidates[:3], top_n=100)) == ["c1", "c0", "c2"]
    assert rank_candidates(SKILLS_ONLY, [], top_n=10) == []


def test_free_form_position_falls_back_to_its_name():
    position = {"name": "Data Engineer"}
    ranking = rank_candidates(position, [("other", {"summary": "Florist"}),
                                         ("match", {"summary": "Data engineer at Acme"})], top_n=2)
    assert ids(ranking) == ["match", "other"]


def test_odd_shapes_do_not_break_ranking():
    position = {"requirements": {"skills": {"importance": "high", "skills_config": {"hard_skills": ["Go", 5, {"x": 1}]}},
                                 "workExperience": {"from": "five", "relevant_industries": "SaaS"}}}
    candidates = [("a", {"skills": "Go"}), ("b", {"experience": "lots", "skills": [None, 3]}), ("c", {})]
    ranking = rank_candidates(position, candidates, top_n=3)
    assert ids(ranking)[0] == "a" and len(ranking) == 3


def test_result_items_validate_against_contract():
    ranking = rank_candidates(BACKEND, [("a", cv(["Node.js"])), ("b", cv([]))], top_n=2, now=NOW)
    for item in ranking:
        assert_valid(component("CvdsResultItem"), item)
        assert isinstance(item["score"], float) and 0.0 <= item["score"] <= 1.0
