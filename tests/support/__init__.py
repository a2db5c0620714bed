"""Helpers for the project's own tests: generated media fixtures (`audio_fixtures`)."""
