"""CV DeepMatch (CVDM-*, CFG-*): submit a CV PDF against a position config, poll the match, list requests, signed completion callbacks. `api` holds the handlers and the declaration; the other files hold the rules."""

from .api import API_MODULE

__all__ = ["API_MODULE"]
