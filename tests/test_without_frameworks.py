"""The base install (no extras): the adapters name the extra to install, and `airs demo` runs its core part.

The frameworks are hidden from a fresh interpreter the way a venv without them looks: their distributions have
no metadata and their modules do not import.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import airs_plugins
from airs_plugins._cli import demo_cmd

HIDE_FRAMEWORKS = textwrap.dedent('''
    import importlib.abc, importlib.metadata, sys

    FRAMEWORKS = {"langchain", "langchain_core", "langgraph", "llama_index"}
    DISTS = {"langchain", "langchain-core", "langgraph", "langgraph-checkpoint-sqlite", "llama-index-core",
             "opentelemetry-api", "opentelemetry-sdk"}

    class _Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in FRAMEWORKS:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _Hide())
    _version = importlib.metadata.version

    def version(dist):
        if dist in DISTS:
            raise importlib.metadata.PackageNotFoundError(dist)
        return _version(dist)

    importlib.metadata.version = version
''')


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # run outside the repository, on the airs_plugins under test (a relative PYTHONPATH would not reach it)
    env = {**os.environ, "PYTHONPATH": str(Path(airs_plugins.__file__).resolve().parents[1])}
    return subprocess.run([sys.executable, "-c", HIDE_FRAMEWORKS + textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=300, check=False, cwd=cwd, env=env)


@pytest.mark.parametrize(("statement", "extra"), [
    ("import airs_plugins.langchain", "langgraph"),
    ("from airs_plugins.langchain import AIRSMiddleware", "langgraph"),
    ("from airs_plugins.langgraph import secure_graph", "langgraph"),
    ("import airs_plugins.llamaindex", "llamaindex"),
    ("from airs_plugins.llamaindex import guard_tools", "llamaindex"),
    ("import airs_plugins.otel", "otel"),
])
def test_an_adapter_without_its_framework_names_the_extra(statement: str, extra: str, tmp_path: Path) -> None:
    """Importing an adapter without its framework raises MissingExtraError (an ImportError) naming the pip command,
    not a ModuleNotFoundError from deep inside; the core still imports and decides."""
    proc = _run(f'''
        from airs_plugins import MissingExtraError, Shield
        assert Shield.default().check_input("hello").action.value == "allow"
        try:
            {statement}
        except MissingExtraError as exc:
            assert isinstance(exc, ImportError)
            print("MISSING:", exc)
        else:
            raise SystemExit("imported without its framework")
    ''', tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"pip install 'airs-plugins[{extra}]'" in proc.stdout


def test_demo_without_extras_skips_each_scenario_once_and_says_how_to_keep_its_files(tmp_path: Path) -> None:
    """`airs demo` on the base install runs the core walk-through, skips each framework scenario with the pip
    command said once (it was said twice), and, without --workdir, says its audit files were temporary."""
    proc = _run('''
        from airs_plugins._cli import main
        raise SystemExit(main(["demo"]))
    ''', tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for extra in ("langgraph", "llamaindex"):
        assert out.count(f"pip install 'airs-plugins[{extra}]'") == 1, out
    assert out.count("(skipped:") == 2
    assert "Demo finished" in out
    assert "--workdir DIR" in out and "removed" in out
    assert list(tmp_path.iterdir()) == []  # nothing left in the working directory either


def test_demo_fails_when_an_installed_adapter_does_not_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """With the extra installed, an adapter that fails to import (a framework release it does not support) fails
    the demo: it was shown as "(skipped: ... Install: pip install ...)" and `make demo` exited 0."""
    (tmp_path / "broken_demo_adapter.py").write_text(
        'raise ImportError("cannot import name ToolCallRequest from langchain.agents.middleware")\n',
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(demo_cmd.DemoError, match="ToolCallRequest"):
        demo_cmd._run_scenario("LangChain create_agent with AIRSMiddleware", "broken_demo_adapter", "langgraph",
                               tmp_path)
    assert "(skipped" not in capsys.readouterr().out


def test_bench_from_an_installed_package_says_where_the_adapter_benchmarks_are(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`airs bench` from a wheel has no benchmarks/ to run: the skip says they ship with the repository (it said
    only "script not found")."""
    from airs_plugins.eval import bench

    monkeypatch.setattr(bench, "benchmarks_dir", lambda: None)
    out = bench.bench_adapters()
    assert set(out) == {"langchain", "llamaindex"}
    for name, result in out.items():
        assert f"bench_{name}.py" in result["skipped"] and "checkout" in result["skipped"]


def test_bench_runs_only_the_benchmarks_of_an_airs_plugins_checkout(tmp_path: Path) -> None:
    """`airs bench` runs the scripts it finds: a `benchmarks/bench_langchain.py` in whatever directory it starts in
    was run too. Only this package's own checkout, or a working directory that is a checkout of airs-plugins."""
    from airs_plugins.eval import bench

    stranger = tmp_path / "elsewhere"
    (stranger / "benchmarks").mkdir(parents=True)
    (stranger / "benchmarks" / "bench_langchain.py").write_text("raise SystemExit('ran')\n")
    (stranger / "pyproject.toml").write_text('[project]\nname = "something-else"\n')
    assert bench.benchmarks_dir(cwd=stranger) != stranger / "benchmarks"
    assert bench._is_checkout(Path(bench.__file__).resolve().parents[3])  # this suite runs from a checkout
    (stranger / "pyproject.toml").write_text('[project]\nname = "airs-plugins"\n')
    assert bench._is_checkout(stranger)
