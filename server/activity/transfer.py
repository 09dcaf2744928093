"""Moving activity between stores: a SQLite file into PostgreSQL when a team adds replicas,
and back. ``kb activity export`` writes a store's searches, clicks and feedback as JSON
Lines; ``kb activity import`` adds them to another store and checks the counts.

The file ends with a line giving each table's count, so a truncated file is refused before
anything is written. Importing is idempotent (rows already present are kept, once), so an
import that was interrupted can simply run again. Sign-ins are not moved: they last a
shift, and whoever is signed in signs in again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .database import Database

FORMAT = "kb-search activity"
TABLES: dict[str, tuple[str, ...]] = {
    "searches": ("id", "at", "visitor", "role", "source", "query", "normalised", "total", "shown"),
    "clicks": ("search_id", "article_id", "rank", "at"),
    "feedback": ("article_id", "voter", "helpful", "comment", "at", "client"),
}
BATCH = 1000


class TransferError(Exception):
    """The file is not an export, is cut short, or its counts do not add up."""


@dataclass(frozen=True)
class TableCount:
    table: str
    in_file: int
    added: int
    in_store: int  # rows in the store afterwards

    @property
    def already_there(self) -> int:
        return self.in_file - self.added


def export(database: Database, out: IO[str]) -> dict[str, int]:
    """Write every row of the store to ``out``; the rows written per table."""
    counts = {}
    with database.connect(wait=True) as connection:
        out.write(json.dumps({"format": FORMAT, "version": 1}) + "\n")
        for table, columns in TABLES.items():
            rows = connection.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY at")
            counts[table] = 0
            for row in rows:
                out.write(json.dumps({"table": table, "row": list(row)}) + "\n")
                counts[table] += 1
    out.write(json.dumps({"counts": counts}) + "\n")
    return counts


def _read(path: Path) -> dict[str, list[list[Any]]]:
    rows: dict[str, list[list[Any]]] = {table: [] for table in TABLES}
    counts = None
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TransferError(f"{path}:{number}: not JSON ({exc.msg})") from None
            if number == 1:
                if not isinstance(item, dict) or item.get("format") != FORMAT:
                    raise TransferError(f"{path} is not a kb activity export")
            elif "counts" in item:
                counts = item["counts"]
            elif item.get("table") in TABLES and len(item.get("row", ())) == len(
                TABLES[item["table"]]
            ):
                rows[item["table"]].append(item["row"])
            else:
                raise TransferError(f"{path}:{number}: not a row of a known table")
    if counts is None:
        raise TransferError(f"{path} is cut short: its closing line with the counts is missing")
    found = {table: len(found) for table, found in rows.items()}
    if found != {table: counts.get(table, 0) for table in TABLES}:
        raise TransferError(f"{path} holds {found} rows but says it holds {counts}")
    return rows


def import_file(database: Database, path: Path) -> list[TableCount]:
    """Add the rows of an export to the store, in one transaction; the counts per table.
    Raises :class:`TransferError` when the file or the counts after it do not add up."""
    rows = _read(path)
    result = []
    with database.connect(wait=True) as connection, connection.transaction("activity"):
        for table, columns in TABLES.items():
            (before,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
            marks = ", ".join("?" for _ in columns)
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
                "ON CONFLICT DO NOTHING"
            )
            for chunk in _chunks(rows[table]):
                connection.executemany(sql, chunk)
            (after,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
            count = TableCount(table, len(rows[table]), int(after) - int(before), int(after))
            if not 0 <= count.added <= count.in_file:
                raise TransferError(f"{table}: {count.added} rows added from {count.in_file}")
            result.append(count)
    return result


def _chunks(rows: list[list[Any]]) -> Iterator[list[list[Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]
