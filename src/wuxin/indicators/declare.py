"""Indicator declarations (data) and the loader that finds them in every scenario pack.

A pack's ``indicators.py`` defines ``INDICATORS`` (per device and day, with the enterprise
aggregation across devices), optionally ``GROUPS`` (per enterprise and day, from all devices
of one type, e.g. distinct people through any gate), ``DERIVED`` (from the enterprise's
other values, e.g. a ratio) and ``INDEX`` (the indicators published as industry indexes).
Nothing outside the pack folder names a scenario or an indicator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from wuxin.domain.thing_model import compile_thing_model
from wuxin.errors import ThingModelError
from wuxin.indicators.series import DeviceDays

AGGREGATIONS = ("sum", "mean", "max")
DEVICES_PREFIX = "devices:"  # a Derived input "devices:x" is the number of devices behind x


@dataclass(frozen=True)
class DayValues:
    """One value per requested day (NaN = unknown) and its quality flag."""

    value: np.ndarray
    quality: np.ndarray


@dataclass(frozen=True)
class Indicator:
    """Per device and day; `aggregation` combines the devices of an enterprise."""

    name: str
    unit: str
    label: dict[str, str]
    device_type: str
    properties: tuple[str, ...]
    compute: Callable[[DeviceDays], DayValues]
    aggregation: str
    events: tuple[str, ...] = ()
    text_properties: tuple[str, ...] = ()  # read as text (enum labels, ids), not numbers
    month: str = ""  # across the days of a month: sum | mean | max (default: sum for sums, else mean)

    @property
    def month_method(self) -> str:
        return self.month or ("sum" if self.aggregation == "sum" else "max" if self.aggregation == "max" else "mean")


@dataclass(frozen=True)
class GroupIndicator:
    """Per enterprise and day, from all devices of one type together."""

    name: str
    unit: str
    label: dict[str, str]
    device_type: str
    properties: tuple[str, ...]
    compute: Callable[[list[DeviceDays]], DayValues]
    events: tuple[str, ...] = ()
    text_properties: tuple[str, ...] = ()
    month: str = "mean"

    @property
    def month_method(self) -> str:
        return self.month


@dataclass(frozen=True)
class Derived:
    """Per enterprise and day, a function of other enterprise values (None when undefined)."""

    name: str
    unit: str
    label: dict[str, str]
    inputs: tuple[str, ...]
    compute: Callable[..., float | None]
    month: str = "mean"

    @property
    def month_method(self) -> str:
        return self.month


DeviceDeclaration = Indicator | GroupIndicator
Declaration = Indicator | GroupIndicator | Derived


@dataclass(frozen=True)
class IndicatorPack:
    scenario: str
    indicators: tuple[Indicator, ...]
    groups: tuple[GroupIndicator, ...]
    derived: tuple[Derived, ...]
    index: tuple[str, ...]

    def for_type(self, device_type: str) -> list[Indicator]:
        return [i for i in self.indicators if i.device_type == device_type]

    def inputs(
        self, device_type: str, decls: Sequence[DeviceDeclaration] | None = None
    ) -> tuple[set[str], set[str], set[str]]:
        """(numeric properties, text properties, events) the declarations of a type read."""
        decls = decls if decls is not None else [d for d in self.device_declarations() if d.device_type == device_type]
        text = {p for d in decls for p in d.text_properties}
        numeric = {p for d in decls for p in d.properties} - text
        return numeric, text, {e for d in decls for e in d.events}

    def groups_for_type(self, device_type: str) -> list[GroupIndicator]:
        return [g for g in self.groups if g.device_type == device_type]

    def device_declarations(self) -> list[DeviceDeclaration]:
        """The declarations read from devices of one type: indicators, then groups."""
        return [*self.indicators, *self.groups]

    def all(self) -> list[Declaration]:
        return [*self.indicators, *self.groups, *self.derived]

    def get(self, name: str):
        return next((d for d in self.all() if d.name == name), None)


def label(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def indicator_pack(scenario: str, module, thing_model_docs) -> IndicatorPack:
    """A scenario pack's indicators (its `indicators` module), validated against its thing models: a broken
    declaration stops the platform. The packs come from the composition (wuxin.services.bootstrap)."""
    ipack = IndicatorPack(
        scenario,
        tuple(module.INDICATORS),
        tuple(getattr(module, "GROUPS", ())),
        tuple(getattr(module, "DERIVED", ())),
        tuple(getattr(module, "INDEX", ())),
    )
    check_pack(ipack, {m.device_type: m for m in map(compile_thing_model, thing_model_docs)})
    return ipack


def check_pack(pack: IndicatorPack, models: dict) -> None:
    """Names unique, device types, properties and events known to the thing models, inputs resolvable."""
    names = [d.name for d in pack.all()]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ThingModelError(f"scenario {pack.scenario}: indicator names declared twice: {dup}")
    for decl in pack.device_declarations():
        model = models.get(decl.device_type)
        if model is None:
            raise ThingModelError(
                f"indicator {decl.name}: device type {decl.device_type!r} is not in scenario {pack.scenario}"
            )
        missing = [p for p in (*decl.properties, *decl.text_properties) if p not in model.properties]
        missing += [e for e in decl.events if e not in model.events]
        if missing:
            raise ThingModelError(f"indicator {decl.name}: {decl.device_type} has no property or event {missing}")
    for decl in pack.indicators:
        if decl.aggregation not in AGGREGATIONS:
            raise ThingModelError(
                f"indicator {decl.name}: aggregation {decl.aggregation!r} is not one of {AGGREGATIONS}"
            )
    for each in pack.all():
        if each.month_method not in AGGREGATIONS:
            raise ThingModelError(
                f"indicator {each.name}: month method {each.month_method!r} is not one of {AGGREGATIONS}"
            )
    known = set()
    for each in pack.all():
        if isinstance(each, Derived):
            unknown = [i for i in each.inputs if i.removeprefix(DEVICES_PREFIX) not in known]
            if unknown:
                raise ThingModelError(f"derived indicator {each.name}: inputs {unknown} are not declared before it")
        known.add(each.name)
    bad_index = [n for n in pack.index if n not in known]
    if bad_index:
        raise ThingModelError(f"scenario {pack.scenario}: INDEX names undeclared indicators {bad_index}")
