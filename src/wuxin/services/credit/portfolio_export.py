"""The workbench table as CSV and XLSX: the rows the officer's search, filters and sort select, headers and codes in the
reader's language (zh-CN or en), every text cell a spreadsheet would read as a formula defused with a leading
apostrophe (= + - @, tab, carriage return: OWASP CSV injection). A missing figure is an empty cell, never 0."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from wuxin.labels import label
from wuxin.risk.portfolio import COLUMNS, EXPORT_ONLY
from wuxin.services.access.access_log import safe_cell

# The page's columns in its order, each export-only detail after the column it belongs to.
EXPORT_COLUMNS = (
    "watched",
    "name",
    "region",
    "industry",
    "outcome",
    "grade",
    "previous_grade",
    "score",
    "score_change",
    "decided_day",
    "exposure_cny",
    "limit_cny",
    "limit_use_ratio",
    "activity_trend_ratio",
    "alarms_critical",
    "alarms_major",
    "alarms_minor",
    "alarms_warning",
    "alarms_open",
    "evidence_coverage_ratio",
    "online_share_ratio",
    "devices_online",
    "devices",
    "pledge_coverage_ratio",
    "pledged_value_cny",
)
assert sorted(EXPORT_COLUMNS) == sorted(COLUMNS + EXPORT_ONLY)
MONEY = ("exposure_cny", "limit_cny", "pledged_value_cny")
RATIOS = (
    "limit_use_ratio",
    "activity_trend_ratio",
    "evidence_coverage_ratio",
    "online_share_ratio",
    "pledge_coverage_ratio",
)


def label_lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def headers(lang: str) -> list[str]:
    return [label("portfolio_column", c, label_lang(lang)) for c in EXPORT_COLUMNS]


def cells(row: dict, lang: str) -> list:
    """The row's values in EXPORT_COLUMNS order: numbers as numbers (money as Decimal), codes as labels, None kept."""
    lang = label_lang(lang)
    decision = row["decision"] or {}
    alarms = row["alarms_open"]
    values = {
        "watched": label("flag", "yes" if row["watched"] else "no", lang),
        "name": row["name"],
        "region": row["region"],
        "industry": label("scenario", row["industry"], lang),
        "outcome": label("outcome", decision["outcome"], lang) if decision else None,
        "grade": decision.get("grade"),
        "previous_grade": decision.get("previous_grade"),
        "score": decision.get("score"),
        "score_change": decision.get("score_change"),
        "decided_day": decision.get("as_of"),
        "activity_trend_ratio": row["activity"]["trend_ratio"],
        "alarms_critical": alarms["critical"],
        "alarms_major": alarms["major"],
        "alarms_minor": alarms["minor"],
        "alarms_warning": alarms["warning"],
        "alarms_open": alarms["total"],
        "devices_online": row["devices_online"],
        "devices": row["devices"],
    }
    values |= {k: None if row[k] is None else Decimal(row[k]) for k in MONEY}
    values |= {k: row[k] for k in RATIOS if k != "activity_trend_ratio"}
    return [values[c] for c in EXPORT_COLUMNS]


def to_csv(rows: list[dict], lang: str) -> str:
    """RFC 4180 CSV after a UTF-8 byte-order mark (spreadsheets then read the Chinese right)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in headers(lang)])
    for row in rows:
        writer.writerow([safe_cell(v) for v in cells(row, lang)])
    return out.getvalue()


def to_xlsx(rows: list[dict], lang: str) -> bytes:
    """One sheet, a header row, numbers as numbers (money to the cent, ratios as percentages)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "borrowers" if label_lang(lang) == "en" else "借款企业"
    sheet.append([safe_cell(h) for h in headers(lang)])
    for row in rows:
        sheet.append([_xlsx_cell(v) for v in cells(row, lang)])
    _formats(sheet, len(rows))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(value):
    """Text defused like the CSV's (control characters XLSX cannot hold dropped); money as a number of yuan; None as
    an empty cell."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", safe_cell(value))
    return float(value) if isinstance(value, Decimal) else value


def _formats(sheet, n_rows: int) -> None:
    for index, column in enumerate(EXPORT_COLUMNS, start=1):
        fmt = "#,##0.00" if column in MONEY else "0.0%" if column in RATIOS else None
        if fmt:
            for (cell,) in sheet.iter_rows(min_row=2, max_row=n_rows + 1, min_col=index, max_col=index):
                cell.number_format = fmt
