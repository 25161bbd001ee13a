"""GS1 product identity: check digits, SGTIN EPC URIs, GS1 Digital Link URIs and their conversion.

    >>> sgtin_to_digital_link("urn:epc:id:sgtin:0614141.812345.6789")
    'https://id.gs1.org/01/80614141123458/21/6789'
    >>> digital_link_to_sgtin("https://id.gs1.org/01/80614141123458/21/6789", company_prefix_digits=7)
    'urn:epc:id:sgtin:0614141.812345.6789'

`canonical_digital_link` is the EPCIS/CBV 2.0 hash normaliser: any EPC URN (id, class, idpat)
or Digital Link URI -> the constrained canonical https://id.gs1.org/... form, None otherwise.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from wuxin.errors import InvalidInput

CANONICAL_DL_ORIGIN = "https://id.gs1.org"
_DIGITS = re.compile(r"[0-9]+")
_GS1_CSET82 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
# Characters TDS 2.0 requires to be %-escaped inside an EPC URI (the rest of CSET 82 is literal).
_EPC_URI_ESCAPES = {'"': "%22", "%": "%25", "&": "%26", "/": "%2F", "<": "%3C", ">": "%3E", "?": "%3F"}


class Gs1Error(InvalidInput):
    """A GS1 key, EPC URI or Digital Link URI is malformed."""

    code = "invalid_gs1_identifier"


def gs1_check_digit(digits: str) -> str:
    """The GS1 mod-10 check digit for a string of digits (weights 3,1,3,... from the right)."""
    if not _is_digits(digits):
        raise Gs1Error(f"GS1 check digit needs digits only, got {digits!r}")
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(digits)))
    return str(-total % 10)


def _is_digits(text: str) -> bool:
    """ASCII digits only (str.isdigit also accepts other scripts' digits)."""
    return bool(_DIGITS.fullmatch(text))


def is_valid_gtin(gtin: str) -> bool:
    """True when gtin has 8, 12, 13 or 14 digits and a correct check digit."""
    return len(gtin) in (8, 12, 13, 14) and _is_digits(gtin) and gs1_check_digit(gtin[:-1]) == gtin[-1]


def gtin14(gtin: str) -> str:
    """A valid GTIN-8/12/13/14 zero-padded to 14 digits."""
    if not is_valid_gtin(gtin):
        raise Gs1Error(f"GTIN {gtin!r} is not 8, 12, 13 or 14 digits with a valid check digit")
    return gtin.zfill(14)


def sgtin_to_digital_link(epc_uri: str) -> str:
    """urn:epc:id:sgtin:CompanyPrefix.IndicatorItemRef.Serial -> https://id.gs1.org/01/{GTIN}/21/{serial}."""
    company_prefix, indicator_item_ref, serial = _sgtin_parts(epc_uri)
    gtin = _gtin_from_epc(company_prefix, indicator_item_ref)
    return f"{CANONICAL_DL_ORIGIN}/01/{gtin}/21/{_dl_escape(serial)}"


def digital_link_to_sgtin(dl_uri: str, company_prefix_digits: int) -> str:
    """A Digital Link URI with GTIN + serial -> its SGTIN EPC URI (the prefix length is not in the DL)."""
    if not 6 <= company_prefix_digits <= 12:
        raise Gs1Error(f"GS1 company prefix length must be 6..12 digits, got {company_prefix_digits}")
    canonical = canonical_digital_link(dl_uri)
    match = re.fullmatch(r"https://id\.gs1\.org/01/([0-9]{14})/21/([^/]+)", canonical or "")
    if match is None:
        raise Gs1Error(f"Digital Link URI {dl_uri!r} does not carry a GTIN (01) and serial (21)")
    gtin, serial = match[1], unquote(match[2])
    _check_gtin14(gtin, dl_uri)
    _check_serial(serial, dl_uri)
    item = gtin[0] + gtin[1 + company_prefix_digits : 13]
    return f"urn:epc:id:sgtin:{gtin[1 : 1 + company_prefix_digits]}.{item}.{_epc_escape(serial)}"


def canonical_digital_link(uri: object) -> str | None:
    """EPC URN or GS1 Digital Link URI -> constrained canonical Digital Link URI, else None."""
    if not isinstance(uri, str):
        return None
    if uri.startswith(("urn:epc:id:", "urn:epc:class:", "urn:epc:idpat:")):
        return _canonical_from_epc_urn(uri)
    if uri.startswith(("http://", "https://")):
        return _canonical_from_web_uri(uri)
    return None


# ---- EPC URNs (GS1 Tag Data Standard) -------------------------------------------------------


def _sgtin_parts(epc_uri: str) -> tuple[str, str, str]:
    match = re.fullmatch(r"urn:epc:id:sgtin:([0-9]+)\.([0-9]+)\.(.+)", epc_uri)
    if match is None or len(match[1]) + len(match[2]) != 13 or not 6 <= len(match[1]) <= 12:
        raise Gs1Error(
            f"SGTIN EPC URI {epc_uri!r} is not urn:epc:id:sgtin:CompanyPrefix.IndicatorItemRef.Serial "
            "with 13 digits in prefix + item reference"
        )
    serial = unquote(match[3])
    _check_serial(serial, epc_uri)
    return match[1], match[2], serial


def _gtin_from_epc(company_prefix: str, indicator_item_ref: str) -> str:
    body = indicator_item_ref[:1] + company_prefix + indicator_item_ref[1:]
    return body + gs1_check_digit(body)


def _with_check(digits: str) -> str:
    return digits + gs1_check_digit(digits)


def _dl(*pairs: tuple[str, str]) -> str:
    return CANONICAL_DL_ORIGIN + "".join(f"/{ai}/{value}" for ai, value in pairs)


def _epc_id_to_dl(scheme: str, fields: list[str]) -> str | None:
    """Pure-identity EPC fields (already split on '.') -> canonical DL, None when the shape is wrong."""
    cp, esc = fields[0], [_dl_escape(unquote(field)) for field in fields]
    shapes = {
        ("sgtin", 3): lambda: _dl(("01", _gtin_from_epc(cp, fields[1])), ("21", esc[2])),
        ("sscc", 2): lambda: _dl(("00", _with_check(fields[1][:1] + cp + fields[1][1:]))),
        ("sgln", 3): lambda: _dl(
            ("414", _with_check(cp + fields[1])), *([("254", esc[2])] if fields[2] != "0" else [])
        ),
        ("grai", 3): lambda: _dl(("8003", "0" + _with_check(cp + fields[1]) + esc[2])),
        ("giai", 2): lambda: _dl(("8004", cp + esc[1])),
        ("gsrn", 2): lambda: _dl(("8018", _with_check(cp + fields[1]))),
        ("gsrnp", 2): lambda: _dl(("8017", _with_check(cp + fields[1]))),
        ("gdti", 3): lambda: _dl(("253", _with_check(cp + fields[1]) + esc[2])),
        ("cpi", 3): lambda: _dl(("8010", cp + esc[1]), ("8011", esc[2])),
        ("ginc", 2): lambda: _dl(("401", cp + esc[1])),
        ("gsin", 2): lambda: _dl(("402", _with_check(cp + fields[1]))),
        ("itip", 5): lambda: _dl(("8006", _gtin_from_epc(cp, fields[1]) + fields[2] + fields[3]), ("21", esc[4])),
        ("upui", 3): lambda: _dl(("01", _gtin_from_epc(cp, fields[1])), ("235", esc[2])),
        ("pgln", 2): lambda: _dl(("417", _with_check(cp + fields[1]))),
        ("sgcn", 3): lambda: _dl(("255", _with_check(cp + fields[1]) + fields[2])),
        ("lgtin", 3): lambda: _dl(("01", _gtin_from_epc(cp, fields[1])), ("10", esc[2])),
    }
    build = shapes.get((scheme, len(fields)))
    return build() if build is not None else None


def _canonical_from_epc_urn(uri: str) -> str | None:
    match = re.fullmatch(r"urn:epc:(id|class|idpat):([a-z]+):(.+)", uri)
    if match is None:
        return None
    kind, scheme, fields = match[1], match[2], match[3].split(".")
    if kind == "idpat":
        return _epc_pattern_to_dl(scheme, fields)
    if kind == "class" and scheme != "lgtin" or kind == "id" and scheme == "lgtin":
        return None
    if not _is_digits(fields[0]) or not 6 <= len(fields[0]) <= 12:
        return None
    try:
        return _epc_id_to_dl(scheme, fields)
    except (Gs1Error, IndexError):
        return None


def _epc_pattern_to_dl(scheme: str, fields: list[str]) -> str | None:
    """An EPC pattern whose only wildcard is the serial -> the DL of its class (GTIN, asset type...)."""
    if fields[-1] != "*" or "*" in fields[:-1] or not _is_digits(fields[0]):
        return None
    cp, rest = fields[0], fields[1:-1]
    patterns = {
        ("sgtin", 1): lambda: _dl(("01", _gtin_from_epc(cp, rest[0]))),
        ("upui", 1): lambda: _dl(("01", _gtin_from_epc(cp, rest[0]))),
        ("grai", 1): lambda: _dl(("8003", "0" + _with_check(cp + rest[0]))),
        ("gdti", 1): lambda: _dl(("253", _with_check(cp + rest[0]))),
        ("sgcn", 1): lambda: _dl(("255", _with_check(cp + rest[0]))),
        ("cpi", 1): lambda: _dl(("8010", cp + _dl_escape(unquote(rest[0])))),
        ("itip", 3): lambda: _dl(("8006", _gtin_from_epc(cp, rest[0]) + rest[1] + rest[2])),
    }
    build = patterns.get((scheme, len(rest)))
    try:
        return build() if build is not None else None
    except (Gs1Error, IndexError):
        return None


# ---- GS1 Digital Link URIs -------------------------------------------------------------------

_SHORT_NAMES = {
    "gtin": "01",
    "ser": "21",
    "lot": "10",
    "itip": "8006",
    "party": "417",
    "cpv": "22",
    "sscc": "00",
    "gln": "414",
    "glnx": "254",
    "grai": "8003",
    "giai": "8004",
    "gsrn": "8018",
    "gsrnp": "8017",
    "gdti": "253",
    "cpid": "8010",
    "cpsn": "8011",
    "ginc": "401",
    "gsin": "402",
    "gcn": "255",
    "upui": "235",
}
# primary key AI -> (value pattern, qualifier AIs from coarsest to finest)
_PRIMARY_KEYS = {
    "01": (r"[0-9]{8}|[0-9]{12,14}", ("22", "10", "21", "235")),
    "8006": (r"[0-9]{18}", ("22", "10", "21")),
    "00": (r"[0-9]{18}", ()),
    "414": (r"[0-9]{13}", ("254", "7040")),
    "417": (r"[0-9]{13}", ("7040",)),
    "8003": (r"[0-9]{14}[^/]{0,16}", ()),
    "8004": (r"[^/]{1,30}", ("7040",)),
    "8018": (r"[0-9]{18}", ("8019",)),
    "8017": (r"[0-9]{18}", ("8019",)),
    "253": (r"[0-9]{13}[^/]{0,17}", ()),
    "8010": (r"[^/]{1,30}", ("8011",)),
    "255": (r"[0-9]{13}[0-9]{0,12}", ()),
    "401": (r"[^/]{1,30}", ()),
    "402": (r"[0-9]{17}", ()),
}
# For these keys only the finest qualifier is kept (CBV 2.0 constrained canonical form).
_FINEST_ONLY = {"01": ("21", "10"), "8006": ("21", "10")}


def _canonical_from_web_uri(uri: str) -> str | None:
    segments = [unquote(segment) for segment in urlsplit(uri).path.split("/") if segment]
    for start in range(0, len(segments) - 1):
        key = _SHORT_NAMES.get(segments[start], segments[start])
        if key in _PRIMARY_KEYS:
            return _canonical_key_path(key, segments[start + 1 :])
    return None


def _canonical_key_path(key: str, tail: list[str]) -> str | None:
    value_pattern, qualifier_ais = _PRIMARY_KEYS[key]
    if len(tail) % 2 != 1 or not re.fullmatch(value_pattern, tail[0]):
        return None
    qualifiers: dict[str, str] = {}
    for ai, value in zip(tail[1::2], tail[2::2]):
        ai = _SHORT_NAMES.get(ai, ai)
        if ai not in qualifier_ais or ai in qualifiers:
            return None
        qualifiers[ai] = value
    key_value = tail[0].zfill(14) if key == "01" else tail[0]
    return _dl((key, _dl_escape(key_value)), *_kept_qualifiers(key, qualifiers))


def _kept_qualifiers(key: str, qualifiers: dict[str, str]) -> list[tuple[str, str]]:
    if key in _FINEST_ONLY:
        finest = next((ai for ai in _FINEST_ONLY[key] if ai in qualifiers), None)
        kept = [finest] if finest else []
        kept += [ai for ai in ("235",) if ai in qualifiers and finest is None]
    else:
        kept = [ai for ai in _PRIMARY_KEYS[key][1] if ai in qualifiers]
    return [(ai, _dl_escape(qualifiers[ai])) for ai in kept]


# ---- escaping ----------------------------------------------------------------------------------


def _dl_escape(value: str) -> str:
    """Percent-encode everything but RFC 3986 unreserved characters (GS1 Digital Link path rule)."""
    return quote(value, safe="'")


def _epc_escape(value: str) -> str:
    return "".join(_EPC_URI_ESCAPES.get(char, char) for char in value)


def _check_serial(serial: str, uri: str) -> None:
    if not _GS1_CSET82.fullmatch(serial):
        raise Gs1Error(f"serial {serial!r} in {uri!r} is not 1-20 characters of GS1 AI encodable character set 82")


def _check_gtin14(gtin: str, uri: str) -> None:
    if not is_valid_gtin(gtin):
        raise Gs1Error(f"GTIN {gtin} in {uri!r} has a wrong check digit: want {gs1_check_digit(gtin[:-1])}")
