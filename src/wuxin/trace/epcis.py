"""GS1 EPCIS 2.0 documents: schema validation, events in order, and CBV 2.0 event hash IDs.

The event hash follows the GS1 CBV 2.0 "EPCIS event hash ID" algorithm as implemented by the
reference generator (RalphTro/epcis-event-hash-generator): a pre-hash string of `name=value`
tokens in a fixed field order, no separators, then `ni:///sha-256;<hex>?ver=CBV2.0`.

    eventType=ObjectEvent eventTime=<UTC, ms, Z> eventTimeZoneOffset=... epcList epc=... (sorted)
    ... action bizStep disposition persistentDisposition readPoint bizLocation bizTransactionList
    sourceList destinationList sensorElement... ilmd | extensions nested in readPoint, bizLocation,
    sensorElement (prefixed by their parent names) | the event's own user extensions (sorted)

Values are normalised: EPC URNs and Digital Link URIs to canonical https://id.gs1.org/...,
CBV bare words to https://ref.gs1.org/cbv/..., measurement and alert types to
https://ref.gs1.org/voc/..., numbers without trailing zeros, extension names as {namespace}local.
Excluded: recordTime, eventID, errorDeclaration, certificationInfo, comments, and the fields a
document lists under a `*:ignoreFields` key.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft7Validator, FormatChecker

from wuxin.errors import InvalidInput
from wuxin.trace.gs1 import canonical_digital_link

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
HASH_ID_FORMAT = "ni:///sha-256;{hex}?ver=CBV2.0"
_CBV = "https://ref.gs1.org/cbv/"
_GS1_VOC = "https://ref.gs1.org/voc/"
_WELL_KNOWN_NAMESPACES = {
    "gs1": _GS1_VOC,
    "cbv": _CBV,
    "epcis": "https://ref.gs1.org/epcis/",
    "cbvmda": "urn:epcglobal:cbv:mda",
}
_EXCLUDED_EVENT_FIELDS = {
    "type",
    "eventID",
    "recordTime",
    "errorDeclaration",
    "certificationInfo",
    "rdfs:comment",
    "comment",
    "@context",
}
_OLD_CBV_URNS = (
    ("urn:epcglobal:cbv:bizstep:", _CBV + "BizStep-"),
    ("urn:epcglobal:cbv:disp:", _CBV + "Disp-"),
    ("urn:epcglobal:cbv:btt:", _CBV + "BTT-"),
    ("urn:epcglobal:cbv:sdt:", _CBV + "SDT-"),
    ("urn:epcglobal:cbv:er:", _CBV + "ER-"),
)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]*")


class EpcisError(InvalidInput):
    """An EPCIS document or event cannot be read, validated or hashed."""

    code = "invalid_epcis"


class EpcisValidationError(EpcisError):
    """An EPCIS document breaks the GS1 EPCIS 2.0 JSON Schema; `errors` lists every violation."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"EPCIS document is not valid: {len(errors)} error(s); first: {errors[0]}")
        self.errors = errors


# ---- validation ----------------------------------------------------------------------------------


@cache
def _schema_validator() -> Draft7Validator:
    schema = json.loads(files("wuxin.trace.schema").joinpath("EPCIS-JSON-Schema.json").read_text("utf-8"))
    return Draft7Validator(schema, format_checker=_format_checker())


def _format_checker() -> FormatChecker:
    """Draft 7 formats, plus date-time and uri (jsonschema checks those only with optional extras)."""
    checker = FormatChecker(formats=Draft7Validator.FORMAT_CHECKER.checkers)
    checker.checks("date-time")(_is_rfc3339_timestamp)
    checker.checks("uri")(lambda value: not isinstance(value, str) or bool(_URI.fullmatch(value)))
    return checker


def _is_rfc3339_timestamp(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def validation_errors(document: Any) -> list[str]:
    """Every JSON Schema violation of an EPCIS document, as 'path: message' lines (empty when valid)."""
    errors = sorted(_schema_validator().iter_errors(document), key=lambda error: list(map(str, error.absolute_path)))
    return [f"{_json_path(error.absolute_path)}: {error.message}" for error in errors]


def validate_document(document: Any) -> list[dict[str, Any]]:
    """Validate against the GS1 EPCIS 2.0 JSON Schema; returns the events, raises EpcisValidationError."""
    errors = validation_errors(document)
    if errors:
        raise EpcisValidationError(errors)
    return events_of(document)


def problem_details(errors: list[str], instance: str | None = None) -> dict[str, Any]:
    """The EPCIS 2.0 REST error body (RFC 7807 application/problem+json) for an invalid document."""
    body: dict[str, Any] = {
        "type": "epcisException:ValidationException",
        "title": "EPCIS document failed validation",
        "status": 400,
        "detail": "; ".join(errors),
    }
    if instance is not None:
        body["instance"] = instance
    return body


def _json_path(path: Iterable[Any]) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


# ---- reading documents ---------------------------------------------------------------------------


def events_of(document: Any) -> list[dict[str, Any]]:
    """The events of an EPCISDocument or EPCISQueryDocument (or a bare event), in document order."""
    if not isinstance(document, dict):
        raise EpcisError(f"EPCIS document must be a JSON object, got {type(document).__name__}")
    if document.get("type") in EVENT_TYPES:
        return [document]
    body = document.get("epcisBody")
    if not isinstance(body, dict):
        raise EpcisError(f"EPCIS document of type {document.get('type')!r} has no epcisBody object")
    if "queryResults" in body:
        body = body["queryResults"].get("resultsBody", {}) if isinstance(body["queryResults"], dict) else {}
    events = body.get("eventList", [body["event"]] if "event" in body else None)
    if not isinstance(events, list):
        raise EpcisError("EPCIS document has no epcisBody.eventList (or queryResults.resultsBody.eventList)")
    return events


def load_document(text: str | bytes) -> Any:
    """Parse EPCIS JSON / JSON-LD text; raises EpcisError when it is not JSON."""
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise EpcisError(f"EPCIS document is not valid JSON: {error}") from None


# ---- hashing: context --------------------------------------------------------------------------


@dataclass(frozen=True)
class HashContext:
    """What an event's hash needs from its document: namespace prefixes and fields to ignore."""

    namespaces: dict[str, str] = field(default_factory=lambda: dict(_WELL_KNOWN_NAMESPACES))
    ignored_fields: frozenset[str] = frozenset()


def hash_context(document: Any) -> HashContext:
    """The namespaces declared in a document's @context and its `*:ignoreFields` list."""
    if not isinstance(document, dict):
        return HashContext()
    namespaces = dict(_WELL_KNOWN_NAMESPACES)
    contexts = document.get("@context", [])
    for entry in contexts if isinstance(contexts, list) else [contexts]:
        if isinstance(entry, dict):
            namespaces.update({prefix: uri for prefix, uri in entry.items() if isinstance(uri, str)})
    namespaces["gs1"] = _GS1_VOC  # EPCIS 2.0 web vocabulary, whatever a document maps gs1 to
    return HashContext(namespaces, frozenset(_ignored_fields(document)))


def _ignored_fields(document: dict[str, Any]) -> list[str]:
    """Names listed under a `prefix:ignoreFields` key of the document, its body or its query results."""
    body = document.get("epcisBody")
    body = body if isinstance(body, dict) else {}
    results = body.get("queryResults")
    results = results if isinstance(results, dict) else {}
    return [
        name
        for holder in (document, body, results)
        for key, names in holder.items()
        if key.split(":")[-1] == "ignoreFields" and isinstance(names, list)
        for name in names
        if isinstance(name, str)
    ]


def event_hash_ids(document: Any) -> list[str]:
    """The CBV 2.0 event hash ID of every event of a document, in document order."""
    context = hash_context(document)
    return [event_hash_id(event, context) for event in events_of(document)]


def event_hash_id(event: dict[str, Any], context: HashContext | None = None) -> str:
    """ni:///sha-256;<hex>?ver=CBV2.0 for one event (context: from hash_context(document))."""
    digest = hashlib.sha256(prehash_string(event, context).encode("utf-8")).hexdigest()
    return HASH_ID_FORMAT.format(hex=digest)


def prehash_string(event: dict[str, Any], context: HashContext | None = None) -> str:
    """The canonical CBV 2.0 pre-hash string of one event."""
    if not isinstance(event, dict) or event.get("type") not in EVENT_TYPES:
        raise EpcisError(
            f"event type {event.get('type') if isinstance(event, dict) else event!r} "
            f"is not one of {', '.join(EVENT_TYPES)}"
        )
    writer = _PrehashWriter(context or HashContext())
    return writer.event(event)


# ---- hashing: vocabularies ------------------------------------------------------------------------


@cache
def _vocabularies() -> dict[str, dict[str, str]]:
    """Bare CBV / GS1 words -> full URIs, per field, read from the EPCIS 2.0 JSON-LD context."""
    context = json.loads(files("wuxin.trace.schema").joinpath("epcis-context-2.0.0.jsonld").read_text("utf-8"))
    root = context["@context"]
    sensor_report = root["sensorElementList"]["@context"]["sensorReport"]["@context"]
    persistent = root["persistentDisposition"]["@context"]
    terms = {
        "bizStep": root["bizStep"]["@context"],
        "disposition": root["disposition"]["@context"],
        "persistentDisposition": persistent[0] if isinstance(persistent, list) else persistent,
        "bizTransactionType": root["bizTransactionList"]["@context"]["type"]["@context"],
        "sourceDestinationType": root["sourceList"]["@context"]["type"]["@context"],
        "measurementType": sensor_report["type"]["@context"],
        "exception": sensor_report["exception"]["@context"],
        "component": sensor_report["component"]["@context"],
    }
    return {
        name: {word: _expand_curie(curie) for word, curie in words.items() if isinstance(curie, str)}
        for name, words in terms.items()
    }


def _expand_curie(curie: str) -> str:
    prefix, _, local = curie.partition(":")
    return {"cbv": _CBV, "gs1": _GS1_VOC}.get(prefix, prefix + ":") + local


# ---- hashing: the pre-hash writer ---------------------------------------------------------------

_EPC_LISTS = ("epcList", "inputEPCList", "childEPCs", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_QUANTITY_FIELDS = ("epcClass", "quantity", "uom")
_METADATA_FIELDS = (
    "time",
    "startTime",
    "endTime",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "bizRules",
)
_REPORT_FIELDS = (
    "type",
    "exception",
    "deviceID",
    "deviceMetadata",
    "rawData",
    "dataProcessingMethod",
    "time",
    "microorganism",
    "chemicalSubstance",
    "value",
    "component",
    "stringValue",
    "booleanValue",
    "hexBinaryValue",
    "uriValue",
    "minValue",
    "maxValue",
    "meanValue",
    "sDev",
    "percRank",
    "percValue",
    "uom",
    "coordinateReferenceSystem",
)
_REPORT_VOCABULARIES = {"type": "measurementType", "exception": "exception", "component": "component"}
_LOCATION_FIELDS = ("readPoint", "bizLocation")
_PARTY_LISTS = (
    ("bizTransactionList", "bizTransaction", "bizTransactionType"),
    ("sourceList", "source", "sourceDestinationType"),
    ("destinationList", "destination", "sourceDestinationType"),
)


class _PrehashWriter:
    """Builds the pre-hash string of one event; every method returns a string fragment."""

    def __init__(self, context: HashContext) -> None:
        self.namespaces = context.namespaces
        self.ignored = context.ignored_fields

    def event(self, event: dict[str, Any]) -> str:
        parts = ["eventType=" + event["type"]]
        fields: list[tuple[str, Callable[[Any], str]]] = [
            ("eventTime", lambda v: self.scalar("eventTime", v)),
            ("eventTimeZoneOffset", lambda v: self.scalar("eventTimeZoneOffset", v)),
            ("epcList", lambda v: self.epc_list("epcList", v)),
            ("parentID", lambda v: self.scalar("parentID", v)),
            ("inputEPCList", lambda v: self.epc_list("inputEPCList", v)),
            ("childEPCs", lambda v: self.epc_list("childEPCs", v)),
            ("quantityList", lambda v: self.quantity_list("quantityList", v)),
            ("childQuantityList", lambda v: self.quantity_list("childQuantityList", v)),
            ("inputQuantityList", lambda v: self.quantity_list("inputQuantityList", v)),
            ("outputEPCList", lambda v: self.epc_list("outputEPCList", v)),
            ("outputQuantityList", lambda v: self.quantity_list("outputQuantityList", v)),
            ("action", lambda v: self.scalar("action", v)),
            ("transformationID", lambda v: self.scalar("transformationID", v)),
            ("bizStep", lambda v: self.scalar("bizStep", v, "bizStep")),
            ("disposition", lambda v: self.scalar("disposition", v, "disposition")),
            ("persistentDisposition", self.persistent_disposition),
            ("readPoint", lambda v: self.location("readPoint", v)),
            ("bizLocation", lambda v: self.location("bizLocation", v)),
            *[
                (name, lambda v, n=name, i=item, t=types: self.party_list(n, i, t, v))
                for name, item, types in _PARTY_LISTS
            ],
            ("sensorElementList", self.sensor_elements),
            ("ilmd", lambda v: "ilmd" + self.extensions(v) if isinstance(v, dict) else ""),
        ]
        parts += [write(event[name]) for name, write in fields if name in event and name not in self.ignored]
        parts += [self.nested_extensions(event)]
        own = {
            key: value
            for key, value in event.items()
            if key not in _EXCLUDED_EVENT_FIELDS and key not in dict(fields) and key not in self.ignored
        }
        parts.append(self.extensions(own))
        return "".join(parts)

    # -- standard fields

    def scalar(self, name: str, value: Any, vocabulary: str | None = None) -> str:
        text = self.value_text(value, vocabulary)
        if "time" in name.lower() and "offset" not in name.lower():
            text = utc_millisecond_timestamp(text)
        return f"{name}={text}" if text else ""

    def epc_list(self, name: str, epcs: Any) -> str:
        items = sorted(self.scalar("epc", epc) for epc in _as_list(epcs))
        return name + "".join(items) if "".join(items) else ""

    def quantity_list(self, name: str, elements: Any) -> str:
        items = sorted(
            filter(
                None, (self.quantity_element(element) for element in _as_list(elements) if isinstance(element, dict))
            )
        )
        return name + "".join(items) if items else ""

    def quantity_element(self, element: dict[str, Any]) -> str:
        text = self.ordered(element, _QUANTITY_FIELDS) + self.extensions(_rest(element, _QUANTITY_FIELDS))
        return "quantityElement" + text if text else ""

    def persistent_disposition(self, value: Any) -> str:
        if not isinstance(value, dict):
            return ""
        text = "".join(
            "".join(sorted(self.scalar(key, item, "persistentDisposition") for item in _as_list(value.get(key))))
            for key in ("set", "unset")
        )
        return "persistentDisposition" + text if text else ""

    def location(self, name: str, value: Any) -> str:
        if isinstance(value, dict):
            value = value.get("id")
        text = self.scalar("id", value) if value is not None else ""
        return name + text if text else ""

    def party_list(self, name: str, item: str, vocabulary: str, entries: Any) -> str:
        texts = sorted(
            self.scalar("type", entry.get("type"), vocabulary) * ("type" in entry)
            + self.scalar(item, entry.get(item))
            + self.extensions(_rest(entry, ("type", item)))
            for entry in _as_list(entries)
            if isinstance(entry, dict)
        )
        return name + "".join(texts) if "".join(texts) else ""

    def sensor_elements(self, elements: Any) -> str:
        return "".join(
            sorted(
                filter(
                    None, (self.sensor_element(element) for element in _as_list(elements) if isinstance(element, dict))
                )
            )
        )

    def sensor_element(self, element: dict[str, Any]) -> str:
        metadata = element.get("sensorMetadata")
        text = "sensorMetadata" + self.ordered(metadata, _METADATA_FIELDS) if isinstance(metadata, dict) else ""
        text = text if text != "sensorMetadata" else ""
        reports = sorted(
            "sensorReport" + self.ordered(report, _REPORT_FIELDS, _REPORT_VOCABULARIES)
            for report in _as_list(element.get("sensorReport"))
            if isinstance(report, dict)
        )
        text += "".join(report for report in reports if report != "sensorReport")
        return "sensorElement" + text if text else ""

    def ordered(self, obj: dict[str, Any], order: tuple[str, ...], vocabularies: dict[str, str] | None = None) -> str:
        vocabularies = vocabularies or {}
        return "".join(self.scalar(name, obj[name], vocabularies.get(name)) for name in order if name in obj)

    # -- user extensions

    def nested_extensions(self, event: dict[str, Any]) -> str:
        """Extensions inside readPoint, bizLocation and sensor elements, prefixed by their parents."""
        parts = [
            name + self.extensions(_rest(event[name], ("id",)))
            for name in _LOCATION_FIELDS
            if isinstance(event.get(name), dict) and _rest(event[name], ("id",))
        ]
        elements = [
            self.sensor_element_extensions(element)
            for element in _as_list(event.get("sensorElementList"))
            if isinstance(element, dict)
        ]
        return "".join(parts) + "".join(sorted(filter(None, elements)))

    def sensor_element_extensions(self, element: dict[str, Any]) -> str:
        metadata = _rest(element.get("sensorMetadata") or {}, _METADATA_FIELDS)
        text = "sensorMetadata" + self.extensions(metadata) if metadata else ""
        reports = [
            _rest(report, _REPORT_FIELDS)
            for report in _as_list(element.get("sensorReport"))
            if isinstance(report, dict)
        ]
        text += "".join(sorted("sensorReport" + self.extensions(report) for report in reports if report))
        text += self.extensions(_rest(element, ("sensorMetadata", "sensorReport")))
        return "sensorElement" + text if text else ""

    def extensions(self, members: dict[str, Any]) -> str:
        """User extension members as sorted {namespace}local=value tokens, nested objects inline."""
        return "".join(sorted(token for key, value in members.items() for token in self.extension(key, value)))

    def extension(self, key: str, value: Any) -> list[str]:
        name = self.qualified_name(key)
        if isinstance(value, list):
            return [token for item in value for token in self.extension(key, item)]
        if isinstance(value, dict):
            return [name + self.extensions(value)]
        text = self.value_text(value)
        return [f"{name}={text}" if text else name]

    def qualified_name(self, key: str) -> str:
        prefix, colon, local = key.partition(":")
        if colon and prefix in self.namespaces:
            return "{" + self.namespaces[prefix] + "}" + local
        return key

    # -- values

    def value_text(self, value: Any, vocabulary: str | None = None) -> str:
        """A JSON value as canonical pre-hash text."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value).strip()
        if vocabulary is not None and text in _vocabularies()[vocabulary]:
            return _vocabularies()[vocabulary][text]
        return canonical_value(self.expand_value_curie(text))

    def expand_value_curie(self, text: str) -> str:
        prefix, colon, local = text.partition(":")
        namespace = self.namespaces.get(prefix, "") if colon else ""
        if namespace.startswith(("https://ref.gs1.org", "https://gs1.org")):
            return namespace + local
        return text


def canonical_value(text: str) -> str:
    """Old CBV URNs -> web vocabulary, numbers without trailing zeros, GS1 identifiers -> canonical DL."""
    for urn, web in _OLD_CBV_URNS:
        text = text.replace(urn, web)
    if _NUMBER.fullmatch(text):
        text = _canonical_number(text)
    return canonical_digital_link(text) or text


def _canonical_number(text: str) -> str:
    number = float(text)
    try:
        return str(int(number)) if number == int(number) else str(number)
    except OverflowError:
        return text


def utc_millisecond_timestamp(text: str) -> str:
    """An ISO 8601 timestamp in UTC at millisecond precision (half-up) with 'Z'; other text unchanged."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # EPCIS requires an offset; treat a bare time as UTC
    moment = moment.astimezone(UTC)
    rounded_ms = (moment.microsecond + 500) // 1000
    moment = moment.replace(microsecond=0) + timedelta(milliseconds=rounded_ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _rest(obj: Any, standard: tuple[str, ...]) -> dict[str, Any]:
    """The members of obj that are not standard fields (its user extensions)."""
    if not isinstance(obj, dict):
        return {}
    return {key: value for key, value in obj.items() if key not in standard}


# ---- storing and querying captured events -----------------------------------------------------------

_EPC_ROLES = (("epcList", "epc"), ("childEPCs", "epc"), ("inputEPCList", "input"), ("outputEPCList", "output"))


def normalised_value(value: Any, vocabulary: str | None = None, context: HashContext | None = None) -> str | None:
    """A field value as the event hash writes it (full CBV URIs, canonical Digital Links); None when absent."""
    if value is None:
        return None
    text = _PrehashWriter(context or HashContext()).value_text(value, vocabulary)
    return text or None


def event_time_ms(event: dict[str, Any]) -> int:
    """The event's eventTime as UTC epoch milliseconds."""
    text = utc_millisecond_timestamp(str(event.get("eventTime", "")))
    try:
        return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)
    except ValueError:
        raise EpcisError(f"eventTime {event.get('eventTime')!r} is not an RFC 3339 timestamp") from None


def event_epcs(event: dict[str, Any], context: HashContext | None = None) -> set[tuple[str, str]]:
    """(canonical EPC, role) pairs an event names: role epc (epcList, childEPCs), parent, input or output."""
    pairs = {
        (normalised_value(epc, None, context), role) for name, role in _EPC_ROLES for epc in _as_list(event.get(name))
    }
    if event.get("parentID"):
        pairs.add((normalised_value(event["parentID"], None, context), "parent"))
    return {(epc, role) for epc, role in pairs if epc}


def location_id(value: Any, context: HashContext | None = None) -> str | None:
    """readPoint / bizLocation id, canonical."""
    return normalised_value(value.get("id") if isinstance(value, dict) else value, None, context)


def epc_pattern(value: str) -> tuple[str, bool]:
    """A MATCH_epc / MATCH_anyEPC value as (canonical value, is_prefix); an idpat with '*' serial is a prefix."""
    if value.startswith("urn:epc:idpat:") and value.endswith(".*"):
        class_link = canonical_digital_link(value)
        if class_link is not None:
            return class_link + "/21/", True
    return normalised_value(value) or value, False
