"""Scenario packs: one folder per industry, all alike, found automatically.

A pack is a folder holding ``manifest.json`` (name, labels, colour, device roles, alarm types, unit words),
``thing_models/*.json`` (one TSL file per device type), ``indicators.py``, ``rules.json``, ``sim.py`` and,
optionally, ``products.json`` (credit products), ``checks.json`` (cross-verification checks),
``finance.json`` (the finance profile of its simulated firms) and ``business.json`` (its business-data fields). The format is in docs/scenarios.md
("Pack format"). Adding an industry means adding a folder, here or in a folder named by
``WUXIN_PACKS_DIRS``; nothing outside the packs names a scenario or a device type: the rest of the
platform receives packs as arguments and finds devices by role.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson

from wuxin.domain.thing_model import ThingModel, compile_thing_model, parse_thing_model
from wuxin.errors import ThingModelError

PACKS_DIR = Path(__file__).parent
PACKS_DIRS_ENV = "WUXIN_PACKS_DIRS"
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
# What the platform finds devices by (docs/scenarios.md, "Device roles"): a typo in a manifest stops the platform.
DEVICE_ROLES = frozenset(
    {
        "locates_vehicles",
        "speaks_jt808",
        "immobilises_vehicle",
        "counts_stock",
        "counts_goods_out",
        "weighs_goods",
        "counts_output",
        "measures_machine_current",
        "meters_energy",
        "meters_generation",
        "measures_irradiance",
        "history_only",
    }
)
PACK_ROLES = frozenset({"demo_portfolio", "demo_pledge", "demo_fleet_loan"})


@dataclass(frozen=True)
class ScenarioPack:
    name: str
    label: dict[str, str]
    folder: Path
    thing_model_docs: tuple[dict, ...]
    colour: str = "#7f8c8d"
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)  # device type -> roles
    pack_roles: tuple[str, ...] = ()
    alarm_types: dict[str, dict[str, str]] = field(default_factory=dict)
    builtin: bool = True
    units: dict[str, dict[str, str]] = field(default_factory=dict)  # unit -> {zh, en}: how a person reads it

    def module(self, name: str) -> ModuleType:
        """The pack's `sim` or `indicators` module: imported as a package module when built in, by file path else
        (named after the folder too: two folders holding a pack of one name in turn, as tests do, load their own)."""
        if self.builtin:
            return importlib.import_module(f"wuxin.scenarios.{self.name}.{name}")
        folder = hashlib.sha1(str(self.folder.resolve()).encode(), usedforsecurity=False).hexdigest()[:12]
        qualified = f"wuxin_packs.{self.name}_{folder}.{name}"
        if qualified not in sys.modules:
            spec = importlib.util.spec_from_file_location(qualified, self.folder / f"{name}.py")
            if spec is None or spec.loader is None:
                raise ThingModelError(f"scenario pack {self.name}: cannot load {self.folder / f'{name}.py'}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[qualified] = module
            spec.loader.exec_module(module)
        return sys.modules[qualified]

    def sim(self) -> ModuleType:
        return self.module("sim")

    def indicators(self) -> ModuleType:
        return self.module("indicators")

    def document(self, filename: str, default: Any = None) -> Any:
        """A JSON file of the pack (`products.json`, `checks.json`, `finance.json`, `rules.json`); `default` when absent."""
        path = self.folder / filename
        return orjson.loads(path.read_bytes()) if path.is_file() else default

    def device_types_with(self, role: str) -> tuple[str, ...]:
        return tuple(sorted(t for t, roles in self.roles.items() if role in roles))

    @property
    def device_types(self) -> tuple[str, ...]:
        return tuple(doc["profile"]["productKey"] for doc in self.thing_model_docs)


def packs_dirs(extra_dirs: Iterable[str | Path] = ()) -> tuple[Path, ...]:
    """The built-in packs folder, then `extra_dirs`, then the folders of WUXIN_PACKS_DIRS (os.pathsep-separated)."""
    return _packs_dirs(tuple(str(p) for p in extra_dirs), os.environ.get(PACKS_DIRS_ENV, ""))


@lru_cache
def _packs_dirs(extra_dirs: tuple[str, ...], env: str) -> tuple[Path, ...]:
    named = [p for p in env.split(os.pathsep) if p.strip()]
    return (PACKS_DIR, *(Path(p) for p in extra_dirs), *(Path(p) for p in named))


def scenario_packs(extra_dirs: Iterable[str | Path] = ()) -> dict[str, ScenarioPack]:
    """Every pack of the packs folders, validated: a broken pack stops the platform."""
    return _scenario_packs(packs_dirs(extra_dirs))


def clear_caches() -> None:
    _scenario_packs.cache_clear()


@lru_cache
def _scenario_packs(dirs: tuple[Path, ...]) -> dict[str, ScenarioPack]:
    packs: dict[str, ScenarioPack] = {}
    for index, directory in enumerate(dirs):
        if not directory.is_dir():
            raise ThingModelError(f"scenario packs folder {str(directory)!r} does not exist ({PACKS_DIRS_ENV})")
        for manifest_path in sorted(directory.glob("*/manifest.json")):
            pack = load_pack(manifest_path.parent, builtin=index == 0)
            if pack.name in packs:
                raise ThingModelError(
                    f"scenario pack {pack.name!r} is found twice: {packs[pack.name].folder} and {pack.folder}"
                )
            packs[pack.name] = pack
    return dict(sorted(packs.items()))


def load_pack(folder: Path, builtin: bool = False) -> ScenarioPack:
    """One pack folder, checked: its name, thing models, colour and device roles."""
    manifest = orjson.loads((folder / "manifest.json").read_bytes())
    if manifest.get("name") != folder.name:
        raise ThingModelError(f"scenario folder {folder.name!r} declares name {manifest.get('name')!r}")
    docs = tuple(parse_thing_model(p.read_bytes()) for p in sorted((folder / "thing_models").glob("*.json")))
    for doc in docs:
        model = compile_thing_model(doc)
        if model.scenario != folder.name:
            raise ThingModelError(f"{model.device_type} lies in scenario folder {folder.name!r}")
    colour = manifest.get("colour", "#7f8c8d")
    if not isinstance(colour, str) or not COLOUR.match(colour):
        raise ThingModelError(f"scenario pack {folder.name}: colour must be #rrggbb, got {colour!r}")
    types = {doc["profile"]["productKey"] for doc in docs}
    roles = {t: tuple(r) for t, r in manifest.get("roles", {}).items()}
    for device_type, named in roles.items():
        if device_type not in types:
            raise ThingModelError(f"scenario pack {folder.name}: role of unknown device type {device_type!r}")
        unknown = sorted(set(named) - DEVICE_ROLES)
        if unknown:
            raise ThingModelError(
                f"scenario pack {folder.name}: {device_type} has unknown roles {unknown}; known: {sorted(DEVICE_ROLES)}"
            )
    pack_roles = tuple(manifest.get("pack_roles", ()))
    if set(pack_roles) - PACK_ROLES:
        raise ThingModelError(
            f"scenario pack {folder.name}: unknown pack roles {sorted(set(pack_roles) - PACK_ROLES)}; "
            f"known: {sorted(PACK_ROLES)}"
        )
    return ScenarioPack(
        folder.name,
        manifest.get("label", {}),
        folder,
        docs,
        colour,
        roles,
        pack_roles,
        manifest.get("alarm_types", {}),
        builtin,
        manifest.get("units", {}),
    )


def builtin_thing_models() -> list[ThingModel]:
    return [compile_thing_model(doc) for pack in scenario_packs().values() for doc in pack.thing_model_docs]
