"""`wuxin business kinds`: the business-data kinds the import takes, every firm's and those the packs add."""

from __future__ import annotations

from typer.testing import CliRunner

from wuxin.cli.main import app
from wuxin.scenarios import scenario_packs


def test_business_kinds_lists_the_platform_and_the_packs_kinds():
    result = CliRunner().invoke(app, ["business", "kinds"])
    assert result.exit_code == 0, result.output
    listed = result.output.split()
    declared = [
        k["kind"] for pack in scenario_packs().values() for k in pack.document("business.json", {}).get("kinds", [])
    ]
    assert declared and set(declared) <= set(listed)
    assert "statements" in listed and "loan_outcomes" in listed


def test_business_import_help_points_to_the_list():
    result = CliRunner().invoke(app, ["business", "import", "--help"])
    assert "wuxin business kinds" in result.output
