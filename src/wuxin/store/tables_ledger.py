"""Tables of the ledger part (same metadata as tables.py; migrations under migrations/versions)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint

from wuxin.store.metadata import metadata

ledger_head = Table(  # one row (id 1): the tree size; appends lock it (row lock / SQLite write lock)
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
)

ledger_nodes = Table(  # complete RFC 9162 subtrees: (level, index) -> SHA-256, written once
    "ledger_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    sqlite_with_rowid=False,
)

ledger_entries = Table(  # one per leaf: what it records; `leaf_data` is the exact hashed bytes (UTF-8 JSON)
    "ledger_entries",
    metadata,
    Column("leaf_index", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(40), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("enterprise_id", Integer),  # whose data it is; NULL for multi-enterprise batches and platform facts
    Column("owner_tenant_id", Integer),  # whose business it is (a bank's decision, loan, alarm); NULL: the enterprise's
    Column("data_class", String(20), nullable=False, server_default="platform"),  # what it reveals (services.ledger)
    Column("leaf_data", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_ledger_entries_subject", "subject"),
)

ledger_tree_heads = Table(  # published signed tree heads (RFC 6962 TreeHeadSignature, Ed25519)
    "ledger_tree_heads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", String(64), nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("signature", String(128), nullable=False),
    Column("public_key", String(64), nullable=False),
)

ledger_keys = Table(  # the platform's signing key, AES-256-GCM encrypted under a WUXIN_SECRET_KEY-derived key
    "ledger_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("purpose", String(40), nullable=False, unique=True),
    Column("public_key", String(64), nullable=False),
    Column("encrypted_private_key", LargeBinary, nullable=False),  # 12-byte nonce || ciphertext+tag
    Column("created_ms", BigInteger, nullable=False),
)

product_batches = Table(  # a production batch (lot) whose identities are capped by measured output
    "product_batches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("enterprise_id", Integer, nullable=False),
    Column("gtin", String(14), nullable=False),
    Column("lot", String(20), nullable=False),
    Column("company_prefix_digits", Integer, nullable=False),
    Column("origin", String(200), nullable=False),
    Column("production_start_ms", BigInteger, nullable=False),
    Column("production_end_ms", BigInteger, nullable=False),
    Column("issued_count", Integer, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    UniqueConstraint("gtin", "lot"),
)

products = Table(  # one electronic identity (SGTIN) per product unit
    "products",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch_id", Integer, nullable=False),
    Column("enterprise_id", Integer, nullable=False),
    Column("gtin", String(14), nullable=False),
    Column("serial", String(20), nullable=False),
    Column("epc", String(100), nullable=False, unique=True),  # urn:epc:id:sgtin:...
    Column("digital_link", String(200), nullable=False, unique=True),  # canonical https://id.gs1.org/01/../21/..
    Column("issued_ms", BigInteger, nullable=False),
    Column("leaf_index", BigInteger, nullable=False),
    UniqueConstraint("gtin", "serial"),
)

product_scans = Table(  # every consumer verification (QR / NFC scan), product or not
    "product_scans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("product_id", Integer),
    Column("gtin", String(14), nullable=False),
    Column("serial", String(20), nullable=False),
    Column("scanned_ms", BigInteger, nullable=False),
    Column("client_hash", String(64), nullable=False),  # SHA-256 of the client address, never the address
    Column("lat", Float),
    Column("lon", Float),
    Column("verdict", String(20), nullable=False),
    Index("ix_product_scans_product_id", "product_id", "scanned_ms"),
)

epcis_events = Table(  # captured EPCIS 2.0 events; capture is idempotent on the CBV event hash ID
    "epcis_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("hash_id", String(120), nullable=False, unique=True),
    Column("enterprise_id", Integer, nullable=False),
    Column("event_type", String(30), nullable=False),
    Column("event_time_ms", BigInteger, nullable=False),
    Column("record_time_ms", BigInteger, nullable=False),
    Column("biz_step", String(200)),
    Column("disposition", String(200)),
    Column("read_point", String(300)),
    Column("biz_location", String(300)),
    Column("event", Text, nullable=False),  # the event as captured (JSON), recordTime and eventID added
    Column("leaf_index", BigInteger, nullable=False),
    Index("ix_epcis_events_event_time_ms", "event_time_ms"),
)

epcis_event_epcs = Table(  # EPCs an event names, canonical Digital Link form, for MATCH_epc / MATCH_anyEPC
    "epcis_event_epcs",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=False),
    Column("epc", String(300), primary_key=True),
    Column("role", String(10), primary_key=True),  # epc (epcList, childEPCs) | parent | input | output
    Index("ix_epcis_event_epcs_epc", "epc"),
)
