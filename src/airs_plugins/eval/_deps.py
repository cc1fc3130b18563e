"""The ``eval`` extra's packages are imported only when a command needs them."""

from __future__ import annotations

import importlib
from types import ModuleType

from .._errors import MissingExtraError

EVAL_EXTRA_HINT = "pip install 'airs-plugins[eval]'"


def need(module: str, *, what: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the install command."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".", maxsplit=1)[0]
        msg = f"{what} needs the {top!r} package (not installed). Install: {EVAL_EXTRA_HINT}"
        raise MissingExtraError(msg) from exc


def have(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
