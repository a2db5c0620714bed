"""Interview persona prompts: the v1 interviewer template per language (INTV-1)."""

from __future__ import annotations


import pytest
from tests.support import contract_document

from mockserver.modules.interview.prompts import (
    LANGUAGE_NAMES,
    NATIVE_TEMPLATE_LANGUAGES,
    SOURCE_CUSTOM,
    SOURCE_GENERATED,
    SUPPORTED_LANGUAGES,
    generate_system_prompt,
    resolve_system_prompt,
)


NATIVE_INSTRUCTIONS = {
    "en": "Conduct the interview in English.",
    "es": "Realiza la entrevista en español.",
    "fr": "Menez l'entretien en français.",
    "de": "Führen Sie das Gespräch auf Deutsch.",
    "pt": "Conduza a entrevista em português.",
    "it": "Conduci il colloquio in italiano.",
}


def test_supported_languages_match_the_contract_language_enum():
    enum = contract_document()["components"]["schemas"]["InterviewLanguage"]["enum"]
    assert list(SUPPORTED_LANGUAGES) == enum
    assert set(LANGUAGE_NAMES) == set(SUPPORTED_LANGUAGES)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_generated_prompt_names_the_role_and_is_deterministic(language):
    first = generate_system_prompt("Backend Engineer", language)
    second = generate_system_prompt("Backend Engineer", language)
    assert first == second
    assert first.count("Backend Engineer") >= 2
    assert "{" not in first and "}" not in first


@pytest.mark.parametrize("language", sorted(NATIVE_INSTRUCTIONS))
def test_native_template_is_written_in_the_interview_language(language):
    prompt = generate_system_prompt("Data Analyst", language)
    assert NATIVE_INSTRUCTIONS[language] in prompt
    if language != "en":
        assert "You are ZenHire" not in prompt


@pytest.mark.parametrize("language", sorted(set(SUPPORTED_LANGUAGES) - NATIVE_TEMPLATE_LANGUAGES))
def test_other_languages_use_the_english_template_with_a_language_instruction(language):
    prompt = generate_system_prompt("Data Analyst", language)
    assert prompt.startswith("You are ZenHire's AI interviewer")
    assert f"Conduct the interview in {LANGUAGE_NAMES[language]}." in prompt


def test_native_templates_cover_at_least_the_six_main_languages():
    assert {"en", "es", "fr", "de", "pt", "it"} <= NATIVE_TEMPLATE_LANGUAGES


def test_different_roles_and_languages_give_different_prompts():
    assert generate_system_prompt("Nurse", "en") != generate_system_prompt("Pilot", "en")
    assert generate_system_prompt("Nurse", "en") != generate_system_prompt("Nurse", "de")


def test_role_name_whitespace_is_collapsed_in_the_prompt():
    assert generate_system_prompt("  Site   Reliability\tEngineer ", "en") == \
        generate_system_prompt("Site Reliability Engineer", "en")


def test_generation_refuses_unknown_language_and_blank_role():
    with pytest.raises(ValueError):
        generate_system_prompt("Engineer", "xx")
    with pytest.raises(ValueError):
        generate_system_prompt("   ", "en")


def test_supplied_prompt_is_kept_verbatim_as_custom():
    supplied = "  Ask only about Kubernetes.\n"
    assert resolve_system_prompt("SRE", "en", supplied) == (supplied, SOURCE_CUSTOM)


def test_missing_prompt_is_generated_from_the_template():
    prompt, source = resolve_system_prompt("SRE", "fr", None)
    assert source == SOURCE_GENERATED
    assert prompt == generate_system_prompt("SRE", "fr")
