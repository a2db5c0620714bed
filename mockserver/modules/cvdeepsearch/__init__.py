"""CV DeepSearch (CVDS-*): ingest candidates into corpora, read them, trigger searches and poll their runs (results behind the `cvds-results` preview). `api` holds the handlers and the declaration; the other files hold the rules."""

from .api import API_MODULE

__all__ = ["API_MODULE"]
