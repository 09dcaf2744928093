"""The activity store over a real SQLite file: events, refinements, feedback, failures."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from server.activity import (
    Activity,
    ActivityUnavailable,
    ClickEvent,
    FeedbackLimited,
    SearchEvent,
)


def search(
    activity: Activity,
    query: str,
    visitor: str = "v1",
    total: int = 3,
    at: float | None = None,
    source: str = "page",
) -> str:
    search_id = f"{abs(hash((query, visitor, at))):016x}"[:16]
    activity.record(
        SearchEvent(
            search_id,
            at or time.time(),
            visitor,
            "anonymous",
            source,
            query,
            total,
            ("KB-1", "KB-2"),
        )
    )
    return search_id


def queries(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [r[0] for r in connection.execute("SELECT query FROM searches ORDER BY at")]


def test_search_as_you_type_counts_as_one_search(tmp_path: Path) -> None:
    activity = Activity(tmp_path / "a.db")
    now = time.time()
    for offset, typed in enumerate(("kerb", "kerber", "kerberos", "kerberos clock")):
        search(activity, typed, at=now + offset)
    search(activity, "kerberos", visitor="someone else", at=now)
    search(activity, "vpn", at=now + 5)  # a new query, not a refinement
    assert activity.flush()
    assert sorted(queries(tmp_path / "a.db")) == ["kerberos", "kerberos clock", "vpn"]


def test_a_clicked_search_is_kept_when_the_visitor_types_on(tmp_path: Path) -> None:
    activity = Activity(tmp_path / "a.db")
    now = time.time()
    first = search(activity, "outlook", at=now)
    activity.record(ClickEvent(first, "KB-1", 1, now + 1))
    search(activity, "outlook password", at=now + 2)
    assert activity.flush()
    assert queries(tmp_path / "a.db") == ["outlook", "outlook password"]


def test_the_same_query_later_is_a_new_search(tmp_path: Path) -> None:
    activity = Activity(tmp_path / "a.db")
    now = time.time()
    search(activity, "vpn", at=now)
    search(activity, "vpn", at=now + 60)
    assert activity.flush()
    assert queries(tmp_path / "a.db") == ["vpn", "vpn"]


def test_a_double_click_counts_once_and_a_new_mind_replaces_the_vote(tmp_path: Path) -> None:
    activity = Activity(tmp_path / "a.db")
    assert activity.feedback("KB-1", "v1", "c1", helpful=False, comment="step 3 is wrong") is True
    assert activity.feedback("KB-1", "v1", "c1", helpful=False) is False
    assert activity.votes("KB-1") == (0, 1)
    activity.feedback("KB-1", "v1", "c1", helpful=True)
    activity.feedback("KB-1", "v2", "c2", helpful=True)
    assert activity.votes("KB-1") == (2, 0)
    with activity.reading() as connection:
        (comment,) = connection.execute(
            "SELECT comment FROM feedback WHERE voter = 'v1'"
        ).fetchone()
    assert comment == "step 3 is wrong"  # a vote without a comment keeps the earlier one


def test_feedback_is_rate_limited_per_visitor(tmp_path: Path) -> None:
    activity = Activity(tmp_path / "a.db", feedback_per_hour=3)
    for n in range(3):
        activity.feedback(f"KB-{n}", "v1", "c1", helpful=True)
    with pytest.raises(FeedbackLimited):
        activity.feedback("KB-9", "v1", "c1", helpful=True)
    activity.feedback("KB-0", "v1", "c1", helpful=False)  # changing a vote is not more feedback
    activity.feedback("KB-9", "v2", "c2", helpful=True)  # others are not affected


def test_feedback_is_rate_limited_per_client_address_whoever_the_visitor(tmp_path: Path) -> None:
    activity = Activity(tmp_path / "a.db", feedback_per_hour=3)
    for n in range(3):
        activity.feedback("KB-1", f"new-visitor-{n}", "c1", helpful=False)
    with pytest.raises(FeedbackLimited):
        activity.feedback("KB-1", "yet-another-visitor", "c1", helpful=False)
    assert activity.votes("KB-1") == (0, 3)


def test_a_store_made_before_client_addresses_were_kept_takes_feedback(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as connection:
        connection.executescript(
            "CREATE TABLE feedback (article_id TEXT NOT NULL, voter TEXT NOT NULL, "
            "helpful INTEGER NOT NULL, comment TEXT NOT NULL DEFAULT '', at REAL NOT NULL, "
            "PRIMARY KEY (article_id, voter));"
            f"INSERT INTO feedback VALUES ('KB-1', 'v0', 1, '', {time.time()});"
        )
    activity = Activity(path)
    assert activity.problem is None
    assert activity.feedback("KB-1", "v1", "c1", helpful=False) is True
    assert activity.votes("KB-1") == (1, 1)


def test_an_unwritable_store_is_reported_and_searches_go_on(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    activity = Activity(blocker / "activity.db")
    assert activity.problem and "cannot be written" in activity.problem
    search(activity, "vpn")  # dropped quietly
    assert activity.flush()
    with pytest.raises(ActivityUnavailable):
        activity.feedback("KB-1", "v1", "c1", helpful=True)


def test_old_events_are_pruned(tmp_path: Path) -> None:
    activity = Activity(tmp_path / "a.db", retention_days=1)
    search(activity, "ancient", at=time.time() - 3 * 86_400)
    search(activity, "recent")
    assert activity.flush()
    assert queries(tmp_path / "a.db") == ["recent"]
