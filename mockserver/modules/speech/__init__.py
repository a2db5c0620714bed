"""Speech analysis (SPCH-*): submit a recording, poll a run through queued → processing → terminal, list runs. `api` holds the handlers and the module's declaration; the other files hold the rules (submission checks, outcomes, results, transcripts, listing, run storage)."""

from .api import API_MODULE

__all__ = ["API_MODULE"]
