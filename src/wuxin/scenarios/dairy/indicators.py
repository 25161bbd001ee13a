"""Dairy indicators: herd count from ear tags, activity, rumination, fever, milk per cow."""

from __future__ import annotations

import numpy as np

from wuxin.indicators.common import DayValues, daily, presence_quality
from wuxin.indicators.declare import Derived, Indicator, label
from wuxin.indicators.kernels import day_index
from wuxin.indicators.series import DeviceDays

TAG, COLLAR, MILK = "dairy.ear_tag", "dairy.collar", "dairy.milk_meter"
COLLAR_MAX_GAP_MS = 2 * 3_600_000  # collars report hourly
FEVER_C = 39.5  # rectal-equivalent body temperature above which a cow counts as febrile


def herd_count(data: DeviceDays) -> DayValues:
    """Distinct animals whose tag was read this day (a tag is one animal; the sum is the herd)."""
    s = data.s("animal_id")
    idx = day_index(s.ts, data.days)
    counts = np.zeros(len(data.days))
    if len(s) and s.txt is not None:  # tag reads carry the animal's id as text
        pairs = {(i, a) for i, a in zip(idx.tolist(), s.txt.tolist()) if i >= 0 and a is not None}
        for i, _ in pairs:
            counts[i] += 1
    has = counts > 0
    return DayValues(np.where(has, counts, np.nan), presence_quality(data, has))


def activity_steps_mean(data: DeviceDays) -> DayValues:
    return daily(data, "activity_steps", "mean", COLLAR_MAX_GAP_MS)


def rumination_min_mean(data: DeviceDays) -> DayValues:
    return daily(data, "rumination_min", "mean", COLLAR_MAX_GAP_MS)


def animals_with_fever(data: DeviceDays) -> DayValues:
    """1 when the collar's highest body temperature of the day reached FEVER_C."""
    peak = daily(data, "body_temp_c", "max", COLLAR_MAX_GAP_MS)
    return DayValues(np.where(np.isfinite(peak.value), (peak.value >= FEVER_C).astype(float), np.nan), peak.quality)


def milk_kg(data: DeviceDays) -> DayValues:
    s = data.s("milk_kg")
    total = np.zeros(len(data.days))
    idx = day_index(s.ts, data.days)
    ok = (idx >= 0) & np.isfinite(s.num)
    np.add.at(total, idx[ok], s.num[ok])
    has = np.bincount(idx[ok], minlength=len(data.days)) > 0 if len(s) else np.zeros(len(data.days), dtype=bool)
    return DayValues(np.where(has, total, np.nan), presence_quality(data, has))


def _per_cow(kg: float, cows: float) -> float | None:
    return kg / cows if cows else None


INDICATORS = (
    Indicator(
        "herd_count",
        "head",
        label("存栏数(耳标)", "Herd count (ear tags read)"),
        TAG,
        ("animal_id",),
        herd_count,
        "sum",
        text_properties=("animal_id",),
        month="mean",
    ),
    Indicator(
        "activity_steps_mean",
        "steps/h",
        label("平均活动量", "Mean activity"),
        COLLAR,
        ("activity_steps",),
        activity_steps_mean,
        "mean",
    ),
    Indicator(
        "rumination_min_mean",
        "min/h",
        label("平均反刍时间", "Mean rumination"),
        COLLAR,
        ("rumination_min",),
        rumination_min_mean,
        "mean",
    ),
    Indicator(
        "animals_with_fever",
        "head",
        label("发热头数", "Animals with fever"),
        COLLAR,
        ("body_temp_c",),
        animals_with_fever,
        "sum",
        month="mean",
    ),
    Indicator("milk_kg", "kg", label("产奶量", "Milk"), MILK, ("milk_kg",), milk_kg, "sum"),
)
DERIVED = (
    Derived(
        "milk_kg_per_cow",
        "kg/head",
        label("单产(每头日产奶)", "Milk per cow per day"),
        ("milk_kg", "herd_count"),
        _per_cow,
    ),
)
INDEX = ("milk_kg_per_cow",)
