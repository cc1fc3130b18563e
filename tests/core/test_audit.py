"""Flight recorder: the hash chain catches every kind of tampering; concurrent writers lose nothing."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from airs_plugins import AuditError
from airs_plugins.audit import MemoryRecorder, SQLiteRecorder, verify, verify_jsonl


def fill(path: Path, n: int = 10, key: str | None = None) -> SQLiteRecorder:
    rec = SQLiteRecorder(path, key=key)
    for i in range(n):
        rec.append("decision", {"correlation_id": f"c{i}", "run_id": "r", "action": "allow", "i": i})
    return rec


def db(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


class TestTamper:
    def test_clean_chain_verifies(self, tmp_path: Path) -> None:
        """An untouched trail verifies and reports its head hash."""
        p = tmp_path / "a.db"
        rec = fill(p)
        r = verify(p)
        assert r.ok and r.count == 10 and r.head_hash == rec.tail(1)[0].hash

    def test_edited_row(self, tmp_path: Path) -> None:
        """Editing a record's content is caught at that record."""
        p = tmp_path / "a.db"
        fill(p)
        with db(p) as c:
            row = c.execute("SELECT entry FROM audit WHERE seq = 4").fetchone()[0]
            c.execute("UPDATE audit SET entry = ? WHERE seq = 4", (row.replace('"allow"', '"block"'),))
        r = verify(p)
        assert not r.ok and r.first_bad_seq == 4 and "edited" in r.problem

    def test_deleted_row(self, tmp_path: Path) -> None:
        """Deleting a record in the middle is caught at the gap."""
        p = tmp_path / "a.db"
        fill(p)
        with db(p) as c:
            c.execute("DELETE FROM audit WHERE seq = 5")
        r = verify(p)
        assert not r.ok and r.first_bad_seq == 5

    def test_swapped_pair(self, tmp_path: Path) -> None:
        """Swapping the contents of two adjacent records is caught."""
        p = tmp_path / "a.db"
        fill(p)
        with db(p) as c:
            a = c.execute("SELECT hash, entry FROM audit WHERE seq = 3").fetchone()
            b = c.execute("SELECT hash, entry FROM audit WHERE seq = 4").fetchone()
            c.execute("UPDATE audit SET hash = ?, entry = ? WHERE seq = 3", b)
            c.execute("UPDATE audit SET hash = ?, entry = ? WHERE seq = 4", a)
        r = verify(p)
        assert not r.ok and r.first_bad_seq == 3

    def test_inserted_row(self, tmp_path: Path) -> None:
        """A forged record appended outside the recorder is caught by the head."""
        p = tmp_path / "a.db"
        fill(p, 3)
        with db(p) as c:
            c.execute("INSERT INTO audit (seq, hash, entry, kind, ts) VALUES (4, 'x', '{\"seq\":4}', 'decision', 0)")
        assert not verify(p).ok

    def test_truncated_tail(self, tmp_path: Path) -> None:
        """Deleting the newest records is caught by the head row."""
        p = tmp_path / "a.db"
        fill(p)
        with db(p) as c:
            c.execute("DELETE FROM audit WHERE seq > 7")
        r = verify(p)
        assert not r.ok and "head" in r.problem

    def test_rehashed_forgery_needs_the_key(self, tmp_path: Path) -> None:
        """With an HMAC key, a forger who recomputes plain SHA-256 hashes is still caught."""
        import hashlib

        from airs_plugins._canonical import canonical_json

        p = tmp_path / "a.db"
        fill(p, 3, key="k1")
        assert verify(p, key="k1").ok
        with db(p) as c:
            entry = json.loads(c.execute("SELECT entry FROM audit WHERE seq = 3").fetchone()[0])
            entry["body"]["action"] = "block"
            h = hashlib.sha256(canonical_json(entry)).hexdigest()
            c.execute("UPDATE audit SET entry = ?, hash = ? WHERE seq = 3", (json.dumps(entry), h))
            c.execute("UPDATE audit_head SET last_hash = ?", (h,))
        assert not verify(p, key="k1").ok

    def test_a_keyed_export_verifies_against_its_head(self, tmp_path: Path) -> None:
        """The head a caller gives is theirs to vouch for: a keyed export ending there verifies, one cut short
        does not."""
        rec = fill(tmp_path / "a.db", 4, key="k1")
        records = list(rec.records())
        rec.close()
        out = tmp_path / "x.jsonl"
        out.write_text("".join(r.to_json() + "\n" for r in records), encoding="utf-8")
        head = (records[-1].seq, records[-1].hash)
        assert verify(out, key="k1", head=head).ok
        out.write_text("".join(r.to_json() + "\n" for r in records[:3]), encoding="utf-8")
        assert verify(out, key="k1").ok and not verify(out, key="k1", head=head).ok

    def test_keyed_truncation_with_the_head_mac_cleared(self, tmp_path: Path) -> None:
        """With a key, dropping the newest rows and clearing the head's MAC (which only the key holder can
        write) is caught: the rows left are validly keyed, so the unsigned head is what gives it away."""
        p = tmp_path / "a.db"
        fill(p, 5, key="k1")
        with db(p) as c:
            last = c.execute("SELECT hash FROM audit WHERE seq = 3").fetchone()[0]
            c.execute("DELETE FROM audit WHERE seq > 3")
            c.execute("UPDATE audit_head SET count = 3, last_hash = ?, mac = NULL", (last,))
        r = verify(p, key="k1")
        assert not r.ok and "not signed" in r.problem

    def test_jsonl_export_verifies_and_catches_edits(self, tmp_path: Path) -> None:
        """The JSONL export verifies on its own and an edited line is caught."""
        p = tmp_path / "a.db"
        rec = fill(p, 5)
        out = tmp_path / "a.jsonl"
        out.write_text("".join(r.to_json() + "\n" for r in rec.records()), encoding="utf-8")
        assert verify_jsonl(out).ok
        lines = out.read_text(encoding="utf-8").splitlines()
        lines[2] = lines[2].replace('"c2"', '"cX"')
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        r = verify_jsonl(out)
        assert not r.ok and r.first_bad_seq == 3

    @pytest.mark.parametrize("line", ["{not json", '{"seq": 3, "hash": "00", "entry": [1]}',
                                      '{"seq": 3, "entry": {}}', "[1, 2]"])
    def test_jsonl_damaged_line_is_a_failed_verification(self, tmp_path: Path, line: str) -> None:
        """A line of an export that is not a record is tampering at that record, not an exception."""
        rec = fill(tmp_path / "a.db", 5)
        lines = [r.to_json() for r in rec.records()]
        lines[2] = line
        out = tmp_path / "a.jsonl"
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        r = verify_jsonl(out)
        assert not r.ok and r.first_bad_seq == 3 and r.count == 2

    @pytest.mark.parametrize("sql", [
        "UPDATE audit SET entry = replace(entry, '\"i\":2', '\"i\":NaN') WHERE seq = 3",
        "UPDATE audit SET entry = '[1, 2]' WHERE seq = 3",
        "UPDATE audit_head SET count = 'ten'",
    ])
    def test_sqlite_damaged_row_is_a_failed_verification(self, tmp_path: Path, sql: str) -> None:
        """A record that JSON cannot canonicalise (NaN), that is not an object, or a head that is not a
        count, fails verification instead of raising out of it."""
        p = tmp_path / "a.db"
        fill(p, 5)
        with db(p) as c:
            assert c.execute(sql).rowcount == 1
        assert not verify(p).ok

    @pytest.mark.parametrize("name", ["trail#2.db", "trail?x=1.db", "trail%23.db"])
    def test_verify_reads_the_file_named(self, tmp_path: Path, name: str) -> None:
        """A '#', '?' or '%' in the path does not make verify read another file (here the untampered 'trail')."""
        fill(tmp_path / "trail", 5)
        p = tmp_path / name
        fill(p, 5)
        with db(p) as c:
            c.execute("""UPDATE audit SET entry = replace(entry, '"c2"', '"cX"') WHERE seq = 3""")
        r = verify(p)
        assert not r.ok and r.first_bad_seq == 3

    def test_missing_file(self, tmp_path: Path) -> None:
        """Verifying a file that does not exist is an AuditError, not a traceback."""
        with pytest.raises(AuditError):
            verify(tmp_path / "none.db")

    def test_memory_recorder_chain(self) -> None:
        """The in-memory recorder builds the same verifiable chain."""
        rec = MemoryRecorder(verify_each=True)
        for i in range(20):
            rec.append("decision", {"i": i})
        assert rec.verify().ok and len(rec) == 20


def _writer(path: str, n: int, tag: str) -> None:
    rec = SQLiteRecorder(path)
    for i in range(n):
        rec.append("decision", {"correlation_id": f"{tag}-{i}", "run_id": tag})
    rec.close()


class TestConcurrency:
    def test_four_processes_times_500(self, tmp_path: Path) -> None:
        """4 processes × 500 decisions written at once give a clean chain of exactly 2,000 records."""
        p = str(tmp_path / "c.db")
        SQLiteRecorder(p).close()
        ctx = multiprocessing.get_context("spawn")
        procs = [ctx.Process(target=_writer, args=(p, 500, f"p{k}")) for k in range(4)]
        for pr in procs:
            pr.start()
        for pr in procs:
            pr.join(timeout=300)
            assert pr.exitcode == 0
        r = verify(p)
        assert r.ok and r.count == 2000
        with db(Path(p)) as c:
            ids = {row[0] for row in c.execute("SELECT correlation_id FROM audit")}
        assert len(ids) == 2000

    def test_verify_reads_one_snapshot_of_a_live_trail(self, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
        """A record appended by a live recorder while the trail is being verified (here: right after the head
        is read) is not mistaken for rows added behind the head's back: head and rows come from one snapshot."""
        from airs_plugins.audit import _sqlite

        p = tmp_path / "a.db"
        rec = fill(p, 5)

        class AppendsAfterTheHead(sqlite3.Connection):
            def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
                cursor = super().execute(sql, *args)
                if "FROM audit_head" in sql:
                    row = cursor.fetchone()
                    rec.append("decision", {"i": "meanwhile"})
                    cursor = super().execute("SELECT ?, ?, ?", row)
                return cursor

        monkeypatch.setattr(_sqlite, "_connect_ro", lambda path: sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, timeout=30, factory=AppendsAfterTheHead))
        r = verify(p)
        assert r.ok and r.count == 5, str(r)
        monkeypatch.undo()
        assert verify(p).count == 6

    def test_threads_share_one_recorder(self, tmp_path: Path) -> None:
        """8 threads appending through one recorder lose nothing."""
        p = tmp_path / "t.db"
        rec = SQLiteRecorder(p)
        threads = [threading.Thread(target=lambda k=k: [rec.append("decision", {"k": k, "i": i})
                                                         for i in range(50)]) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        r = verify(p)
        assert r.ok and r.count == 400


class TestCli:
    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "airs_plugins", *args], capture_output=True, text=True,
                              timeout=120, check=False)

    def test_verify_exit_codes(self, tmp_path: Path) -> None:
        """airs audit verify exits 0 on a clean trail and 1 naming the first bad record."""
        p = tmp_path / "a.db"
        fill(p, 4).close()
        ok = self.run("audit", "verify", str(p))
        assert ok.returncode == 0 and "OK: 4 records" in ok.stdout
        with db(p) as c:
            c.execute("DELETE FROM audit WHERE seq = 2")
        bad = self.run("audit", "verify", str(p))
        assert bad.returncode == 1 and "record 2" in bad.stderr

    def test_verify_says_whether_it_checked_with_the_key(self, tmp_path: Path) -> None:
        """An OK without the key only says the chain is whole (a keyed trail rewritten unkeyed passes it): the
        output says which check it was."""
        import os

        p = tmp_path / "a.db"
        fill(p, 2).close()
        env = {k: v for k, v in os.environ.items() if k != "AIRS_AUDIT_KEY"}
        plain = subprocess.run([sys.executable, "-m", "airs_plugins", "audit", "verify", str(p)], capture_output=True,
                               text=True, timeout=120, check=False, env=env)
        assert plain.returncode == 0 and "without a key" in plain.stdout
        as_json = subprocess.run([sys.executable, "-m", "airs_plugins", "audit", "verify", "--json", str(p)],
                                 capture_output=True, text=True, timeout=120, check=False,
                                 env={**env, "AIRS_AUDIT_KEY": "k"})
        assert json.loads(as_json.stdout)["keyed"] is True

    def test_tail_and_export(self, tmp_path: Path) -> None:
        """tail prints the newest records; export --jsonl writes every record, which then verifies."""
        p = tmp_path / "a.db"
        fill(p, 6).close()
        tail = self.run("audit", "tail", str(p), "-n", "2")
        assert tail.returncode == 0 and len(tail.stdout.strip().splitlines()) == 2
        out = tmp_path / "x.jsonl"
        exp = self.run("audit", "export", str(p), "--jsonl", "-o", str(out))
        assert exp.returncode == 0 and len(out.read_text(encoding="utf-8").splitlines()) == 6
        assert self.run("audit", "verify", str(out)).returncode == 0

    def test_tail_refuses_a_negative_count(self, tmp_path: Path) -> None:
        """`tail -n -1` listed the whole trail from its first record (a slice from the end, read backwards): a
        count below 0 is a usage error; 0 lists nothing."""
        p = tmp_path / "a.db"
        fill(p, 6).close()
        bad = self.run("audit", "tail", str(p), "-n", "-1")
        assert bad.returncode == 2 and bad.stdout == "" and "-n" in bad.stderr
        none = self.run("audit", "tail", str(p), "-n", "0")
        assert none.returncode == 0 and none.stdout == ""

    @pytest.mark.parametrize("action", ["tail", "export"])
    def test_reading_a_trail_writes_nothing_to_it(self, tmp_path: Path, action: str) -> None:
        """What is read may be evidence: tail and export leave the file as it was (they opened it as a recorder,
        which adds the schema and switches it to WAL), and a SQLite file that is not a trail gets no tables."""
        p = tmp_path / "a.db"
        fill(p, 3).close()
        with db(p) as c:
            c.execute("PRAGMA journal_mode=DELETE")
        before = p.read_bytes()
        assert self.run("audit", action, str(p)).returncode == 0
        assert p.read_bytes() == before
        assert not (tmp_path / "a.db-wal").exists()
        other = tmp_path / "other.db"
        with db(other) as c:
            c.execute("CREATE TABLE notes (x TEXT)")
        r = self.run("audit", action, str(other))
        assert r.returncode == 2 and "no such table: audit" in r.stderr and "Traceback" not in r.stderr
        with db(other) as c:
            assert [n for (n,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["notes"]

    def test_a_damaged_record_is_exported_as_damaged(self, tmp_path: Path) -> None:
        """tail shows it, and the export fails verification at that record instead of stopping the export."""
        p = tmp_path / "a.db"
        fill(p, 3).close()
        with db(p) as c:
            c.execute("UPDATE audit SET entry = 'not json' WHERE seq = 2")
        tail = self.run("audit", "tail", str(p))
        assert tail.returncode == 0 and "(damaged)" in tail.stdout
        out = tmp_path / "x.jsonl"
        assert self.run("audit", "export", str(p), "-o", str(out)).returncode == 0
        assert len(out.read_text(encoding="utf-8").splitlines()) == 3
        bad = self.run("audit", "verify", str(out))
        assert bad.returncode == 1 and "record 2" in bad.stderr

    def test_a_truncated_export_fails_against_the_head_export_printed(self, tmp_path: Path) -> None:
        """An export has no head: without one, dropping its newest lines leaves a valid chain. export prints
        the head to keep, and verify --head fails a shorter file."""
        p = tmp_path / "a.db"
        fill(p, 5).close()
        out = tmp_path / "x.jsonl"
        exp = self.run("audit", "export", str(p), "-o", str(out))
        head = exp.stderr.split("--head ")[1].split()[0]
        assert head.startswith("5:")
        assert self.run("audit", "verify", str(out), "--head", head).returncode == 0
        out.write_text("".join(out.read_text(encoding="utf-8").splitlines(keepends=True)[:4]), encoding="utf-8")
        assert self.run("audit", "verify", str(out)).returncode == 0  # why the head is needed
        cut = self.run("audit", "verify", str(out), "--head", head)
        assert cut.returncode == 1 and "head says 5 records" in cut.stderr
        on_sqlite = self.run("audit", "verify", str(p), "--head", head)
        assert on_sqlite.returncode == 2 and "JSONL export only" in on_sqlite.stderr

    def test_a_file_that_cannot_be_opened_is_one_line_with_exit_2(self, tmp_path: Path) -> None:
        """Exit 1 means the trail failed verification: a JSONL export that is missing or is a directory, or an
        export written where no file can be made, is an error of its own (2, one line), never a traceback."""
        fill(tmp_path / "a.db", 2).close()
        (tmp_path / "dir.jsonl").mkdir()
        for args in (("audit", "verify", str(tmp_path / "missing.jsonl")),
                     ("audit", "verify", str(tmp_path / "dir.jsonl")),
                     ("audit", "export", str(tmp_path / "a.db"), "-o", str(tmp_path / "no" / "such" / "x.jsonl"))):
            r = self.run(*args)
            assert r.returncode == 2, (args, r.stderr)
            assert r.stderr.startswith("airs: ") and len(r.stderr.strip().splitlines()) == 1, r.stderr

    def test_tail_missing_file_is_one_line(self, tmp_path: Path) -> None:
        """A missing audit file is a one-line error with exit 2."""
        r = self.run("audit", "tail", str(tmp_path / "missing.db"))
        assert r.returncode == 2 and "no audit database" in r.stderr and "Traceback" not in r.stderr
