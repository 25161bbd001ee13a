"""One device's inputs over a run of local days, as sorted numpy arrays (the engine's input)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wuxin.indicators.days import day_start_ms

_EMPTY_TS = np.zeros(0, dtype=np.int64)
_EMPTY_NUM = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class Series:
    """Readings of one property: device times (ms, ascending, unique), numbers, texts."""

    ts: np.ndarray
    num: np.ndarray
    txt: np.ndarray | None = None

    @staticmethod
    def empty() -> Series:
        return Series(_EMPTY_TS, _EMPTY_NUM, np.zeros(0, dtype=object))

    @staticmethod
    def of(ts, num=None, txt=None) -> Series:
        """Build from lists in any order; sorted by time, the first of equal times kept."""
        ts = np.asarray(ts, dtype=np.int64)
        order = np.argsort(ts, kind="stable")
        ts = ts[order]
        keep = np.ones(len(ts), dtype=bool)
        keep[1:] = ts[1:] != ts[:-1]
        num_arr = np.full(len(ts), np.nan) if num is None else np.asarray(num, dtype=np.float64)[order]
        txt_arr = None if txt is None else np.asarray(txt, dtype=object)[order][keep]
        return Series(ts[keep], num_arr[keep], txt_arr)

    def __len__(self) -> int:
        return len(self.ts)

    def texts(self) -> np.ndarray:
        """The texts, None for each reading when the series was built without them."""
        return self.txt if self.txt is not None else np.full(len(self.ts), None, dtype=object)


@dataclass(frozen=True)
class Events:
    """Events of one name: times (ms, ascending) and their params (dicts)."""

    ts: np.ndarray
    params: tuple[dict, ...] = ()

    @staticmethod
    def empty() -> Events:
        return Events(_EMPTY_TS, ())

    @staticmethod
    def of(pairs) -> Events:
        pairs = sorted(pairs, key=lambda p: p[0])
        return Events(np.array([p[0] for p in pairs], dtype=np.int64), tuple(p[1] for p in pairs))

    def __len__(self) -> int:
        return len(self.ts)


@dataclass(frozen=True)
class DeviceDays:
    """What an indicator function sees: one device, the days to compute, its inputs read over
    those days and the look-back before them, the enterprise's other devices, and now."""

    device_key: str
    device_type: str
    attributes: dict
    days: np.ndarray  # sorted local day numbers to compute
    series: dict[str, Series]
    events: dict[str, Events] = field(default_factory=dict)
    siblings: tuple[tuple[str, dict], ...] = ()  # (device_type, attributes) of the enterprise's devices
    now_ms: int = 2**62

    def s(self, key: str) -> Series:
        return self.series.get(key) or Series.empty()

    def e(self, name: str) -> Events:
        return self.events.get(name) or Events.empty()

    def day_starts(self) -> np.ndarray:
        return np.array([day_start_ms(d) for d in self.days], dtype=np.int64)

    def day_ends(self) -> np.ndarray:
        return np.array([day_start_ms(d + 1) for d in self.days], dtype=np.int64)

    def day_seconds(self) -> np.ndarray:
        """Length of each local day in seconds (86400; 82800 or 90000 on a daylight-saving change)."""
        return (self.day_ends() - self.day_starts()) / 1000.0

    def elapsed_s(self) -> np.ndarray:
        """Seconds of each day already past at `now` (the day's length for finished days)."""
        return np.clip(self.now_ms - self.day_starts(), 0, self.day_ends() - self.day_starts()) / 1000.0
