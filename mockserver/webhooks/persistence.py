"""Where the delivery log is kept between restarts.

The engine hands every delivery record (a JSON-compatible dict, see ``engine``) to
``save`` after each change and reads them all back with ``load_all`` when it starts.
``InMemoryDeliveryStore`` is the default; the mock's store can back the same interface.
"""

from __future__ import annotations

import json
from typing import Protocol


class DeliveryPersistence(Protocol):
    def save(self, delivery: dict) -> None: ...
    def load_all(self) -> list[dict]: ...


class InMemoryDeliveryStore:
    """Delivery records by id, kept as JSON text so nothing shares state with the engine."""

    def __init__(self) -> None:
        self._records: dict[str, str] = {}

    def save(self, delivery: dict) -> None:
        self._records[delivery["id"]] = json.dumps(delivery, ensure_ascii=False)

    def load_all(self) -> list[dict]:
        return [json.loads(text) for text in self._records.values()]
