"""Load a policy from a YAML/JSON file or a dict: JSON Schema first, then the pydantic model.

Any failure becomes one :class:`PolicyError` naming the dotted path of the bad field. jsonschema and
PyYAML are imported here, lazily, so ``import airs_plugins`` stays fast.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import PolicyError
from ._model import Policy, PolicyRuleError

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


def format_path(parts: Iterable[Any]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package."""
    text = resources.files("airs_plugins._policy").joinpath("schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def generate_schema() -> dict[str, Any]:
    """The schema as the models define it (used to write and check ``schema.json``)."""
    out = Policy.model_json_schema(mode="validation")
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["$id"] = "https://airs-plugins.dev/schema/policy-v1.json"
    out["title"] = "airs-plugins policy"
    return out


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema())


def _deepest(error: ValidationError) -> ValidationError:
    """For anyOf/oneOf failures pick the branch error that went deepest (the useful message)."""
    from jsonschema.exceptions import best_match

    while error.context:
        non_null = [e for e in error.context if "None is not of type" not in e.message
                    and "is not of type 'null'" not in e.message]
        candidate = best_match(non_null or error.context)
        if candidate is None or len(candidate.absolute_path) < len(error.absolute_path):
            break
        error = candidate
    return error


def parse_policy(data: Any, *, source: str | None = None) -> Policy:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise PolicyError("", f"expected a mapping at the top level, got {type(data).__name__}",
                          source=source)
    bad = _non_finite(data)
    if bad is not None:
        raise PolicyError(format_path(bad), "must be a finite number: the policy hash is over canonical JSON, "
                          "which has no infinity or NaN (for a review with no deadline, write null)", source=source)
    from jsonschema.exceptions import best_match

    err = best_match(_validator().iter_errors(dict(data)))
    if err is not None:
        err = _deepest(err)
        raise PolicyError(format_path(err.absolute_path), err.message, source=source)
    from pydantic import ValidationError as PydanticError

    try:
        return Policy.model_validate(dict(data))
    except PydanticError as exc:
        first = exc.errors()[0]
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, PolicyRuleError):  # a whole-policy rule: it names the offending part's own path
            raise PolicyError(cause.path, cause.detail, source=source) from None
        loc = [p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        raise PolicyError(format_path(loc), first["msg"], source=source) from None


def _non_finite(value: Any, path: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    """The path of the first number that is not finite (YAML's ``.inf``, ``.nan``), or None. Anywhere in the
    file, a check's options and an argument schema included: the policy would load, and then every decision
    fail to compute its hash."""
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _non_finite(item, (*path, key))
        if found is not None:
            return found
    return None


def load_policy(source: str | Path | Mapping[str, Any] | Policy | None) -> Policy:
    """Read a policy from a path (YAML or JSON), a dict, or pass a Policy through."""
    if source is None:
        return Policy()
    if isinstance(source, Policy):
        return source
    if isinstance(source, Mapping):
        return parse_policy(source)
    path = Path(source)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise PolicyError("", f"cannot read policy file: {exc.strerror or exc}", source=str(path)) from None
    return parse_policy(_parse_text(text, str(path)), source=str(path))


class _DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json and PyYAML keep the last of two equal keys: a second ``drop_db:`` (a merge gone wrong, a paste)
    # would silently replace the first, and a tool the file denies would run
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(f"duplicate key {key!r}: a key may appear once in a mapping")
        out[key] = value
    return out


def _parse_text(text: str, source: str) -> Any:
    if source.endswith(".json"):
        try:
            return json.loads(text, object_pairs_hook=_unique_pairs)
        except json.JSONDecodeError as exc:
            raise PolicyError("", f"invalid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}",
                              source=source) from None
        except _DuplicateKey as exc:
            raise PolicyError("", f"invalid JSON: {exc}", source=source) from None
    import yaml

    try:
        return yaml.load(text, Loader=_strict_yaml_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PolicyError("", f"invalid YAML{where}: {problem}", source=source) from None


@cache
def _strict_yaml_loader() -> Any:
    """PyYAML's safe loader, refusing a mapping that names one key twice."""
    import yaml
    from yaml.constructor import ConstructorError

    class StrictLoader(yaml.SafeLoader):
        def __init__(self, stream: Any) -> None:
            super().__init__(stream)
            # the mappings read so far: each once, before a merge flattens it (in place: read again, what it
            # merged would look like keys of its own), and once only however often an alias merges it
            self.checked: set[int] = set()

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, yaml.MappingNode):
                self._refuse_duplicates(node)
            return super().construct_mapping(node, deep=deep)

        def _refuse_duplicates(self, node: Any) -> None:
            if id(node) in self.checked:
                return
            self.checked.add(id(node))
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    # ``<<: *base`` keys are overridden on purpose; but the merged mappings are flattened into
                    # this one, never constructed on their own, so a duplicate inside one is checked here
                    sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                    for source in sources:
                        if isinstance(source, yaml.MappingNode):
                            self._refuse_duplicates(source)
                    continue
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (str, int, float, bool)) or key is None:
                    if (type(key), key) in seen:
                        raise ConstructorError(None, None, f"duplicate key {key!r}: a key may appear once "
                                               "in a mapping", key_node.start_mark)
                    seen.add((type(key), key))

    return StrictLoader
