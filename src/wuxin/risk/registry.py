"""Model registry interface: models stored as their JSON-able dict, found by their content-hash version."""

from __future__ import annotations

import json
from typing import Protocol

from wuxin.errors import NotFound
from wuxin.risk.scorecard import Scorecard, model_from_dict, model_to_dict


class ModelRegistry(Protocol):
    """Where trained scorecards live; persistence (a table) implements this."""

    def save(self, model: Scorecard) -> str:
        """Store the model; returns its version (idempotent: same content, same version)."""
        ...

    def load(self, version: str) -> Scorecard:
        """The model with this version; NotFound otherwise."""
        ...

    def versions(self) -> list[str]: ...


class InMemoryModelRegistry:
    """A registry in a dict of JSON texts: the fake for tests, and the reference behaviour."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def save(self, model: Scorecard) -> str:
        data = model_to_dict(model)
        self._texts.setdefault(data["version"], json.dumps(data, ensure_ascii=False, sort_keys=True))
        return str(data["version"])

    def load(self, version: str) -> Scorecard:
        if version not in self._texts:
            raise NotFound(f"scorecard version {version!r} is not in the registry ({len(self._texts)} stored)")
        return model_from_dict(json.loads(self._texts[version]))

    def versions(self) -> list[str]:
        return sorted(self._texts)
