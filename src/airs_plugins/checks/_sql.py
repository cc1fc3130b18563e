"""What a SQL string would do: its statements, and the verbs each would run.

Read the way a database reads it, with strings, quoted names and comments lexed in one pass, so that
``SELECT '--'; DROP TABLE users`` is two statements and ``SELECT 'a; DROP TABLE b'`` one. Dialects
disagree on exactly what hides text: a backslash escapes a quote in MySQL and not in SQLite, ``#``
starts a comment in MySQL only, PostgreSQL and SQL Server nest ``/* */``, PostgreSQL has ``$$``
strings, MySQL runs the inside of ``/*! … */``. The tool's database is not known, so the text is read
under each dialect whose marks it contains, and a caller sees the statements of every reading: what
would be hidden from one reading is code in another.

The verbs of a statement are its first word, and each clause's: a CTE's main statement
(``WITH x AS (…) DELETE …``), a data-modifying CTE (``AS (DELETE … RETURNING *)``), the statement an
``EXPLAIN`` runs, and ``SELECT … INTO`` (a write) reported as ``SELECT INTO``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# statements a clause inside parentheses can start (a CTE's body, a subquery)
_CLAUSE_VERBS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "UPSERT", "DROP", "TRUNCATE",
                           "ALTER", "CREATE", "GRANT", "REVOKE", "COPY", "CALL", "EXEC", "EXECUTE", "WITH"})
# what WITH and EXPLAIN lead to
_MAIN_VERBS = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "UPSERT", "VALUES", "TABLE"})
_DROP_OBJECTS = frozenset({"TABLE", "DATABASE", "SCHEMA", "VIEW", "INDEX", "USER", "ROLE", "FUNCTION", "PROCEDURE",
                           "TRIGGER", "SEQUENCE", "TYPE", "OWNED", "COLUMN", "EXTENSION", "MATERIALIZED",
                           "TEMPORARY", "TEMP", "IF", "CONSTRAINT", "KEYSPACE", "COLLECTION"})
_TRUNCATE_OPTIONS = frozenset({"TABLE", "ONLY", "RESTART", "CONTINUE", "IDENTITY", "CASCADE", "RESTRICT"})
_ALTER_OBJECTS = frozenset({"TABLE", "DATABASE", "SCHEMA", "USER", "ROLE", "SYSTEM"})
MAX_STATEMENTS = 64
MAX_DEPTH = 32


@dataclass(frozen=True)
class _Dialect:
    backslash: bool = False  # \' inside a string (MySQL; PostgreSQL without standard_conforming_strings)
    hash_comments: bool = False  # "# to the end of the line" (MySQL)
    bang: bool = False  # /*! … */ is code (MySQL)
    nested: bool = False  # /* /* */ */ nests (PostgreSQL, SQL Server)
    dollar: bool = False  # $tag$ … $tag$ strings (PostgreSQL)

    def on(self, sql: str) -> _Dialect:
        """This dialect with the features ``sql`` gives no occasion to use turned off: two dialects
        that are the same on a text read it the same."""
        return _Dialect(backslash=self.backslash and "\\" in sql,
                        hash_comments=self.hash_comments and "#" in sql,
                        bang=self.bang and "/*!" in sql,
                        nested=self.nested and sql.count("/*") > 1,
                        dollar=self.dollar and "$" in sql)


_ANSI = _Dialect()
_DIALECTS = (
    _ANSI,  # SQLite, ANSI
    _Dialect(backslash=True, hash_comments=True, bang=True),  # MySQL, MariaDB
    _Dialect(nested=True, dollar=True),  # PostgreSQL
    _Dialect(nested=True, dollar=True, backslash=True),  # PostgreSQL, E'' strings / legacy escapes
    _Dialect(nested=True),  # SQL Server
)


@dataclass
class Clause:
    """One statement or parenthesised clause: its words at its own level."""

    words: list[str]

    def verbs(self) -> list[str]:
        if not self.words:
            return []
        first = self.words[0]
        if first in ("WITH", "EXPLAIN"):
            main = next((w for w in self.words[1:] if w in _MAIN_VERBS), None)
            verbs = [first] if first == "EXPLAIN" else []
            return [*verbs, self._into(main)] if main else [first]
        return [self._into(first)]

    def _into(self, verb: str) -> str:
        return "SELECT INTO" if verb == "SELECT" and "INTO" in self.words else verb

    def destructive(self) -> str | None:
        """Why this clause destroys data (``DROP TABLE``, ``DELETE`` without ``WHERE``…), read only
        when it is shaped as SQL: "delete account instructions" and "Update on the roadmap" are not."""
        w = self.words
        verbs = self.verbs()
        verb = verbs[-1] if verbs else ""
        if verb == "DROP" and len(w) > 1 and w[1] in _DROP_OBJECTS:
            return f"destructive SQL DROP {w[1]}"
        if verb == "TRUNCATE" and self._truncate_shaped():
            return "destructive SQL TRUNCATE"
        if verb == "ALTER" and len(w) > 1 and w[1] in _ALTER_OBJECTS:
            return f"destructive SQL ALTER {w[1]}"
        if (verb == "GRANT" and "TO" in w) or (verb == "REVOKE" and "FROM" in w):
            return f"destructive SQL {verb}"
        level = w[w.index(verb) + 1:] if verb in w else []
        if verb == "DELETE" and "FROM" in level and "WHERE" not in level:
            return "SQL DELETE without WHERE"
        if verb == "UPDATE" and "SET" in level and "WHERE" not in level:
            return "SQL UPDATE without WHERE"
        return None

    def _truncate_shaped(self) -> bool:
        names = [x for x in self.words[1:] if x not in _TRUNCATE_OPTIONS and x != ","]
        return "TABLE" in self.words[1:2] or len(names) <= self.words.count(",") + 1


@dataclass
class Statement:
    clauses: list[Clause]

    def verbs(self) -> list[str]:
        """Every verb this statement runs, the statement's own first."""
        out: list[str] = []
        for clause in self.clauses:
            for verb in clause.verbs():
                if verb not in out:
                    out.append(verb)
        return out


@dataclass(frozen=True)
class Reading:
    statements: list[Statement]
    """Every statement of every reading, de-duplicated."""
    count: int
    """The most statements one reading found."""
    complete: bool
    """False when a reading stopped at :data:`MAX_STATEMENTS`: what follows was not read."""

    @property
    def sql_shaped(self) -> int:
        """How many statements start with a SQL verb ("update policy for remote work; holidays" has one)."""
        return sum(1 for s in self.statements if s.clauses and s.clauses[0].words[0] in _CLAUSE_VERBS)


def read_sql(sql: str) -> Reading:
    """The statements of ``sql`` under every dialect whose marks it contains."""
    out: list[Statement] = []
    seen: set[tuple[tuple[str, ...], ...]] = set()
    count, complete = 0, True
    for dialect in dict.fromkeys(d.on(sql) for d in _DIALECTS):
        found, whole = _read(sql, dialect)
        count, complete = max(count, len(found)), complete and whole
        for stmt in found:
            key = tuple(tuple(c.words) for c in stmt.clauses)
            if key not in seen:
                seen.add(key)
                out.append(stmt)
    return Reading(out, count, complete)


@cache
def _lexer(d: _Dialect) -> re.Pattern[str]:
    # every repetition is possessive and every token can always end (an unterminated string or comment
    # runs to the end), so the scan is linear: no input makes it backtrack
    esc = r"|\\(?s:.)|\\\Z" if d.backslash else ""
    no_bs = "\\\\" if d.backslash else ""
    parts = []
    if d.bang:
        parts.append(r"(?P<bang>/\*!\d*+|\*/)")
    parts.append(r"(?P<line>--[^\n]*+" + (r"|\#[^\n]*+" if d.hash_comments else "") + ")")
    parts.append(r"(?P<nest>/\*)" if d.nested else r"(?P<block>/\*(?:[^*]++|\*(?!/))*+(?:\*/|\Z))")
    parts.append(rf"(?P<str>'(?:[^'{no_bs}]++|''{esc})*+(?:'|\Z))")
    parts.append(rf"(?P<ident>\"(?:[^\"{no_bs}]++|\"\"{esc})*+(?:\"|\Z)|`(?:[^`]++|``)*+(?:`|\Z))")
    if d.dollar:
        parts.append(r"(?P<dollar>\$(?:[^\W\d]\w*+)?\$)")
    # a run of words, numbers, commas and characters that cannot start a token above, in one match; its
    # words are then split out in C
    excluded = "'\"`;()\\-/*" + ("#" if d.hash_comments else "") + ("$" if d.dollar else "")
    absorbed = [r"-(?!-)", r"/(?!\*)", r"\\", r"\*(?!/)" if d.bang else r"\*"]
    if not d.hash_comments:
        absorbed.append("#")
    if d.dollar:
        absorbed.append(r"\$(?!(?:[^\W\d]\w*+)?\$)")
    parts.append(rf"(?P<code>(?:[^{re.escape(excluded)}]++|{'|'.join(absorbed)})++)")
    parts.append(r"(?P<open>\(++)|(?P<close>\)++)|(?P<semi>;)")
    parts.append(r"(?P<other>(?s:.))")
    return re.compile("|".join(parts))


_NEST = re.compile(r"/\*|\*/")
_WORDS = re.compile(r"[^\W\d]\w*+|,")


def _read(sql: str, d: _Dialect) -> tuple[list[Statement], bool]:
    """The statements of one reading, and whether it reached the end of ``sql``."""
    lexer = _lexer(d)
    done: list[Statement] = []
    # the open clauses, outermost first: their words, and whether a "(" came before the first word
    stack: list[list[str]] = [[]]
    lead_paren = False
    inner: list[list[str]] = []  # closed clauses that start with a statement verb
    overflow = 0  # "(" past MAX_DEPTH: their words go to the deepest clause kept
    pos, n = 0, len(sql)
    while pos < n:
        m = lexer.match(sql, pos)
        assert m is not None  # "other" matches any character
        kind, pos = m.lastgroup, m.end()
        if kind == "code":
            stack[-1].extend(_WORDS.findall(m.group().upper()))
        elif kind == "open":
            if len(stack) == 1 and not stack[0]:
                lead_paren = True
            for _ in range(len(m.group())):
                if len(stack) < MAX_DEPTH:
                    stack.append([])
                else:
                    overflow += 1
        elif kind == "close":
            for _ in range(len(m.group())):
                if overflow:
                    overflow -= 1
                elif len(stack) > 1:
                    words = stack.pop()
                    if words and words[0] in _CLAUSE_VERBS:
                        inner.append(words)
        elif kind == "semi":
            _end(done, stack, inner, lead_paren)
            if len(done) >= MAX_STATEMENTS:
                return done, not sql[pos:].strip()
            stack, inner, lead_paren, overflow = [[]], [], False, 0
        elif kind == "str":
            stack[-1].append("'")
        elif kind == "nest":
            depth = 1
            while depth:
                c = _NEST.search(sql, pos)
                if c is None:
                    pos = n
                    break
                depth += 1 if c.group() == "/*" else -1
                pos = c.end()
        elif kind == "dollar":
            close = sql.find(m.group(), pos)
            pos = n if close < 0 else close + len(m.group())
    _end(done, stack, inner, lead_paren)
    return done, True


def _end(done: list[Statement], stack: list[list[str]], inner: list[list[str]], lead_paren: bool) -> None:
    """Close the statement: the outermost clause first (its first word is the statement's verb unless a
    parenthesis came before it), then every clause that starts with a verb."""
    for words in stack[:0:-1]:
        if words and words[0] in _CLAUSE_VERBS:
            inner.append(words)
    top = stack[0]
    clauses = [Clause(top)] if top and (not lead_paren or top[0] in _CLAUSE_VERBS) else []
    clauses.extend(Clause(words) for words in inner)
    if clauses:
        done.append(Statement(clauses))
