"""Interview (INTV-*): personas, sessions with hashed candidate tokens, the candidate side (control API and a local candidate page, `web`), recordings and transcripts. `api` holds the handlers and the declaration."""

from .api import API_MODULE

__all__ = ["API_MODULE"]
