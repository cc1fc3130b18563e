"""An adapter imported with a framework release outside the range it was tested with says so.

The adapters enforce through framework behaviour (middleware hooks, ``ToolNode``, checkpoints) that a release
outside the tested range may have changed; upgrading the framework on its own installs one without a word."""

from __future__ import annotations

import warnings
from importlib import metadata

import pytest

from airs_plugins import MissingExtraError, UntestedVersionWarning
from airs_plugins._extras import EXTRAS, require, satisfies


@pytest.mark.parametrize(("version", "spec", "ok"), [
    ("1.2.24", ">=1.2,<1.3", True),
    ("1.2", ">=1.2,<1.3", True),
    ("1.3.0", ">=1.2,<1.3", False),
    ("1.1.9", ">=1.2,<1.3", False),
    ("1.3.0rc1", ">=1.2,<1.3", False),
    ("1.2.0.dev3", ">=1.2,<1.3", True),
    ("0.14.25", ">=0.14,<0.15", True),
    ("0.15.0", ">=0.14,<0.15", False),
    ("2.0.0+local", ">=1.25", True),
    ("1.24.9", ">=1.25", False),
    ("1.5.0", "==1.5", True),
    ("1.5.1", "!=1.5.1", False),
    ("3.1.0", ">3.1", False),
    ("3.1.0", "<=3.1", True),
])
def test_versions_are_compared_by_their_release_numbers(version: str, spec: str, ok: bool) -> None:
    assert satisfies(version, spec) is ok


def test_an_installed_release_outside_the_range_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda dist: "1.3.0" if dist == "langgraph" else real(dist))
    with pytest.warns(UntestedVersionWarning, match=r"langgraph 1\.3\.0 \(tested: >=1\.2,<1\.3\)"):
        require("airs_plugins.langgraph", extra="langgraph")


def test_the_tested_releases_import_without_a_word() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        require("airs_plugins.langgraph", extra="langgraph")
        require("airs_plugins.llamaindex", extra="llamaindex")


def test_a_missing_framework_still_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    def version(dist: str) -> str:
        raise metadata.PackageNotFoundError(dist)

    monkeypatch.setattr(metadata, "version", version)
    with pytest.raises(MissingExtraError, match=r"pip install 'airs-plugins\[llamaindex\]'"):
        require("airs_plugins.llamaindex", extra="llamaindex")


def test_every_declared_range_can_be_read() -> None:
    for pins in EXTRAS.values():
        for dist, spec in pins:
            lowest = spec.split(",")[0].lstrip(">=")
            assert satisfies(lowest, spec), (dist, spec)
