"""Response models of traceability: EPCIS 2.0 capture and query (/epcis), the public verification of a product unit
(/verify), product batches and their SGTIN identities (/api/v1/trace). The EPCIS and verification routes write their
answer themselves (JSON-LD, EPCIS problem documents): there the models document the answer without checking it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EpcisCaptured(BaseModel):
    captured: int = Field(description="Events stored now")
    duplicates: int = Field(description="Events already stored (same CBV 2.0 hash ID), skipped")
    eventHashIds: list[str] = Field(description="The CBV 2.0 hash ID of every event of the document, in order")


class EventList(BaseModel):
    # EPCIS events are open documents: the standard's fields and any extension the capturer sent
    eventList: list[dict[str, Any]] = Field(description="EPCIS 2.0 events as captured, oldest first")


class QueryResults(BaseModel):
    queryName: str = Field(description="Always 'SimpleEventQuery'")
    resultsBody: EventList


class EpcisBody(BaseModel):
    queryResults: QueryResults


class EpcisQueryDocument(BaseModel):
    """An EPCISQueryDocument (EPCIS 2.0 REST binding, JSON-LD)."""

    model_config = ConfigDict(populate_by_name=True)

    context: list[str] = Field(alias="@context", description="The EPCIS 2.0 JSON-LD context")
    type: str = Field(description="Always 'EPCISQueryDocument'")
    schemaVersion: str = Field(description="Always '2.0'")
    creationDate: str = Field(description="ISO 8601 UTC, ms")
    epcisBody: EpcisBody
    nextPageToken: str | None = Field(None, description="Present when more events follow (also in the Link header)")


class ProductFacts(BaseModel):
    gtin: str
    serial: str
    digital_link: str = Field(description="The unit's GS1 Digital Link URI")
    producer: str = Field(description="The producing enterprise's name")
    origin: str
    batch: str = Field(description="The lot")
    production_date: str = Field(description="ISO date the batch's production ended")


class HistoryStep(BaseModel):
    time: str = Field(description="ISO 8601 UTC")
    type: str = Field(description="The EPCIS event type, e.g. ObjectEvent")
    step: str | None = Field(description="The CBV business step, e.g. shipping")
    disposition: str | None = Field(description="The CBV disposition, e.g. in_transit")
    ledger_leaf_index: int = Field(description="The ledger entry that proves the event")
    verified: bool = Field(description="False when the stored event no longer matches its ledger entry")


class Verification(BaseModel):
    verdict: str = Field(description="genuine, unknown or suspicious", examples=["genuine"])
    reasons: list[str] = Field(description="Why unknown or suspicious (empty when genuine)")
    product: ProductFacts | None = Field(None, description="Absent when the unit is unknown")
    history: list[HistoryStep] | None = Field(None, description="Its verified supply-chain steps")
    scans: int | None = Field(None, description="How many times the unit was scanned, this scan included")


class ProductBatch(BaseModel):
    id: int = Field(description="The batch's id")
    enterprise_id: int
    gtin: str
    lot: str
    origin: str
    production_start_ms: int
    production_end_ms: int
    issued_count: int = Field(description="SGTIN identities issued so far")
    measured_output: int = Field(description="Units the enterprise's devices measured in the production window")
    available: int = Field(description="Identities that may still be issued")


class Sgtin(BaseModel):
    gtin: str
    serial: str
    epc: str = Field(description="EPC URI, urn:epc:id:sgtin:...")
    digital_link: str = Field(description="GS1 Digital Link URI")


class IssuedIdentities(BaseModel):
    batch_id: int
    issued: list[Sgtin]
    issued_count: int = Field(description="Identities issued for the batch, these included")
    measured_output: int
    ledger_leaf_index: int = Field(description="The ledger entry recording the issue")
