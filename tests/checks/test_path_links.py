"""``resolve_links``: under ``path_roots``, a path that leads out of the roots through a symbolic link on this
machine is refused; without it the check reads the text only (the default, for tools that run elsewhere)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airs_plugins import Action, Shield

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links as POSIX makes them")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``work/`` (the root) holds a file, a link out to ``outside/``, a link to a file out there, a link that
    stays inside, and a dangling link; ``alias`` is a link to the root itself."""
    work, outside = tmp_path / "work", tmp_path / "outside"
    (work / "docs").mkdir(parents=True)
    outside.mkdir()
    (work / "docs" / "report.txt").write_text("q3", encoding="utf-8")
    (outside / "secret.txt").write_text("key", encoding="utf-8")
    (work / "out").symlink_to(outside)
    (work / "key").symlink_to(outside / "secret.txt")
    (work / "latest").symlink_to(work / "docs")
    (work / "gone").symlink_to(tmp_path / "nowhere" / "x")
    (tmp_path / "alias").symlink_to(work)
    return tmp_path


def shield(root: Path, *, resolve_links: bool = True) -> Shield:
    return Shield.from_policy({"tools": {"read_file": {"rules": {
        "path_roots": [str(root)], "resolve_links": resolve_links}}}})


def action(s: Shield, path: str) -> Action:
    return s.check_tool_call("read_file", {"path": path}).action


@pytest.mark.parametrize("path", ["out/secret.txt", "key", "{work}/out/secret.txt", "out%2Fsecret.txt",
                                  "docs/../out/secret.txt", "gone"])
def test_a_path_that_leaves_through_a_link_is_refused(tree: Path, path: str) -> None:
    s = shield(tree / "work")
    d = s.check_tool_call("read_file", {"path": path.format(work=tree / "work")})
    assert d.action is Action.BLOCK
    assert "through a symbolic link" in d.reason


@pytest.mark.parametrize("path", ["docs/report.txt", "latest/report.txt", "{work}/latest", "new/file.txt", "."])
def test_a_path_that_stays_inside_passes(tree: Path, path: str) -> None:
    assert action(shield(tree / "work"), path.format(work=tree / "work")) is Action.ALLOW


def test_a_root_that_is_itself_a_link_is_followed_too(tree: Path) -> None:
    """The root ``alias`` is read as what it points to, so its own files pass and its link out does not."""
    s = shield(tree / "alias")
    assert action(s, "docs/report.txt") is Action.ALLOW
    assert action(s, f"{tree / 'alias'}/docs/report.txt") is Action.ALLOW
    assert action(s, "out/secret.txt") is Action.BLOCK


def test_without_resolve_links_the_text_alone_is_read(tree: Path) -> None:
    """The default: the tool may run on another machine, where these links mean nothing."""
    s = shield(tree / "work", resolve_links=False)
    assert action(s, "out/secret.txt") is Action.ALLOW
    assert action(s, "../outside/secret.txt") is Action.BLOCK  # the text itself still leaves
