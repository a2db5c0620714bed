"""Universal endpoints shared by every module: health (HLTH-1) and credits (CRED-1)."""

from .api import API_MODULE

__all__ = ["API_MODULE"]
