"""The public surface: exactly the promised names, and no framework at import time."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import airs_plugins
from airs_plugins._extras import EXTRAS

PROMISED = {"Shield", "Policy", "Decision", "Action", "RunContext", "ApprovalRequest", "ApprovalDecision", "Blocked"}


def test_promised_names_exported() -> None:
    """Every name DESIGN §3 promises is importable from airs_plugins."""
    assert PROMISED <= set(airs_plugins.__all__)
    for name in airs_plugins.__all__:
        assert hasattr(airs_plugins, name)


def test_all_is_sorted() -> None:
    """__all__ is sorted so additions are reviewed."""
    assert list(airs_plugins.__all__) == sorted(airs_plugins.__all__)


def test_import_pulls_no_framework() -> None:
    """import airs_plugins in a fresh interpreter loads no langchain, langgraph or llama_index module."""
    code = ("import sys, json, airs_plugins; "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('langchain','langchain_core','langgraph','llama_index','jsonschema','yaml','agentdojo'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []


def test_default_shield_loads_no_jsonschema_or_yaml() -> None:
    """Shield.default() stays off jsonschema and PyYAML (they load only when a policy is read)."""
    code = ("import sys, json; from airs_plugins import Shield; Shield.default().check_input('hi'); "
            "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('jsonschema','yaml'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []


def test_extras_ranges_match_pyproject() -> None:
    """The version ranges adapters check are the ones the extras install."""
    reqs = importlib.metadata.requires("airs-plugins") or []
    for extra, pins in EXTRAS.items():
        declared = {r.split(";")[0].replace(" ", "") for r in reqs if f'extra == "{extra}"' in r}
        for dist, spec in pins:
            assert any(d.startswith(dist) and set(spec.split(",")) == set(d[len(dist):].split(","))
                       for d in declared), (extra, dist, spec, declared)


def test_py_typed_shipped() -> None:
    """The package ships its py.typed marker."""
    from importlib import resources

    assert resources.files("airs_plugins").joinpath("py.typed").is_file()
