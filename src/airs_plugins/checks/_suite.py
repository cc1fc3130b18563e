"""The L1 suite's modules and default configuration, appended to the core defaults.

Defaults (each overridable by listing the check in ``policy.checks``):

========================  ===============  =======================================================
check                     bands (low/high)  action
========================  ===============  =======================================================
``injection.prompt``      0.5 / 0.8         block (user input, tool results, retrieved, handoff)
``injection.hidden``      0.5 / 0.8         block (tag characters score 0.9; bidi/zero-width lower)
``pii.detect``            0.5 / 0.7         redact model output; flag elsewhere; approval for
                                            cards/SSNs in arguments of outward tools
``secrets.detect``        0.5 / 0.8         block on model output and outward tool calls, redact
                                            user input / tool results / retrieved text, flag
                                            internal (read/write) tool calls
``tool.rules``            0.5 / 0.8         block (shell deny, SSRF, paths, SQL, schemes);
                                            approval when a URL query carries untrusted values
``output.exfil``          0.5 / 0.8         redact (markdown images/links that carry data)
``output.leakage``        0.5 / 0.8         block (canary tokens, system-prompt echo)
``output.schema``         0.5 / 0.8         block (structured output not matching its schema)
``output.banned``         0.5 / 0.8         block (``policy.banned_terms``)
``output.grounding``      0.5 / 0.8         approval at ``high``; scores 0.6 by default (uncertain:
                                            the judge, or the tier's fail mode) for links, addresses
                                            and numbers in an answer that nothing the run read contains
========================  ===============  =======================================================
"""

from __future__ import annotations

from .._policy import Bands, CheckConfig

SUITE_MODULES: tuple[str, ...] = (
    "airs_plugins.checks.injection",
    "airs_plugins.checks.pii",
    "airs_plugins.checks.secrets",
    "airs_plugins.checks.tool_rules",
    "airs_plugins.checks.output",
    "airs_plugins.checks.grounding",
)

SUITE_CHECKS: tuple[CheckConfig, ...] = (
    CheckConfig(id="injection.prompt", bands=Bands(low=0.5, high=0.8), action="block"),
    CheckConfig(id="injection.hidden", bands=Bands(low=0.5, high=0.8), action="block"),
    CheckConfig(id="pii.detect", bands=Bands(low=0.5, high=0.7), action="redact"),
    CheckConfig(id="secrets.detect", bands=Bands(low=0.5, high=0.8), action="redact"),
    CheckConfig(id="tool.rules", bands=Bands(low=0.5, high=0.8), action="block"),
    CheckConfig(id="output.exfil", bands=Bands(low=0.5, high=0.8), action="redact"),
    CheckConfig(id="output.leakage", bands=Bands(low=0.5, high=0.8), action="block"),
    CheckConfig(id="output.schema", bands=Bands(low=0.5, high=0.8), action="block"),
    CheckConfig(id="output.banned", bands=Bands(low=0.5, high=0.8), action="block"),
    CheckConfig(id="output.grounding", bands=Bands(low=0.5, high=0.8), action="require_approval"),
)
