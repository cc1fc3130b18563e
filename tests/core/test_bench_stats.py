"""The statistics the adapter benchmarks report: paired per-round ratios and rotated run order."""

from __future__ import annotations

import pytest

from airs_plugins._bench import paired_ratio, rotated


def test_paired_ratio_is_unmoved_by_drift_between_rounds() -> None:
    # the machine slows down by half through the session; each treated run is 5 % slower than its round's
    baseline = [100.0 + 50 * i / 8 for i in range(9)]
    treated = [b * 1.05 for b in baseline]
    assert paired_ratio(baseline, treated) == {"median": 1.05, "ci95": [1.05, 1.05]}
    # the same treated runs against the baseline of the *next* round: the drift leaks into every ratio
    assert paired_ratio(baseline[1:], treated[:-1])["ci95"][1] < 1.05


def test_paired_ratio_interval_brackets_the_median_and_narrows_with_runs() -> None:
    noisy = [1.00, 1.08, 1.03, 1.06, 1.02, 1.07, 1.04, 1.05, 1.01]
    few = paired_ratio([100.0] * 9, [100.0 * r for r in noisy])
    many = paired_ratio([100.0] * 90, [100.0 * r for r in noisy * 10])
    assert few["ci95"][0] <= few["median"] <= few["ci95"][1]
    assert few["median"] == pytest.approx(1.04)
    assert many["ci95"][1] - many["ci95"][0] < few["ci95"][1] - few["ci95"][0]
    assert paired_ratio([1.0, 2.0], [1.1, 2.2]) == paired_ratio([1.0, 2.0], [1.1, 2.2])  # fixed seed


def test_paired_ratio_rejects_unpaired_runs() -> None:
    with pytest.raises(ValueError, match="equally long"):
        paired_ratio([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="non-empty"):
        paired_ratio([], [])


def test_rotated_starts_each_round_with_the_next_variant() -> None:
    names = ["bare", "passthrough", "guarded"]
    assert [rotated(names, i)[0] for i in range(4)] == ["bare", "passthrough", "guarded", "bare"]
    assert all(sorted(rotated(names, i)) == sorted(names) for i in range(3))
    assert rotated([], 5) == []
