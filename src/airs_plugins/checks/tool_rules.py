"""Argument rules checked before a tool runs (MASO EC-1.2, EC-1.8, EC-2.2, DP-2.1).

From ``policy.tools[name].rules``: path roots and traversal, URL schemes and domain allow/deny
lists, private-network (SSRF) denial, SQL statement classes and extra shell deny patterns. Built in,
with no rules configured:

* shell deny patterns (pipe-to-shell, ``rm -rf /``, reverse shells, fork bombs, disk wipes…) on the
  command-like arguments of tools that look like shells (by name, or an argument named ``cmd``,
  ``command``, ``script``…);
* SSRF denial for every URL argument (and host argument, and URL inside a call's one JSON argument):
  loopback, private, link-local and cloud-metadata addresses, including decimal/hex/octal/short IPv4
  spellings and IPv4-mapped IPv6;
* non-web schemes (``file:``, ``gopher:``, ``dict:``…) outside ``allowed_schemes``;
* traversal to well-known sensitive files;
* destructive SQL (DROP/TRUNCATE, DELETE/UPDATE without WHERE) for tools that look like SQL runners;
* values read from untrusted content appearing in a URL's path or query string, as written or encoded
  (exfiltration by URL).
"""

from __future__ import annotations

import json
import posixpath
import urllib.parse
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

from .._decision import Action, Channel, Finding, Severity, Subject
from .._policy import CheckConfig, Policy, ToolRules
from .._taint import decoded_forms, extract_values, normalise
from . import _paths, _sql
from ._base import BaseCheck, quoted
from ._regex import PatternSet, compile_re2
from ._registry import register_check
from ._urls import (
    LOCAL_WORDS,
    URLParts,
    domain_match,
    has_scheme,
    looks_like_url,
    parse_ip_host,
    parse_url,
    private_host,
)

__all__ = ["SHELL_DENY", "ToolRulesCheck", "collect_strings", "parse_ip_host", "private_host"]

MAX_STRINGS = 10_000
MAX_DEPTH = 32
MAX_FINDINGS = 16
"""Per rule kind and call: past it the decision is made, and each more finding costs time and audit space."""

# a name segment (``run_sql``, ``db.query``), never a substring: "feedback" is not a database tool
_SHELL_TOOL = compile_re2(r"(?:^|[_\-.])(?:shell|bash|sh|zsh|exec|execute|terminal|cmd|command|commands|"
                          r"run_command|run_shell|powershell|pwsh|subprocess|system|console|os_command)(?:$|[_\-.])")
_SQL_TOOL = compile_re2(r"(?:^|[_\-.])(?:sql|db|database|query|postgres|postgresql|mysql|sqlite|sqlite3|duckdb|"
                        r"snowflake|bigquery|redshift|psql)(?:$|[_\-.])")


def _tool_kind(name: str) -> tuple[bool, bool]:
    """Whether a tool's name says shell, and database. Tools are few, and each RE2 search lets go of the
    GIL, which in a busy threaded host costs far more than the search (``benchmarks/bench_contention.py``).
    A name is the model's to choose: only plausible ones are kept, so the cache stays small."""
    return _named_kind(name) if len(name) <= 256 else _read_kind(name)


def _read_kind(name: str) -> tuple[bool, bool]:
    lowered = name.lower()
    return bool(_SHELL_TOOL.search(lowered)), bool(_SQL_TOOL.search(lowered))


_named_kind = lru_cache(maxsize=1024)(_read_kind)

# argument names, matched on the lower-cased last key: exactly, or containing one of the parts
_SHELL_KEYS = frozenset({"cmd", "command", "commands", "script", "shell", "cmdline", "command_line", "bash",
                         "sh", "run", "argv"})
_SHELL_PARTS = ("cmd", "command", "script", "shell")
_SQL_KEYS = frozenset({"sql", "query", "statement", "stmt", "q"})
_SQL_PARTS = ("sql", "query", "statement", "stmt")
_URL_KEYS = frozenset({"url", "uri", "link", "href", "endpoint", "webhook", "src", "source_url", "target_url",
                       "callback", "callback_url", "image_url", "feed_url", "host", "hostname"})
_URL_PARTS = ("url", "uri", "href", "link", "endpoint", "webhook")
_PATH_KEYS = frozenset({"path", "file", "filename", "file_path", "filepath", "dir", "directory", "folder",
                        "dest", "destination", "src", "source", "src_path", "target", "output", "output_path",
                        "input_path", "paths", "files"})
_PATH_PARTS = ("path", "file", "dir", "folder")

SHELL_DENY: tuple[tuple[str, str, float], ...] = (
    ("pipe_to_shell", r"\|&?\s*(?:\(\s*)?(?:(?:sudo(?:\s+-\S+(?:\s+[^-\s]\S*)?)*|env(?:\s+-\S+|\s+\w+=\S*)*|"
                      r"exec|command|nohup|time|xargs)\s+)*(?:/usr)?(?:/local)?(?:/bin/)?(?:ba|z|da|k|c|tc|fi|a)?sh\b",
     0.95),
    ("pipe_to_interpreter", r"(?:curl|wget|fetch|iwr|invoke-webrequest|nc)\b[^|;&\n]*\|\s*(?:sudo\s+)?"
                            r"(?:python[0-9.]*|perl|ruby|node|php|iex|invoke-expression)\b", 0.95),
    ("process_substitution", r"<\(\s*(?:curl|wget|fetch)\b|\$\(\s*(?:curl|wget)\b|`\s*(?:curl|wget)\b|"
                             r"\beval\s+[\"']?\$\(", 0.9),
    ("rm_root", r"\brm\s+(?:-{1,2}[A-Za-z\-]+\s+)*-{1,2}(?:[A-Za-z]*[rR][A-Za-z]*|recursive)\s+"
                r"(?:-{1,2}[A-Za-z\-]+\s+)*(?:--no-preserve-root\s+)?[\"']?(?:/+(?:\.+/*)?\*?|~/?\*?|"
                r"\$\{?HOME\}?[\"']?/*\*?|\.\.?/?\*?|/+(?:etc|usr|var|home|bin|boot|lib|lib64|opt|root|srv|sys|dev|proc)"
                r"/*\*?)[\"']?(?:\s|$|;|&|\||\)|`)", 0.95),
    ("no_preserve_root", r"--no-preserve-root", 0.95),
    ("reverse_shell", r"/dev/(?:tcp|udp)/|\b(?:nc|ncat|netcat)\b[^|;&\n]{0,80}\s-(?:[a-z]*e|c)\s|\bsocat\b[^\n]*"
                      r"exec:|\bbash\s+-i\s+>&|\bmkfifo\b[^\n]{0,80}\b(?:nc|ncat|sh)\b|\bsh\s+-i\s+[<>]|"
                      r"socket\.socket\([^\n]*(?:subprocess|pty\.spawn|os\.dup2)", 0.95),
    ("fork_bomb", r":\s*\(\s*\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:", 0.95),
    ("disk_wipe", r"\bmkfs(?:\.\w+)?\s|\bdd\s+[^\n]{0,80}of=/dev/(?:sd|hd|nvme|xvd|vd|disk|mmcblk)|"
                  r">\s*/dev/(?:sd|hd|nvme)|"
                  r"\bshred\s+[^\n]{0,40}/dev/|\bwipefs\b", 0.95),
    ("chmod_root", r"\bchmod\s+(?:-R\s+)?(?:0?777|a\+rwx)\s+/(?:\s|$)|\bchown\s+-R\s+\S+\s+/(?:\s|$)", 0.9),
    ("credential_read", r"(?:/etc/shadow|/etc/sudoers|\.ssh/id_[a-z0-9]+\b|\.aws/credentials|\.kube/config|"
                        r"\.docker/config\.json|\.netrc|\.git-credentials)", 0.75),
    ("history_wipe", r"\bhistory\s+-c\b|\bunset\s+HISTFILE\b|>\s*~?/?\.bash_history", 0.6),
    ("base64_exec", r"base64\s+(?:-d|--decode)[^|\n]{0,80}\|\s*(?:ba|z)?sh\b", 0.95),
    ("download_exec", r"(?:curl|wget)\b[^;&|\n]*(?:\s-o|\s-O|--output)[^;&|\n]*(?:&&|;|\n|\|\|)\s*(?:chmod\s+\+x|"
                      r"(?:ba|z)?sh\s|\./|source\s|\.\s|python[0-9.]*\s)", 0.85),
    ("crontab_persist", r"\bcrontab\s+-r\b|\(crontab\s+-l[^\n]{0,80}\)\s*\|\s*crontab", 0.7),
    ("kill_all", r"\bkill\s+-9\s+-1\b|\bkillall5\b|\bshutdown\s+(?:-h\s+)?now\b|\breboot\b|\bhalt\b", 0.7),
)
_SENSITIVE_PATHS = compile_re2(r"(?:^|/)(?:etc/(?:shadow|passwd|sudoers)|\.ssh/|\.aws/|\.env\b|\.git/config|"
                               r"\.netrc|id_rsa|\.kube/|proc/self/)")
_DANGEROUS_SCHEMES = frozenset({"file", "gopher", "dict", "ldap", "ldaps", "tftp", "jar", "netdoc", "php", "data",
                                "expect", "phar", "smb", "sftp", "ftp"})
_NESTED = (str, dict, list, tuple)


def collect_strings(value: Any, prefix: str = "") -> tuple[list[tuple[str, str]], bool]:
    """(dotted path, string) pairs in nested arguments, and whether that is all of them.

    Numbers are not paths, URLs or commands. At most ``MAX_STRINGS`` strings, ``MAX_DEPTH`` levels:
    past either the arguments are not whole, and the check says so rather than pass what it never read.
    """
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, Any, int]] = [(prefix, value, 0)]
    while stack:
        p, v, d = stack.pop()
        if isinstance(v, str):
            if len(out) >= MAX_STRINGS:
                return out, False
            out.append((p, v))
        else:
            if d >= MAX_DEPTH:
                return out, False
            if isinstance(v, dict):
                children = [(f"{p}.{k}" if p else str(k), x, d + 1) for k, x in v.items() if isinstance(x, _NESTED)]
            else:
                children = [(f"{p}[{i}]", x, d + 1) for i, x in enumerate(v) if isinstance(x, _NESTED)]
            stack.extend(reversed(children))
    return out, True


def _selected(path: str, names: Sequence[str] | None, keys: frozenset[str], parts: tuple[str, ...]) -> bool:
    """The argument at ``path`` is one the rule reads: named by the policy (any case), or by its name."""
    base = path
    while base.endswith("]"):  # a list's items are read as the list is: "paths[3]" is "paths"
        base = base[:base.rfind("[")]
    if names is not None:
        wanted = {n.lower() for n in names}
        return path.lower() in wanted or base.lower() in wanted or _leaf(base) in wanted
    return _named(_leaf(base), keys, parts)


def _leaf(path: str) -> str:
    return path.rpartition(".")[2].lower()


@lru_cache(maxsize=1024)
def _named(leaf: str, keys: frozenset[str], parts: tuple[str, ...]) -> bool:
    return leaf in keys or any(part in leaf for part in parts)


def _joined_lists(strings: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each list of strings as one space-joined string: an argv list ``["rm", "-rf", "/"]`` is a command."""
    groups: dict[str, list[str]] = {}
    for path, value in strings:
        if path.endswith("]"):
            groups.setdefault(path[:path.rfind("[")], []).append(value)
    return [(path, " ".join(values)) for path, values in groups.items() if len(values) > 1]


def _bare_address(value: str) -> bool:
    """A value given where a URL is expected, without a scheme, that could still be one: one word with a
    dot, a colon or leading slashes (``example.com/x``, ``10.0.0.1:80``), or an internal name (``localhost``,
    ``0x7f000001``); not "94103", "none" or "Berlin"."""
    if any(c.isspace() for c in value):
        return False
    if "." in value or ":" in value or value.startswith(("//", "\\\\")):
        return True
    # one word: an internal name, or an address in one hex number (a decimal one may be a zip code)
    return value.lower() in LOCAL_WORDS or (value[:2].lower() == "0x" and private_host(value) is not None)


_QUOTES = "\"'`"


def _url_text(value: str) -> str:
    """An argument as a tool that fetches it reads it: spaces and quotes around it cut. Models quote URLs,
    and tools take the quotes off (LangChain's requests tools do): ``'"http://10.0.0.1/"'`` goes to 10.0.0.1."""
    v = value.strip()
    return v.strip(_QUOTES).strip() if v[:1] in _QUOTES or v[-1:] in _QUOTES else v


def _json_input(args: Any) -> tuple[str, Any] | None:
    """The document a one-argument call passes as JSON text, and the argument's name; or None.

    LangChain's ``requests_post`` (and ``_patch``, ``_put``) takes ``{"text": '{"url": ..., "data": ...}'}``
    and fetches the URL inside: read as a string, the URL was never seen. Only a call's sole argument is
    opened: a document passed next to others (a file's content, a request body) is data the tool does not
    act on, and its links are not where the tool goes."""
    if not isinstance(args, dict) or len(args) != 1:
        return None
    ((key, value),) = args.items()
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("```"):  # a fenced block, as LangChain's parse_json_markdown accepts
        text = text.strip("`").strip()
        text = text[4:] if text[:4].lower() == "json" else text
        text = text.strip()
    if text[:1] not in ("{", "["):
        return None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deep for a parser to read either
        return None
    return (str(key), doc) if isinstance(doc, dict | list) else None


def _shown_host(host: str) -> str:
    """A host as a message names it: an address whole, a name by its last labels (``…evil.example``).
    The labels before them are the attacker's to fill (``<secret>.evil.example`` is exfiltration by DNS), and
    messages are kept in clear where the arguments are kept as digests."""
    if parse_ip_host(host) is not None or ":" in host:
        return quoted(host)
    labels = host.rstrip(".").split(".")
    keep = 3 if len(labels) > 2 and len(labels[-2]) <= 3 else 2  # "co.uk", "com.au": keep the name before them
    return quoted(host if len(labels) <= keep else "…" + ".".join(labels[-keep:]))


@register_check("tool.rules")
class ToolRulesCheck(BaseCheck):
    """Per-tool argument rules and the built-in shell/SSRF/SQL/path defaults.

    Options: ``shell_builtin`` (default true), ``ssrf_builtin`` (default true), ``sql_builtin``
    (default true), ``query_taint`` (default true: untrusted values in a URL's path or query string need approval),
    ``sql_max_chars`` (default 65536: SQL read per call; longer fails closed under ``sql_allowed_verbs``).
    """

    id = "tool.rules"
    channels = frozenset({Channel.TOOL_CALL})
    maso = ("EC-1.2", "EC-1.8", "EC-2.2")
    attack_categories = frozenset({"exfiltration"})
    option_defaults: ClassVar[Mapping[str, Any]] = {
        "shell_builtin": True,
        "ssrf_builtin": True,
        "sql_builtin": True,
        "query_taint": True,
        "sql_max_chars": 65536,
    }

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        self._shell = PatternSet((k, p) for k, p, _w in SHELL_DENY)
        self._shell_weight = {k: w for k, _p, w in SHELL_DENY}
        self._custom_shell: dict[str, PatternSet] = {}
        self._roots: dict[str, _paths.Roots] = {}
        for name, tool in policy.tools.items():
            if tool.rules.shell_deny:
                self._custom_shell[name] = PatternSet(
                    (f"policy[{i}]", p) for i, p in enumerate(tool.rules.shell_deny))
            if tool.rules.path_roots:
                self._roots[name] = _paths.Roots.of(tool.rules.path_roots)
        self._builtin_shell = bool(self.options["shell_builtin"])
        self._builtin_ssrf = bool(self.options["ssrf_builtin"])
        self._builtin_sql = bool(self.options["sql_builtin"])
        self._query_taint = bool(self.options["query_taint"])
        self._sql_max_chars = int(self.options["sql_max_chars"])

    def run(self, subject: Subject) -> Sequence[Finding]:
        name = subject.tool_name or ""
        rules = self.policy.tool(name).rules
        strings, whole = collect_strings(subject.tool_args or {})
        document = _json_input(subject.tool_args)
        if document is not None:
            inside, whole_inside = collect_strings(document[1], prefix=document[0])
            strings += inside
            whole = whole and whole_inside
        out: list[Finding] = []
        if not whole:
            out.append(self.finding(
                "tool_policy", score=1.0, severity=Severity.HIGH, maso=("EC-1.8",),
                message=f"arguments too many or too deep to check (over {MAX_STRINGS} strings or {MAX_DEPTH} "
                        "levels): not run unchecked"))
        out.extend(self._shell_rules(name, rules, strings))
        out.extend(self._url_rules(subject, rules, strings))
        out.extend(self._path_rules(name, rules, strings))
        out.extend(self._sql_rules(name, rules, strings))
        return out

    # -- shell ---------------------------------------------------------------------------------
    def _shell_rules(self, name: str, rules: ToolRules, strings: list[tuple[str, str]]) -> list[Finding]:
        custom = self._custom_shell.get(name)
        shell_tool = _tool_kind(name)[0] or rules.shell_args is not None
        selected = [(p, s) for p, s in strings if _selected(p, rules.shell_args, _SHELL_KEYS, _SHELL_PARTS)]
        builtin = selected if selected or rules.shell_args is not None or not shell_tool else strings
        # the policy's own patterns were written for this tool: with no shell_args they read every argument
        policy = selected if rules.shell_args is not None else strings
        if not (builtin and self._builtin_shell) and not (policy and custom is not None):
            return []
        out: list[Finding] = []
        if self._builtin_shell:
            for path, cmd in builtin + _joined_lists(builtin):
                if len(out) >= MAX_FINDINGS:
                    break
                collapsed = " ".join(cmd.split())
                for key in self._shell.keys_hit(collapsed):
                    w = self._shell_weight[key]
                    out.append(self.finding(
                        "tool_policy", score=w, severity=Severity.CRITICAL if w >= 0.9 else Severity.HIGH,
                        maso=("EC-1.2", "EC-2.2"),
                        message=f"shell argument {quoted(path)} matches {key.replace('_', ' ')}"))
        if custom is not None:
            for path, cmd in policy + _joined_lists(policy):
                if len(out) >= MAX_FINDINGS:
                    break
                collapsed = " ".join(cmd.split())
                for key in custom.keys_hit(collapsed):
                    out.append(self.finding(
                        "tool_policy", score=1.0, severity=Severity.HIGH, maso=("EC-1.2",),
                        message=f"argument {quoted(path)} matches the policy's shell_deny {key}"))
        return out

    # -- URLs ----------------------------------------------------------------------------------
    def _url_rules(self, subject: Subject, rules: ToolRules, strings: list[tuple[str, str]]) -> list[Finding]:
        out: list[Finding] = []
        for path, value in strings:
            v = _url_text(value)
            if len(out) >= MAX_FINDINGS:
                break
            if not v:
                continue
            url_like = looks_like_url(v)
            if not url_like and not (_selected(path, rules.url_args, _URL_KEYS, _URL_PARTS) and _bare_address(v)):
                continue
            parsed = parse_url(v, default_scheme=None if url_like else "http")
            if parsed is None:
                out.append(self.finding(
                    "tool_policy", score=0.9, severity=Severity.HIGH, maso=("EC-1.2",),
                    message=f"argument {quoted(path)} is not a URL every client reads the same way: where it goes "
                            "cannot be told"))
                continue
            finding = self._url_finding(path, parsed.scheme, parsed.hosts, rules)
            if finding is not None:
                out.append(finding)
            elif self._query_taint and (parsed.query or parsed.path.strip("/")):
                leak = self._tainted_url(subject, v, parsed)
                if leak:
                    out.append(self.finding(
                        "exfiltration", score=0.9, severity=Severity.HIGH, action=Action.REQUIRE_APPROVAL,
                        maso=("DP-2.1", "PG-1.4"),
                        message=f"URL in {quoted(path)} carries {leak} value(s) read from untrusted content"))
        return out

    def _url_finding(self, path: str, scheme: str, hosts: tuple[str, ...], rules: ToolRules) -> Finding | None:
        """What is wrong with where this URL goes (every reading of its host must pass), or None."""
        if scheme not in {s.lower() for s in rules.allowed_schemes}:
            return self.finding("tool_policy", score=0.95 if scheme in _DANGEROUS_SCHEMES else 0.85,
                                severity=Severity.HIGH, maso=("EC-1.2",),
                                message=f"URL scheme {quoted(scheme)} in {quoted(path)} is not allowed")
        for host in hosts:
            if rules.denied_domains and domain_match(host, rules.denied_domains):
                return self.finding("tool_policy", score=1.0, severity=Severity.HIGH,
                                    message=f"host {_shown_host(host)} in {quoted(path)} is on the deny list")
            if rules.allowed_domains is not None and not domain_match(host, rules.allowed_domains):
                return self.finding("tool_policy", score=1.0, severity=Severity.HIGH,
                                    message=f"host {_shown_host(host)} in {quoted(path)} is not on the allow list")
            why = private_host(host) if self._builtin_ssrf and not rules.allow_private_network else None
            if why:
                return self.finding("tool_policy", score=0.95, severity=Severity.CRITICAL, maso=("EC-1.2", "EC-2.2"),
                                    message=f"{quoted(path)} targets a {why} ({_shown_host(host)}): SSRF denied")
        if not hosts and rules.allowed_domains is not None:
            return self.finding("tool_policy", score=1.0, severity=Severity.HIGH,
                                message=f"URL in {quoted(path)} has no host on the allow list")
        return None

    @staticmethod
    def _tainted_url(subject: Subject, url: str, parsed: URLParts) -> int:
        """How many values read from untrusted content the URL carries in its path or query string, as written or
        encoded (:func:`decoded_forms`): ``https://collect.example/c/<value>`` sends a value out as well as
        ``?d=<value>`` does. A link read whole and followed as it was is not built to carry anything."""
        ctx = subject.context
        if not ctx.observations:
            return 0
        read: set[str] = set()
        for obs in ctx.observations:
            read.update(obs.values)
        link = normalise(url).rstrip("/")
        if link in read or f"{link}/" in read:
            return 0
        pieces = [val for _k, val in urllib.parse.parse_qsl(parsed.query, keep_blank_values=False)]
        pieces += [urllib.parse.unquote(part) for part in parsed.path.replace("\\", "/").split("/") if part]
        values: set[str] = set()
        for piece in pieces:
            for form in (piece, *decoded_forms(piece)):
                values |= extract_values(form)
                n = normalise(form)
                if len(n) >= 5:
                    values.add(n)
        return len((values & read) - extract_values(ctx.user_goal or ""))

    # -- paths ---------------------------------------------------------------------------------
    def _path_rules(self, name: str, rules: ToolRules, strings: list[tuple[str, str]]) -> list[Finding]:
        out: list[Finding] = []
        roots = self._roots.get(name) if rules.path_roots else None
        for path, value in strings:
            if len(out) >= MAX_FINDINGS:
                break
            named = _selected(path, rules.path_args, _PATH_KEYS, _PATH_PARTS)
            # under path_roots (and no path_args), a value shaped as a path is read whatever its name
            if not named and not (roots is not None and rules.path_args is None and _paths.looks_like_path(value)):
                continue
            v = value.strip()
            if "\x00" in v:
                out.append(self.finding("tool_policy", score=0.95, severity=Severity.HIGH,
                                        message=f"NUL byte in path argument {quoted(path)}"))
                continue
            if not v or has_scheme(v):  # a URL: the URL rules read it
                continue
            if len(v) > _paths.MAX_PATH_CHARS:
                if roots is not None:
                    out.append(self.finding("tool_policy", score=1.0, severity=Severity.HIGH,
                                            message=f"path {quoted(path)} is longer than any OS accepts"))
                continue
            unix = v.replace("\\", "/")
            traversal = ".." in unix.split("/")
            if roots is not None:
                if _paths.expands(v):
                    out.append(self.finding(
                        "tool_policy", score=1.0, severity=Severity.HIGH,
                        message=f"path {quoted(path)} starts with '~' or names a variable: the tool decides where it "
                                "goes"))
                    continue
                if _paths.outside(v, roots):
                    out.append(self.finding(
                        "tool_policy", score=1.0, severity=Severity.HIGH,
                        message=f"path {quoted(path)} resolves outside the allowed roots"
                                + (" (traversal)" if traversal else "")))
                    continue
                if rules.resolve_links and _paths.leaves_through_links(v, roots):
                    out.append(self.finding(
                        "tool_policy", score=1.0, severity=Severity.HIGH,
                        message=f"path {quoted(path)} leads outside the allowed roots through a symbolic link"))
                    continue
            if _SENSITIVE_PATHS.search(posixpath.normpath(urllib.parse.unquote(unix))):
                out.append(self.finding("tool_policy", score=0.85 if traversal else 0.7, severity=Severity.HIGH,
                                        message=f"path {quoted(path)} points at a sensitive file"))
            elif traversal and roots is None:
                out.append(self.finding("tool_policy", score=0.55, severity=Severity.MEDIUM,
                                        message=f"path {quoted(path)} climbs out of its directory ('..')"))
        return out

    # -- SQL -----------------------------------------------------------------------------------
    def _sql_rules(self, name: str, rules: ToolRules, strings: list[tuple[str, str]]) -> list[Finding]:
        allowed = {v.upper() for v in rules.sql_allowed_verbs} if rules.sql_allowed_verbs is not None else None
        if rules.sql_args is None and allowed is None and not _tool_kind(name)[1]:
            return []
        out: list[Finding] = []
        budget = self._sql_max_chars
        for path, value in strings:
            if len(out) >= MAX_FINDINGS:
                break
            if not _selected(path, rules.sql_args, _SQL_KEYS, _SQL_PARTS) or not value.strip():
                continue
            if len(value) > budget:
                out.append(self.finding(
                    "tool_policy", score=1.0 if allowed is not None else 0.6, severity=Severity.HIGH,
                    message=f"SQL in {quoted(path)} is longer than the {self._sql_max_chars} characters read per call"))
                budget = 0
                continue
            budget -= len(value)
            out.extend(self._sql_findings(path, value, allowed))
        return out

    def _sql_findings(self, path: str, sql: str, allowed: set[str] | None) -> list[Finding]:
        reading = _sql.read_sql(sql)
        out: list[Finding] = []
        if not reading.complete:
            out.append(self.finding(
                "tool_policy", score=1.0 if allowed is not None else 0.6, severity=Severity.HIGH,
                message=f"SQL in {quoted(path)} has more than {_sql.MAX_STATEMENTS} statements: not all were read"))
        for stmt in reading.statements:
            if allowed is not None:
                refused = [v for v in stmt.verbs() if v not in allowed]
                if refused:
                    verb = "a quoted name" if refused[0] == "'" else refused[0]
                    out.append(self.finding("tool_policy", score=1.0, severity=Severity.HIGH,
                                            message=f"SQL {verb} in {quoted(path)} is not an allowed verb"))
                    continue
            if self._builtin_sql:
                why = next((w for w in (c.destructive() for c in stmt.clauses) if w), None)
                if why:
                    out.append(self.finding("tool_policy", score=0.9, severity=Severity.CRITICAL,
                                            message=f"{why} in {quoted(path)}"))
        if reading.count > 1 and self._builtin_sql and allowed is None and reading.sql_shaped > 1:
            out.append(self.finding("tool_policy", score=0.55, severity=Severity.MEDIUM,
                                    message=f"stacked SQL statements ({reading.count}) in {quoted(path)}"))
        return out
