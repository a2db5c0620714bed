"""The requests every bench measures: the public health check and an authenticated read."""

from __future__ import annotations

from dataclasses import dataclass

API_KEY = "zh_api_test_full_access_0001"


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    headers: dict[str, str]


ENDPOINTS = [
    Endpoint("health", "/api/v1/health", {}),
    Endpoint("credits", "/api/v1/credits", {"X-API-Key": API_KEY}),
]
