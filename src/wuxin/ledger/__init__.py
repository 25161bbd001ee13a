"""Verifiable evidence: an append-only Merkle log (RFC 9162 hashing) with signed tree heads."""
