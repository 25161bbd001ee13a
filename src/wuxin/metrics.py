"""Prometheus counters: points accepted, rejected by reason, quarantined; JT/T 808 registrations and logins."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, generate_latest


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.points_accepted = Counter(
            "wuxin_points_accepted", "Telemetry points and events stored", ["channel"], registry=self.registry
        )
        self.points_rejected = Counter(
            "wuxin_points_rejected", "Telemetry points refused, by reason", ["channel", "reason"], registry=self.registry
        )
        self.quarantined = Counter(
            "wuxin_quarantined", "Entries written to the quarantine", ["reason"], registry=self.registry
        )
        self.jt808_registrations = Counter(
            "wuxin_jt808_registrations", "JT/T 808 registrations (0x0100) by outcome: enrolled or why refused",
            ["outcome"], registry=self.registry
        )
        self.jt808_authentications = Counter(
            "wuxin_jt808_authentications", "JT/T 808 authentications (0x0102) by outcome: authenticated or why refused",
            ["outcome"], registry=self.registry
        )
        self.unauthenticated = Counter(
            "wuxin_unauthenticated_requests", "Device-facing requests refused as unauthenticated, by channel and reason",
            ["channel", "reason"], registry=self.registry
        )
        self.unauthenticated_bytes = Counter(
            "wuxin_unauthenticated_bytes", "Bytes of unauthenticated bodies (only a bounded prefix of each is kept)",
            ["channel"], registry=self.registry
        )
        self.rate_limited = Counter(
            "wuxin_rate_limited", "Requests answered 429 because their source failed authentication too often",
            ["channel"], registry=self.registry
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
