"""Policy models, loading and the shipped JSON Schema."""

from ._load import format_path, generate_schema, load_policy, parse_policy, schema
from ._model import (
    Bands,
    Caps,
    CheckConfig,
    Policy,
    TaintPolicy,
    TierProfile,
    ToolPolicy,
    ToolRules,
)

__all__ = [
    "Bands",
    "Caps",
    "CheckConfig",
    "Policy",
    "TaintPolicy",
    "TierProfile",
    "ToolPolicy",
    "ToolRules",
    "format_path",
    "generate_schema",
    "load_policy",
    "parse_policy",
    "schema",
]
