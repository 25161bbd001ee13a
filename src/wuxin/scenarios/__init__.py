"""Scenario packs: one folder per industry, all alike, found automatically.

A pack is a folder holding ``manifest.json`` (name and labels), ``thing_models/*.json``
(one TSL file per device type) and ``sim.py`` (its simulator). Adding an industry means
adding a folder; nothing outside it names a scenario.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import orjson

from wuxin.domain.thing_model import ThingModel, compile_thing_model, parse_thing_model
from wuxin.errors import ThingModelError

PACKS_DIR = Path(__file__).parent


@dataclass(frozen=True)
class ScenarioPack:
    name: str
    label: dict[str, str]
    folder: Path
    thing_model_docs: tuple[dict, ...]

    def sim(self) -> ModuleType:
        return importlib.import_module(f"wuxin.scenarios.{self.name}.sim")


@lru_cache
def scenario_packs() -> dict[str, ScenarioPack]:
    """Every pack below this folder, validated: a broken pack stops the platform."""
    packs = {}
    for manifest_path in sorted(PACKS_DIR.glob("*/manifest.json")):
        folder = manifest_path.parent
        manifest = orjson.loads(manifest_path.read_bytes())
        if manifest.get("name") != folder.name:
            raise ThingModelError(f"scenario folder {folder.name!r} declares name {manifest.get('name')!r}")
        docs = tuple(parse_thing_model(p.read_bytes()) for p in sorted((folder / "thing_models").glob("*.json")))
        for doc in docs:
            model = compile_thing_model(doc)
            if model.scenario != folder.name:
                raise ThingModelError(f"{model.device_type} lies in scenario folder {folder.name!r}")
        packs[folder.name] = ScenarioPack(folder.name, manifest.get("label", {}), folder, docs)
    return packs


def builtin_thing_models() -> list[ThingModel]:
    return [compile_thing_model(doc) for pack in scenario_packs().values() for doc in pack.thing_model_docs]
