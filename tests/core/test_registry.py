"""The check registry fails closed: unknown ids and broken plugins stop Shield construction."""

from __future__ import annotations

from pathlib import Path

import pytest

from airs_plugins import CheckLoadError, Shield, UnknownCheckError
from airs_plugins.checks import known_check_ids


def make_plugin(root: Path, name: str, target: str) -> None:
    """A real installed distribution (dist-info on sys.path) exposing one check entry point."""
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[airs_plugins.checks]\n{name} = {target}\n", encoding="utf-8")


class TestRegistry:
    def test_core_checks_registered(self) -> None:
        """The core checks are known by id."""
        assert {"limit.size", "limit.caps", "tool.policy", "taint.flow"} <= set(known_check_ids())

    def test_unknown_id_lists_known(self) -> None:
        """An unknown check id raises UnknownCheckError naming the known ids."""
        with pytest.raises(UnknownCheckError, match=r"tool\.policy"):
            Shield.from_policy({"checks": [{"id": "no.such.check"}]})

    def test_entry_point_plugin_loads(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A third-party check named by the policy loads from the entry-point group and runs."""
        pkg = tmp_path / "acme_checks.py"
        pkg.write_text(
            "from airs_plugins import Channel, Finding\n"
            "class Acme:\n"
            "    id = 'acme.word'\n"
            "    channels = frozenset(Channel)\n"
            "    maso = ('PG-1.1',)\n"
            "    attack_categories = frozenset()\n"
            "    def __init__(self, config, policy): pass\n"
            "    def run(self, subject):\n"
            "        return [Finding(check='acme.word', category='banned', score=1.0)] "
            "if 'acme' in subject.payload else []\n",
            encoding="utf-8")
        make_plugin(tmp_path, "acme.word", "acme_checks:Acme")
        monkeypatch.syspath_prepend(str(tmp_path))
        s = Shield.from_policy({"checks": [{"id": "acme.word"}]})
        assert s.check_input("buy acme").action.value == "block"
        assert s.check_input("hello").action.value == "allow"

    def test_broken_plugin_stops_construction(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A named plugin that fails to import raises CheckLoadError at Shield construction."""
        make_plugin(tmp_path, "broken.check", "does_not_exist_mod:Nope")
        monkeypatch.syspath_prepend(str(tmp_path))
        with pytest.raises(CheckLoadError, match=r"broken\.check"):
            Shield.from_policy({"checks": [{"id": "broken.check"}]})

    def test_unnamed_broken_plugin_is_not_loaded(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Plugins load only when the policy names them: a broken unnamed one does no harm."""
        make_plugin(tmp_path, "broken.other", "does_not_exist_mod:Nope")
        monkeypatch.syspath_prepend(str(tmp_path))
        assert Shield.default().check_input("hi").action.value == "allow"
