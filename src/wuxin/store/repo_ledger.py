"""Repository of the ledger part: its SQL lives here (Merkle nodes, entries, tree heads, products, EPCIS)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from wuxin.store.repos import Row, _record, _records, _Repo
from wuxin.store.rows import (
    CounterReadingRow,
    EpcisEventRow,
    LedgerEntryRow,
    ProductBatchRow,
    ProductRow,
    ProductScanRow,
    SigningKeyRow,
    TreeHeadRow,
)
from wuxin.store.tables import devices, events, readings
from wuxin.store.tables_ledger import (
    epcis_event_epcs,
    epcis_events,
    ledger_entries,
    ledger_head,
    ledger_keys,
    ledger_nodes,
    ledger_tree_heads,
    product_batches,
    product_scans,
    products,
)

HEAD_ID = 1
# Built once: the append path runs them per leaf, and building Core expressions costs more than SQLite's work.
_ALLOCATE = (
    update(ledger_head)
    .where(ledger_head.c.id == HEAD_ID)
    .values(tree_size=ledger_head.c.tree_size + bindparam("count"))
    .returning(ledger_head.c.tree_size)
)
_PUT_NODES = insert(ledger_nodes)
_ADD_ENTRY = insert(ledger_entries)


class LedgerRepo(_Repo):
    # ---- the Merkle log ---------------------------------------------------------------------------

    def allocate_leaf_indexes(self, count: int) -> int:
        """Reserve `count` leaf indexes under the head row's lock (held to commit); returns the first."""
        new_size = self.conn.execute(_ALLOCATE, {"count": count}).scalar()
        if new_size is None:  # first append ever (or after a truncate): create the head row, then lock it
            self.conn.execute(
                self._dialect_insert(ledger_head).values(id=HEAD_ID, tree_size=0).on_conflict_do_nothing()
            )
            new_size = self.conn.execute(_ALLOCATE, {"count": count}).scalar_one()
        return new_size - count

    def lock_head(self) -> int:
        """Lock the head row until commit (appends wait) and return the tree size."""
        return self.allocate_leaf_indexes(0)

    def tree_size(self) -> int:
        size = self.conn.execute(select(ledger_head.c.tree_size).where(ledger_head.c.id == HEAD_ID)).scalar()
        return size or 0

    def nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """Node hashes by (level, index), in one round trip.

        Plain SQL with the integers inlined (they are ints, never text): one `level = L AND idx IN (...)`
        per level uses the primary key on both databases, and skips building an expression per call.
        """
        if not keys:
            return {}
        by_level: dict[int, set[int]] = {}
        for level, index in keys:
            by_level.setdefault(int(level), set()).add(int(index))
        where = " OR ".join(
            f"(level = {level} AND idx IN ({','.join(map(str, sorted(indexes)))}))"
            for level, indexes in sorted(by_level.items())
        )
        result = self.conn.execute(text(f"SELECT level, idx, hash FROM ledger_nodes WHERE {where}"))
        return {(level, index): bytes(node) for level, index, node in result}

    def put_nodes(self, rows: Sequence[tuple[int, int, bytes]]) -> None:
        if rows:
            self.conn.execute(_PUT_NODES, [dict(level=lv, idx=ix, hash=h) for lv, ix, h in rows])

    def add_entry(
        self,
        leaf_index: int,
        kind: str,
        subject: str,
        enterprise_id: int | None,
        owner_tenant_id: int | None,
        data_class: str,
        leaf_data: str,
        created_ms: int,
    ) -> None:
        self.conn.execute(
            _ADD_ENTRY,
            dict(
                leaf_index=leaf_index,
                kind=kind,
                subject=subject,
                enterprise_id=enterprise_id,
                owner_tenant_id=owner_tenant_id,
                data_class=data_class,
                leaf_data=leaf_data,
                created_ms=created_ms,
            ),
        )

    def entry(self, leaf_index: int) -> LedgerEntryRow | None:
        return _record(
            self.conn.execute(select(ledger_entries).where(ledger_entries.c.leaf_index == leaf_index)), LedgerEntryRow
        )

    def leaf_data(self, first_index: int, count: int) -> list[str]:
        """The canonical JSON of leaves first_index .. first_index+count-1, in leaf order."""
        query = (
            select(ledger_entries.c.leaf_data)
            .where(ledger_entries.c.leaf_index >= first_index, ledger_entries.c.leaf_index < first_index + count)
            .order_by(ledger_entries.c.leaf_index)
        )
        return list(self.conn.execute(query).scalars())

    def entries_by_subjects(self, subjects: Sequence[str]) -> list[LedgerEntryRow]:
        query = (
            select(ledger_entries)
            .where(ledger_entries.c.subject.in_(list(subjects)))
            .order_by(ledger_entries.c.leaf_index)
        )
        return _records(self.conn.execute(query), LedgerEntryRow)

    # ---- tree heads and the signing key -----------------------------------------------------------

    def add_tree_head(self, **values: Any) -> int:
        return self._add(ledger_tree_heads, **values)

    def latest_tree_head(self, min_tree_size: int = 0) -> TreeHeadRow | None:
        query = (
            select(ledger_tree_heads)
            .where(ledger_tree_heads.c.tree_size >= min_tree_size)
            .order_by(ledger_tree_heads.c.id.desc())
            .limit(1)
        )
        return _record(self.conn.execute(query), TreeHeadRow)

    def tree_heads(self, limit: int) -> list[TreeHeadRow]:
        return _records(
            self.conn.execute(select(ledger_tree_heads).order_by(ledger_tree_heads.c.id.desc()).limit(limit)),
            TreeHeadRow,
        )

    def tree_head_of_size(self, tree_size: int) -> TreeHeadRow | None:
        query = (
            select(ledger_tree_heads)
            .where(ledger_tree_heads.c.tree_size == tree_size)
            .order_by(ledger_tree_heads.c.id.desc())
            .limit(1)
        )
        return _record(self.conn.execute(query), TreeHeadRow)

    def signing_key(self, purpose: str) -> SigningKeyRow | None:
        return _record(self.conn.execute(select(ledger_keys).where(ledger_keys.c.purpose == purpose)), SigningKeyRow)

    def add_signing_key(self, purpose: str, public_key: str, encrypted_private_key: bytes, created_ms: int) -> None:
        """Insert the key unless another process won the race (then the caller reads theirs)."""
        self.conn.execute(
            self._dialect_insert(ledger_keys)
            .values(
                purpose=purpose,
                public_key=public_key,
                encrypted_private_key=encrypted_private_key,
                created_ms=created_ms,
            )
            .on_conflict_do_nothing()
        )

    # ---- telemetry digests ----------------------------------------------------------------------

    def batch_readings(self, batch_id: int, device_ids: Sequence[int], from_ms: int, to_ms: int) -> list[tuple]:
        """(device_id, key, ts_ms, num, txt) stored under batch_id for these devices, in [from_ms, to_ms]."""
        query = select(readings.c.device_id, readings.c.key, readings.c.ts_ms, readings.c.num, readings.c.txt).where(
            readings.c.device_id.in_(list(device_ids)),
            readings.c.ts_ms >= from_ms,
            readings.c.ts_ms <= to_ms,
            readings.c.batch_id == batch_id,
        )
        return [tuple(r) for r in self.conn.execute(query)]

    def batch_events(self, batch_id: int, device_ids: Sequence[int], from_ms: int, to_ms: int) -> list[tuple]:
        """(device_id, name, ts_ms, params) stored under batch_id for these devices, in [from_ms, to_ms]."""
        query = select(events.c.device_id, events.c.name, events.c.ts_ms, events.c.params).where(
            events.c.device_id.in_(list(device_ids)),
            events.c.ts_ms >= from_ms,
            events.c.ts_ms <= to_ms,
            events.c.batch_id == batch_id,
        )
        return [tuple(r) for r in self.conn.execute(query)]

    def device_batch_points(self, batch_id: int, device_id: int) -> tuple[list[tuple], list[tuple]]:
        """Every reading and event of one device stored under batch_id."""
        rq = select(readings.c.device_id, readings.c.key, readings.c.ts_ms, readings.c.num, readings.c.txt).where(
            readings.c.device_id == device_id, readings.c.batch_id == batch_id
        )
        eq = select(events.c.device_id, events.c.name, events.c.ts_ms, events.c.params).where(
            events.c.device_id == device_id, events.c.batch_id == batch_id
        )
        return [tuple(r) for r in self.conn.execute(rq)], [tuple(r) for r in self.conn.execute(eq)]

    # ---- products -------------------------------------------------------------------------------

    def add_product_batch(self, **values: Any) -> int:
        return self._add(product_batches, issued_count=0, **values)

    def product_batch(self, batch_id: int) -> ProductBatchRow | None:
        return _record(
            self.conn.execute(select(product_batches).where(product_batches.c.id == batch_id)), ProductBatchRow
        )

    def product_batch_by_lot(self, gtin: str, lot: str) -> ProductBatchRow | None:
        query = select(product_batches).where(product_batches.c.gtin == gtin, product_batches.c.lot == lot)
        return _record(self.conn.execute(query), ProductBatchRow)

    def reserve_identities(self, batch_id: int, count: int, cap: int) -> int | None:
        """Raise issued_count by count if it stays <= cap (row locked); returns the old count, or None."""
        statement = (
            update(product_batches)
            .where(product_batches.c.id == batch_id, product_batches.c.issued_count + count <= cap)
            .values(issued_count=product_batches.c.issued_count + count)
            .returning(product_batches.c.issued_count)
        )
        new_count = self.conn.execute(statement).scalar()
        return None if new_count is None else new_count - count

    def add_products(self, rows: Sequence[Row]) -> None:
        if rows:
            self.conn.execute(insert(products), list(rows))

    def product(self, gtin: str, serial: str) -> ProductRow | None:
        return _record(
            self.conn.execute(select(products).where(products.c.gtin == gtin, products.c.serial == serial)), ProductRow
        )

    def products_by_digital_links(self, links: Sequence[str]) -> list[ProductRow]:
        return _records(self.conn.execute(select(products).where(products.c.digital_link.in_(list(links)))), ProductRow)

    def counter_readings(
        self, enterprise_id: int, device_types: Collection[str], key: str, from_ms: int, to_ms: int
    ) -> list[CounterReadingRow]:
        """Readings of `key` on the enterprise's devices of `device_types` in [from_ms, to_ms], per device in time order."""
        query = (
            select(readings.c.device_id, readings.c.ts_ms, readings.c.num)
            .join(devices, devices.c.id == readings.c.device_id)
            .where(
                devices.c.enterprise_id == enterprise_id,
                devices.c.device_type.in_(sorted(device_types)),
                readings.c.key == key,
                readings.c.ts_ms >= from_ms,
                readings.c.ts_ms <= to_ms,
            )
            .order_by(readings.c.device_id, readings.c.ts_ms)
        )
        return _records(self.conn.execute(query), CounterReadingRow)

    def add_scan(self, **values: Any) -> None:
        self.conn.execute(insert(product_scans).values(**values))

    def scans(self, product_id: int, since_ms: int = 0) -> list[ProductScanRow]:
        query = (
            select(product_scans)
            .where(product_scans.c.product_id == product_id, product_scans.c.scanned_ms >= since_ms)
            .order_by(product_scans.c.scanned_ms)
        )
        return _records(self.conn.execute(query), ProductScanRow)

    # ---- EPCIS ----------------------------------------------------------------------------------

    def epcis_event_ids(self, hash_ids: Sequence[str]) -> dict[str, int]:
        query = select(epcis_events.c.hash_id, epcis_events.c.id).where(epcis_events.c.hash_id.in_(list(hash_ids)))
        return {r[0]: r[1] for r in self.conn.execute(query)}

    def add_epcis_event(self, **values: Any) -> int:
        return self._add(epcis_events, **values)

    def add_epcis_epcs(self, rows: Sequence[Row]) -> None:
        self._insert_ignoring_duplicates(epcis_event_epcs, rows)

    def query_epcis_events(
        self, filters: dict[str, Any], enterprise_ids: Sequence[int] | None, after_id: int, limit: int
    ) -> list[EpcisEventRow]:
        """Events matching EPCIS SimpleEventQuery filters (already normalised), by id order, after a cursor."""
        query = select(epcis_events).where(epcis_events.c.id > after_id).order_by(epcis_events.c.id).limit(limit)
        if enterprise_ids is not None:
            query = query.where(epcis_events.c.enterprise_id.in_(list(enterprise_ids)))
        columns = {
            "eventType": epcis_events.c.event_type,
            "EQ_bizStep": epcis_events.c.biz_step,
            "EQ_disposition": epcis_events.c.disposition,
            "EQ_readPoint": epcis_events.c.read_point,
            "EQ_bizLocation": epcis_events.c.biz_location,
        }
        for name, column in columns.items():
            if filters.get(name):
                query = query.where(column.in_(filters[name]))
        if filters.get("GE_eventTime") is not None:
            query = query.where(epcis_events.c.event_time_ms >= filters["GE_eventTime"])
        if filters.get("LT_eventTime") is not None:
            query = query.where(epcis_events.c.event_time_ms < filters["LT_eventTime"])
        for name, roles in (("MATCH_epc", ("epc",)), ("MATCH_anyEPC", ("epc", "parent", "input", "output"))):
            if filters.get(name):
                query = query.where(epcis_events.c.id.in_(self._events_naming(filters[name], roles)))
        return _records(self.conn.execute(query), EpcisEventRow)

    def events_naming_epc(self, epc: str) -> list[EpcisEventRow]:
        """Events that name this canonical EPC in any role, by event time."""
        query = (
            select(epcis_events)
            .where(epcis_events.c.id.in_(self._events_naming([(epc, False)], ("epc", "parent", "input", "output"))))
            .order_by(epcis_events.c.event_time_ms, epcis_events.c.id)
        )
        return _records(self.conn.execute(query), EpcisEventRow)

    @staticmethod
    def _events_naming(patterns: Sequence[tuple[str, bool]], roles: Sequence[str]):
        """Subquery of event ids naming any (value, is_prefix) pattern in one of the roles."""
        conditions = [
            epcis_event_epcs.c.epc.startswith(v, autoescape=True) if prefix else epcis_event_epcs.c.epc == v
            for v, prefix in patterns
        ]
        return select(epcis_event_epcs.c.event_id).where(epcis_event_epcs.c.role.in_(list(roles)), or_(*conditions))

    def _dialect_insert(self, table):
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)
