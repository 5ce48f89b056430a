"""The benchmark measures what it says: every side registers the same number of resources, and the checks judge."""

from __future__ import annotations

import json

import yaml

from tools import bench


def test_the_baseline_and_the_replay_register_as_many_resources_as_our_program(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(bench.synthetic(2, 3, 2)))
    ours = bench.measure("ours", str(path), 1)
    shapes = json.loads((tmp_path / "small.yaml.shapes.json").read_text())
    base = bench.measure("baseline", str(path), ours["resources"])
    replay = bench.measure("replay", f"{path}.shapes.json")
    assert ours["resources"] == len(shapes) == base["resources"] == replay["resources"] > 50
    # The replay is ours in type and payload, not just in number.
    assert {t for t, _, _ in shapes} >= {"kubernetes:kafka.strimzi.io/v1:Kafka", "kubernetes:core/v1:Secret"}
    assert all(seconds > 0 for seconds in (ours["seconds"], base["seconds"], replay["seconds"]))


def test_growth_is_linear_when_the_last_step_costs_no_more_than_twice_the_first_per_unit():
    assert bench.linear([(10, 1.0), (200, 2.0), (2000, 11.0)])  # 5.3 ms then 5.0 ms a unit
    assert not bench.linear([(10, 1.0), (200, 2.0), (2000, 30.0)])  # 5.3 ms then 15.6 ms a unit


def test_the_slope_is_the_least_squares_cost_per_unit():
    assert abs(bench.slope([(2, 1.0), (4, 2.0), (8, 4.0)]) - 0.5) < 1e-9
    assert bench.slope([(5, 1.0)]) == 0.0
