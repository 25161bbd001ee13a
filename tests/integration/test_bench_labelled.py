"""`wuxin bench alerts --data DIR`: a small labelled data set replayed through a real (SQLite) platform and scored;
broken data sets refused with errors naming the file and the place."""

from __future__ import annotations

import random

import orjson
import pytest
from rich.console import Console

from wuxin.bench.labelled import load_data_set, measure_labelled
from wuxin.errors import InvalidInput

DAY, MIN, CN = 86_400_000, 60_000, 8 * 3_600_000
FIRST = 1_780_000_000_000 // DAY * DAY - CN  # a local (China) midnight


def write_set(folder, idle=(10, 11)):
    devices = {
        "enterprises": [
            {"id": "E1", "name": "常州精工机械有限公司", "industry": "manufacturing", "region": "江苏省常州市"}
        ],
        "devices": [
            {
                "key": f"lathe-{k}",
                "enterprise": "E1",
                "device_type": "manufacturing.current_bracelet",
                "attributes": {"rated_current_a": 60, "run_threshold_a": 10},
            }
            for k in range(3)
        ],
    }
    lines = []
    for k in range(3):
        rng = random.Random(k)
        for t in range(FIRST, FIRST + 13 * DAY, 15 * MIN):
            day, minute = (t - FIRST) // DAY, (t - FIRST) % DAY // MIN
            on = not (k == 0 and day in idle) and 480 <= minute < 1200 and rng.random() > 0.05
            lines.append(
                {
                    "device": f"lathe-{k}",
                    "ts": t,
                    "values": {"current_a": round(30 + rng.gauss(0, 2), 1) if on else 1.5},
                }
            )
    labels = {
        "labels": [
            {
                "id": "idle-1",
                "alarm_types": ["machine_idle"],
                "enterprise": "E1",
                "devices": ["lathe-0"],
                "start": FIRST + idle[0] * DAY,
                "end": FIRST + (idle[-1] + 1) * DAY,
                "source": "test",
            },
            {
                "id": "standby",
                "alarm_types": ["machine_idle"],
                "enterprise": "E1",
                "devices": ["lathe-2"],
                "start": FIRST + 12 * DAY,
                "end": FIRST + 13 * DAY,
                "benign": True,
                "source": "test",
            },
        ]
    }
    (folder / "devices.json").write_bytes(orjson.dumps(devices))
    (folder / "telemetry.jsonl").write_bytes(b"\n".join(orjson.dumps(l) for l in lines))
    (folder / "labels.json").write_bytes(orjson.dumps(labels))


def test_labelled_set_is_replayed_and_scored(tmp_path):
    write_set(tmp_path)
    figures = measure_labelled(tmp_path, Console(file=open("/dev/null", "w")), step_min=240)
    idle = figures["types"]["machine_idle"]
    assert idle["labels"] == 1 and idle["detected"] == 1 and idle["recall"] == 1.0
    assert idle["recall_by_source"] == {"test": "1/1"} and idle["false"] == 0
    assert figures["device_days"] == 39


def test_a_broken_set_is_refused_naming_the_place(tmp_path):
    write_set(tmp_path)
    labels = orjson.loads((tmp_path / "labels.json").read_bytes())
    labels["labels"][0]["enterprise"] = "E9"
    (tmp_path / "labels.json").write_bytes(orjson.dumps(labels))
    with pytest.raises(InvalidInput, match="idle-1.*E9"):
        load_data_set(tmp_path)
    (tmp_path / "telemetry.jsonl").write_bytes(b'{"device": "lathe-0", "ts": "yesterday", "values": {}}\n')
    with pytest.raises(InvalidInput, match="line 1"):
        load_data_set(tmp_path)
    (tmp_path / "devices.json").unlink()
    with pytest.raises(InvalidInput, match="devices.json missing"):
        load_data_set(tmp_path)
