"""`kb activity export` / `import`: a SQLite store moved into PostgreSQL and back, counts and
rows equal; a truncated file refused; an import run twice adds nothing the second time."""

from __future__ import annotations

import time
from contextlib import closing
from pathlib import Path

from click.testing import CliRunner

from server.activity import Activity, ClickEvent, Database, SearchEvent
from server.activity.transfer import TABLES
from server.cli import main


def filled_store(path: Path) -> Activity:
    activity = Activity(Database(path))
    now = time.time() - 3600
    for n in range(40):
        search_id = f"{n:016x}"
        activity.record(
            SearchEvent(
                search_id,
                now + n * 10,
                f"v{n % 7}",
                "tier1",
                "help",
                f"vpn {n}",
                n % 3,
                ("KB-1", "KB-2"),
            )
        )
        if n % 4 == 0:
            activity.record(ClickEvent(search_id, "KB-1", 1, now + n * 10 + 2))
    assert activity.flush()
    for n in range(9):
        activity.feedback(f"KB-{n % 3}", f"voter {n}", f"client {n}", n % 2 == 0, f"note {n}")
    return activity


def rows(location: str | Path) -> dict[str, list[tuple]]:
    database = Database(location)
    with closing(database), database.connect() as connection:
        return {
            table: sorted(
                tuple(row) for row in connection.execute(f"SELECT {', '.join(cols)} FROM {table}")
            )
            for table, cols in TABLES.items()
        }


def kb(*args: str) -> str:
    result = CliRunner().invoke(main, ["activity", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_store_goes_to_postgresql_and_back_with_every_row(
    tmp_path: Path, postgres_url: str
) -> None:
    original = tmp_path / "one-machine.sqlite3"
    filled_store(original)
    before = rows(original)
    assert {table: len(found) for table, found in before.items()} == {
        "searches": 40,
        "clicks": 10,
        "feedback": 9,
    }

    printed = kb("export", "--db", str(original), str(tmp_path / "out.jsonl"))
    assert "40 searches, 10 clicks, 9 feedback" in printed
    printed = kb("import", "--db", postgres_url, str(tmp_path / "out.jsonl"))
    assert "searches: 40 in the file, 40 added, 0 already there; 40 in" in printed
    assert rows(postgres_url) == before

    kb("export", "--db", postgres_url, str(tmp_path / "back.jsonl"))
    kb("import", "--db", str(tmp_path / "back.sqlite3"), str(tmp_path / "back.jsonl"))
    assert rows(tmp_path / "back.sqlite3") == before


def test_importing_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    filled_store(tmp_path / "a.sqlite3")
    kb("export", "--db", str(tmp_path / "a.sqlite3"), str(tmp_path / "out.jsonl"))
    kb("import", "--db", str(tmp_path / "b.sqlite3"), str(tmp_path / "out.jsonl"))
    again = kb("import", "--db", str(tmp_path / "b.sqlite3"), str(tmp_path / "out.jsonl"))
    assert "clicks: 10 in the file, 0 added, 10 already there; 10 in" in again
    assert rows(tmp_path / "b.sqlite3") == rows(tmp_path / "a.sqlite3")


def test_a_file_cut_short_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    filled_store(tmp_path / "a.sqlite3")
    kb("export", "--db", str(tmp_path / "a.sqlite3"), str(tmp_path / "out.jsonl"))
    lines = (tmp_path / "out.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "cut.jsonl").write_text("".join(lines[: len(lines) // 2]))
    result = CliRunner().invoke(
        main,
        ["activity", "import", "--db", str(tmp_path / "b.sqlite3"), str(tmp_path / "cut.jsonl")],
    )
    assert result.exit_code != 0 and "cut short" in result.output
    assert rows(tmp_path / "b.sqlite3") == {table: [] for table in TABLES}


def test_exporting_a_store_that_is_not_there_says_so(tmp_path: Path) -> None:
    missing = tmp_path / "typo.sqlite3"
    result = CliRunner().invoke(
        main, ["activity", "export", "--db", str(missing), str(tmp_path / "out.jsonl")]
    )
    assert result.exit_code != 0 and "no activity store" in result.output
    assert not missing.exists() and not (tmp_path / "out.jsonl").exists()
