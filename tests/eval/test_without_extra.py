"""``airs_plugins.eval`` works on the base install: agentdojo, matplotlib and rich are optional."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

BLOCKER = textwrap.dedent('''
    import importlib.abc, sys

    class _Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"agentdojo", "matplotlib", "rich"}:
                raise ImportError(f"blocked for the test: {name}")
            return None

    sys.meta_path.insert(0, _Block())
''')


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=120, check=False)


def test_corpus_eval_runs_without_the_extra() -> None:
    """With agentdojo/matplotlib/rich unimportable, `airs eval --corpus` still prints its JSON metrics."""
    proc = _run('''
        from airs_plugins._cli import main
        raise SystemExit(main(["eval", "--corpus", "hard_negatives.jsonl", "--json"]))
    ''')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n"] >= 120


def test_plain_table_without_rich() -> None:
    """Without rich the human-readable table is plain text."""
    proc = _run('''
        from airs_plugins._cli import main
        raise SystemExit(main(["eval", "--corpus", "hard_negatives.jsonl"]))
    ''')
    assert proc.returncode == 0, proc.stderr
    assert "ALL" in proc.stdout and "┃" not in proc.stdout


def test_agentdojo_and_report_name_the_extra() -> None:
    """Commands that need the extra fail with one line naming pip install 'airs-plugins[eval]' (exit 2)."""
    proc = _run('''
        from airs_plugins._cli import main
        raise SystemExit(main(["eval", "agentdojo", "--suite", "banking"]))
    ''')
    assert proc.returncode == 2
    assert "pip install 'airs-plugins[eval]'" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _run('''
        from airs_plugins._cli import main
        raise SystemExit(main(["eval", "--corpus", "hard_negatives.jsonl", "--report", "/dev/null"]))
    ''')
    assert proc.returncode == 2
    assert "pip install 'airs-plugins[eval]'" in proc.stderr
