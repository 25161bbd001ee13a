"""What a simulator produces: enterprises, sites and devices, as plain frozen data.

Every scenario pack's ``sim.py`` exposes two functions::

    def build_enterprise(rng: random.Random, index: int) -> EnterpriseSpec
    def telemetry(enterprise: EnterpriseSpec, start_ms: int, end_ms: int, seed: int) -> Iterator[dict]

``telemetry`` yields bulk-import lines (see docs/scenarios.md), time-ordered per device:
``{"device": key, "ts": epoch_ms, "values": {...}}`` or
``{"device": key, "ts": epoch_ms, "event": name, "params": {...}}``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
HEALTHS = ("growing", "stable", "declining", "failing")


@dataclass(frozen=True)
class SiteSpec:
    name: str
    region: str  # e.g. "江苏省苏州市吴江区"
    lat: float
    lon: float


@dataclass(frozen=True)
class DeviceSpec:
    key: str  # globally unique device key, e.g. "mfg-0001-bracelet-03"
    device_type: str  # e.g. "manufacturing.current_bracelet"
    site: str  # SiteSpec.name
    source_mode: str = "bank_installed"  # bank_installed | third_party_platform | enterprise_shared
    attributes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EnterpriseSpec:
    name: str
    uscc: str
    industry: str  # the scenario name
    region: str
    health: str  # growing | stable | declining | failing (latent; drives data and outcomes)
    sites: tuple[SiteSpec, ...]
    devices: tuple[DeviceSpec, ...]


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 check character of a unified social credit code."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    if len(code) != 18 or any(ch not in USCC_ALPHABET for ch in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


def make_uscc(rng: random.Random, region_code: str = "320509") -> str:
    """A well-formed (check digit valid) unified social credit code for a company (91...)."""
    org = "".join(rng.choice(USCC_ALPHABET[:10] + "ABCDEFGH") for _ in range(9))
    first17 = "91" + region_code + org
    return first17 + uscc_check_char(first17)
