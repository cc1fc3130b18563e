"""Argument rules checked before a tool runs (MASO EC-1.2, EC-1.8, EC-2.2, DP-2.1).

From ``policy.tools[name].rules``: path roots and traversal, URL schemes and domain allow/deny
lists, private-network (SSRF) denial, SQL statement classes and extra shell deny patterns. Built in,
with no rules configured:

* shell deny patterns (pipe-to-shell, ``rm -rf /``, reverse shells, fork bombs, disk wipes…) on the
  command-like arguments of tools that look like shells (by name, or an argument named ``cmd``,
  ``command``, ``script``…);
* SSRF denial for every URL argument: loopback, private, link-local and cloud-metadata addresses,
  including decimal/hex/octal/short IPv4 spellings and IPv4-mapped IPv6;
* non-web schemes (``file:``, ``gopher:``, ``dict:``…) outside ``allowed_schemes``;
* traversal to well-known sensitive files;
* destructive SQL (DROP/TRUNCATE, DELETE/UPDATE without WHERE) for tools that look like SQL runners;
* values read from untrusted content appearing in a URL's query string (exfiltration by URL).
"""

from __future__ import annotations

import ipaddress
import posixpath
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import Any

from .._decision import Action, Channel, Finding, Severity, Subject
from .._policy import CheckConfig, Policy, ToolRules
from .._taint import extract_values, normalise
from ._base import BaseCheck
from ._regex import PatternSet, compile_re2
from ._registry import register_check

_MAX_ARGS = 2000
_MAX_DEPTH = 32

_SHELL_TOOL = compile_re2(r"(?:^|[_\-.])(?:shell|bash|sh|zsh|exec|execute|terminal|cmd|command|commands|"
                          r"run_command|run_shell|powershell|pwsh|subprocess|system|console|os_command)(?:$|[_\-.])")
_SHELL_KEYS = frozenset({"cmd", "command", "commands", "script", "shell", "cmdline", "command_line", "bash",
                         "sh", "run"})
_SQL_TOOL = compile_re2(r"(?:sql|db|database|query|postgres|mysql|sqlite)")
_SQL_KEYS = frozenset({"sql", "query", "statement", "stmt", "q"})
_URL_KEYS = frozenset({"url", "uri", "link", "href", "endpoint", "webhook", "src", "source_url", "target_url",
                       "callback", "callback_url", "image_url", "feed_url", "location"})
_PATH_KEYS = frozenset({"path", "file", "filename", "file_path", "filepath", "dir", "directory", "folder",
                        "dest", "destination", "src_path", "target", "output", "output_path", "input_path"})

SHELL_DENY: tuple[tuple[str, str, float], ...] = (
    ("pipe_to_shell", r"\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:/usr)?(?:/bin/)?(?:ba|z|da|k|c|tc|fi|a)?sh\b(?:\s+-s)?", 0.95),
    ("pipe_to_interpreter", r"(?:curl|wget|fetch|iwr|invoke-webrequest|nc)\b[^|;&\n]*\|\s*(?:sudo\s+)?"
                            r"(?:python[0-9.]*|perl|ruby|node|php|iex|invoke-expression)\b", 0.95),
    ("process_substitution", r"(?:ba|z)?sh\s+<\(\s*(?:curl|wget)|\$\(\s*(?:curl|wget)\b|`\s*(?:curl|wget)\b|"
                             r"\beval\s+[\"']?\$\(", 0.9),
    ("rm_root", r"\brm\s+(?:-{1,2}[A-Za-z\-]+\s+)*-{1,2}(?:[A-Za-z]*[rR][A-Za-z]*|recursive)\s+"
                r"(?:-{1,2}[A-Za-z\-]+\s+)*"
                r"(?:--no-preserve-root\s+)?[\"']?(?:/|/\*|~|~/|~/\*|\$HOME|\$\{HOME\}|\.\.?/?\*?|/(?:etc|usr|var|"
                r"home|bin|boot|lib|opt|root|srv|sys)/?\*?)[\"']?(?:\s|$|;|&|\|)", 0.95),
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
    ("download_exec", r"(?:curl|wget)\b[^;&|\n]*(?:-o|-O|--output)\s*\S+\s*(?:&&|;)\s*(?:chmod\s+\+x|"
                      r"(?:ba|z)?sh\s|\./)", 0.85),
    ("crontab_persist", r"\bcrontab\s+-r\b|\(crontab\s+-l[^\n]{0,80}\)\s*\|\s*crontab", 0.7),
    ("kill_all", r"\bkill\s+-9\s+-1\b|\bkillall5\b|\bshutdown\s+(?:-h\s+)?now\b|\breboot\b|\bhalt\b", 0.7),
)
_SENSITIVE_PATHS = compile_re2(r"(?:^|/)(?:etc/(?:shadow|passwd|sudoers)|\.ssh/|\.aws/|\.env\b|\.git/config|"
                               r"\.netrc|id_rsa|\.kube/|proc/self/)")
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com",
                             "169.254.169.254", "fd00:ec2::254", "100.100.100.200"})
_DANGEROUS_SCHEMES = frozenset({"file", "gopher", "dict", "ldap", "ldaps", "tftp", "jar", "netdoc", "php", "data",
                                "expect", "phar", "smb", "sftp", "ftp"})


def iter_strings(value: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """(dotted path, string) pairs in nested arguments; numbers are not paths/URLs/commands."""
    stack: list[tuple[str, Any, int]] = [(path, value, depth)]
    count = 0
    while stack and count < _MAX_ARGS:
        p, v, d = stack.pop()
        if isinstance(v, str):
            count += 1
            yield p, v
        elif d >= _MAX_DEPTH:
            continue
        elif isinstance(v, dict):
            for k, x in v.items():
                stack.append((f"{p}.{k}" if p else str(k), x, d + 1))
        elif isinstance(v, (list, tuple)):
            for i, x in enumerate(v[:_MAX_ARGS]):
                stack.append((f"{p}[{i}]", x, d + 1))


def _leaf(path: str) -> str:
    leaf = path.rsplit(".", 1)[-1]
    return leaf.split("[", 1)[0].lower()


def _selected(path: str, names: list[str] | None, default_keys: frozenset[str]) -> bool:
    if names is not None:
        return path in names or _leaf(path) in names
    return _leaf(path) in default_keys


def parse_ip_host(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parse a URL host as an IP, including decimal, hex, octal and short IPv4 forms."""
    h = host.strip("[]").lower().rstrip(".")
    if not h:
        return None
    try:
        ip = ipaddress.ip_address(h.split("%", 1)[0])
    except ValueError:
        pass
    else:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        return ip
    parts = h.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    nums: list[int] = []
    for part in parts:
        try:
            if part.startswith("0x"):
                nums.append(int(part, 16))
            elif len(part) > 1 and part.startswith("0"):
                nums.append(int(part, 8))
            else:
                nums.append(int(part, 10))
        except ValueError:
            return None
    # inet_aton rules: the last part fills the remaining bytes
    value = 0
    for n in nums[:-1]:
        if n > 255:
            return None
        value = value * 256 + n
    rest = 4 - (len(nums) - 1)
    if nums[-1] >= 256 ** rest:
        return None
    value = value * (256 ** rest) + nums[-1]
    try:
        return ipaddress.IPv4Address(value)
    except ValueError:
        return None


def private_host(host: str) -> str | None:
    """Why ``host`` is internal (loopback, private, metadata…), or None when it looks public."""
    h = host.strip("[]").lower().rstrip(".")
    if h in _METADATA_HOSTS:
        return "cloud metadata endpoint"
    if h == "localhost" or h.endswith((".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa")):
        return "local host name"
    ip = parse_ip_host(h)
    if ip is None:
        return None
    if str(ip) in _METADATA_HOSTS:
        return "cloud metadata endpoint"
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address"
    if ip.is_private or ip.is_reserved or ip.is_unspecified or ip.is_multicast:
        return "private network address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.IPv4Network("100.64.0.0/10"):
        return "carrier-grade NAT address"
    return None


def _domain_match(host: str, domains: Sequence[str]) -> bool:
    h = host.lower().rstrip(".")
    for domain in domains:
        d = domain.lower().lstrip("*").lstrip(".")
        if h == d or h.endswith("." + d):
            return True
    return False


_URL_START = compile_re2(r"^[a-z][a-z0-9+.\-]{0,30}://")
_SQL_COMMENT = compile_re2(r"--[^\n]*|/\*(?s:.*?)\*/")
_SQL_STRING = compile_re2(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


def sql_statements(sql: str) -> list[str]:
    cleaned = _SQL_STRING.sub("''", _SQL_COMMENT.sub(" ", sql))
    return [s.strip() for s in cleaned.split(";") if s.strip()]


def sql_verb(stmt: str) -> str:
    words = stmt.split()
    if not words:
        return ""
    verb = words[0].upper().strip("(")
    if verb == "WITH":  # a CTE: the verb is the first top-level DML keyword after it
        for w in words[1:]:
            u = w.upper().strip("(")
            if u in ("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"):
                return u
    return verb


@register_check("tool.rules")
class ToolRulesCheck(BaseCheck):
    """Per-tool argument rules and the built-in shell/SSRF/SQL/path defaults.

    Options: ``shell_builtin`` (default true), ``ssrf_builtin`` (default true), ``sql_builtin``
    (default true), ``query_taint`` (default true: untrusted values in URL query strings need approval).
    """

    id = "tool.rules"
    channels = frozenset({Channel.TOOL_CALL})
    maso = ("EC-1.2", "EC-1.8", "EC-2.2")
    attack_categories = frozenset({"exfiltration"})

    def __init__(self, config: CheckConfig, policy: Policy) -> None:
        super().__init__(config, policy)
        self._shell = PatternSet((k, p) for k, p, _w in SHELL_DENY)
        self._shell_weight = {k: w for k, _p, w in SHELL_DENY}
        self._custom_shell: dict[str, PatternSet] = {}
        for name, tool in policy.tools.items():
            if tool.rules.shell_deny:
                self._custom_shell[name] = PatternSet(
                    (f"policy[{i}]", p) for i, p in enumerate(tool.rules.shell_deny))
        self._builtin_shell = bool(self.options.get("shell_builtin", True))
        self._builtin_ssrf = bool(self.options.get("ssrf_builtin", True))
        self._builtin_sql = bool(self.options.get("sql_builtin", True))
        self._query_taint = bool(self.options.get("query_taint", True))

    def run(self, subject: Subject) -> Sequence[Finding]:
        name = subject.tool_name or ""
        tool = self.policy.tool(name)
        rules = tool.rules
        args = subject.tool_args or {}
        strings = list(iter_strings(args))
        out: list[Finding] = []
        out.extend(self._shell_rules(name, rules, strings))
        out.extend(self._url_rules(subject, rules, strings))
        out.extend(self._path_rules(rules, strings))
        out.extend(self._sql_rules(name, rules, strings))
        return out

    # -- shell ---------------------------------------------------------------------------------
    def _shell_rules(self, name: str, rules: ToolRules, strings: list[tuple[str, str]]) -> list[Finding]:
        shell_tool = bool(_SHELL_TOOL.search(name.lower())) or rules.shell_args is not None
        targets = [(p, s) for p, s in strings if _selected(p, rules.shell_args, _SHELL_KEYS)]
        if shell_tool and not targets and rules.shell_args is None:
            targets = strings
        if not targets:
            return []
        out: list[Finding] = []
        custom = self._custom_shell.get(name)
        for path, cmd in targets:
            collapsed = " ".join(cmd.split())
            if self._builtin_shell:
                for key in self._shell.keys_hit(collapsed):
                    w = self._shell_weight[key]
                    out.append(self.finding(
                        "tool_policy", score=w, severity=Severity.CRITICAL if w >= 0.9 else Severity.HIGH,
                        maso=("EC-1.2", "EC-2.2"), message=f"shell argument {path!r} matches {key.replace('_', ' ')}"))
            if custom is not None:
                for key in custom.keys_hit(collapsed):
                    out.append(self.finding(
                        "tool_policy", score=1.0, severity=Severity.HIGH, maso=("EC-1.2",),
                        message=f"shell argument {path!r} matches the policy's shell_deny {key}"))
        return out

    # -- URLs ----------------------------------------------------------------------------------
    def _url_rules(self, subject: Subject, rules: ToolRules, strings: list[tuple[str, str]]) -> list[Finding]:
        out: list[Finding] = []
        for path, value in strings:
            v = value.strip()
            looks_like_url = bool(_URL_START.match(v))
            if not v or not (looks_like_url or _selected(path, rules.url_args, _URL_KEYS)):
                continue
            if len(v) > 8192:
                v = v[:8192]
            try:
                parsed = urllib.parse.urlsplit(v if looks_like_url else "http://" + v)
                host = parsed.hostname or ""
            except ValueError:
                out.append(self.finding("tool_policy", score=0.6, severity=Severity.MEDIUM,
                                        message=f"argument {path!r} is not a parsable URL"))
                continue
            scheme = parsed.scheme.lower()
            allowed_schemes = [s.lower() for s in rules.allowed_schemes]
            if scheme not in allowed_schemes:
                score = 0.95 if scheme in _DANGEROUS_SCHEMES else 0.85
                out.append(self.finding("tool_policy", score=score, severity=Severity.HIGH, maso=("EC-1.2",),
                                        message=f"URL scheme {scheme!r} in {path!r} is not allowed"))
                continue
            if rules.denied_domains and _domain_match(host, rules.denied_domains):
                out.append(self.finding("tool_policy", score=1.0, severity=Severity.HIGH,
                                        message=f"host {host!r} in {path!r} is on the deny list"))
                continue
            if rules.allowed_domains is not None and not _domain_match(host, rules.allowed_domains):
                out.append(self.finding("tool_policy", score=1.0, severity=Severity.HIGH,
                                        message=f"host {host!r} in {path!r} is not on the allow list"))
                continue
            if self._builtin_ssrf and not rules.allow_private_network:
                why = private_host(host)
                if why:
                    out.append(self.finding("tool_policy", score=0.95, severity=Severity.CRITICAL,
                                            maso=("EC-1.2", "EC-2.2"),
                                            message=f"{path!r} targets a {why} ({host!r}): SSRF denied"))
                    continue
            if self._query_taint and parsed.query:
                leak = self._tainted_query(subject, parsed.query)
                if leak:
                    out.append(self.finding(
                        "exfiltration", score=0.9, severity=Severity.HIGH, action=Action.REQUIRE_APPROVAL,
                        maso=("DP-2.1", "PG-1.4"),
                        message=f"query string of {path!r} carries {leak} value(s) read from untrusted content"))
        return out

    @staticmethod
    def _tainted_query(subject: Subject, query: str) -> int:
        ctx = subject.context
        if not ctx.observations:
            return 0
        read: set[str] = set()
        for obs in ctx.observations:
            read.update(obs.values)
        user = extract_values(ctx.user_goal or "")
        values: set[str] = set()
        for _k, val in urllib.parse.parse_qsl(query, keep_blank_values=False):
            values |= extract_values(val)
            n = normalise(val)
            if len(n) >= 5:
                values.add(n)
        return len((values & read) - user)

    # -- paths ---------------------------------------------------------------------------------
    def _path_rules(self, rules: ToolRules, strings: list[tuple[str, str]]) -> list[Finding]:
        out: list[Finding] = []
        roots = [posixpath.normpath(r) for r in rules.path_roots] if rules.path_roots else None
        for path, value in strings:
            if not _selected(path, rules.path_args, _PATH_KEYS):
                continue
            v = value.strip().replace("\\", "/")
            if not v or "://" in v[:64] or "\x00" in v:
                if "\x00" in v:
                    out.append(self.finding("tool_policy", score=0.95, severity=Severity.HIGH,
                                            message=f"NUL byte in path argument {path!r}"))
                continue
            parts = v.split("/")
            traversal = ".." in parts
            if roots is not None:
                base = roots[0]
                resolved = posixpath.normpath(v if v.startswith("/") else posixpath.join(base, v))
                inside = any(resolved == r or resolved.startswith(r.rstrip("/") + "/") for r in roots)
                if not inside:
                    out.append(self.finding(
                        "tool_policy", score=1.0, severity=Severity.HIGH,
                        message=f"path {path!r} resolves outside the allowed roots"
                                + (" (traversal)" if traversal else "")))
                    continue
            if _SENSITIVE_PATHS.search(posixpath.normpath(v) if v else v):
                out.append(self.finding("tool_policy", score=0.85 if traversal else 0.7, severity=Severity.HIGH,
                                        message=f"path {path!r} points at a sensitive file"))
            elif traversal and roots is None:
                out.append(self.finding("tool_policy", score=0.55, severity=Severity.MEDIUM,
                                        message=f"path {path!r} climbs out of its directory ('..')"))
        return out

    # -- SQL -----------------------------------------------------------------------------------
    def _sql_rules(self, name: str, rules: ToolRules, strings: list[tuple[str, str]]) -> list[Finding]:
        sqlish = rules.sql_args is not None or rules.sql_allowed_verbs is not None or bool(
            _SQL_TOOL.search(name.lower()))
        if not sqlish:
            return []
        allowed = {v.upper() for v in rules.sql_allowed_verbs} if rules.sql_allowed_verbs is not None else None
        out: list[Finding] = []
        for path, value in strings:
            if not _selected(path, rules.sql_args, _SQL_KEYS):
                continue
            stmts = sql_statements(value)
            for stmt in stmts[:50]:
                verb = sql_verb(stmt)
                upper = " ".join(stmt.upper().split())
                if allowed is not None and verb not in allowed:
                    out.append(self.finding("tool_policy", score=1.0, severity=Severity.HIGH,
                                            message=f"SQL {verb or '?'} in {path!r} is not an allowed verb"))
                    continue
                if not self._builtin_sql:
                    continue
                if verb in ("DROP", "TRUNCATE") or upper.startswith(("ALTER TABLE", "GRANT", "REVOKE")):
                    out.append(self.finding("tool_policy", score=0.9, severity=Severity.CRITICAL,
                                            message=f"destructive SQL {verb} in {path!r}"))
                elif verb in ("DELETE", "UPDATE") and " WHERE " not in f" {upper} ":
                    out.append(self.finding("tool_policy", score=0.9, severity=Severity.CRITICAL,
                                            message=f"SQL {verb} without WHERE in {path!r}"))
            if len(stmts) > 1 and self._builtin_sql and allowed is None:
                out.append(self.finding("tool_policy", score=0.55, severity=Severity.MEDIUM,
                                        message=f"stacked SQL statements ({len(stmts)}) in {path!r}"))
        return out
