"""The activity store over a real SQLite file and a real PostgreSQL database: events,
refinements, feedback, migrations and failures."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from benchmarks.postgres import PostgresServer
from server.activity import (
    Activity,
    ActivityUnavailable,
    ClickEvent,
    Database,
    FeedbackLimited,
    SearchEvent,
)
from server.activity.migrations import LATEST


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


def queries(activity: Activity) -> list[str]:
    with activity.reading() as connection:
        return [r[0] for r in connection.execute("SELECT query FROM searches ORDER BY at")]


def made_by_an_earlier_release(path: Path, script: str) -> Path:
    """A SQLite store as an earlier release left it (tables made by ``script``)."""
    with closing(sqlite3.connect(path)) as connection:
        connection.executescript(script)
    return path


@pytest.fixture
def store(activity_location: str, open_database: Callable[[str | Path], Database]) -> Activity:
    return Activity(open_database(activity_location))


def test_search_as_you_type_counts_as_one_search(store: Activity) -> None:
    activity = store
    now = time.time()
    for offset, typed in enumerate(("kerb", "kerber", "kerberos", "kerberos clock")):
        search(activity, typed, at=now + offset)
    search(activity, "kerberos", visitor="someone else", at=now)
    search(activity, "vpn", at=now + 5)  # a new query, not a refinement
    assert activity.flush()
    assert sorted(queries(activity)) == ["kerberos", "kerberos clock", "vpn"]


def test_a_clicked_search_is_kept_when_the_visitor_types_on(store: Activity) -> None:
    activity = store
    now = time.time()
    first = search(activity, "outlook", at=now)
    activity.record(ClickEvent(first, "KB-1", 1, now + 1))
    search(activity, "outlook password", at=now + 2)
    assert activity.flush()
    assert queries(activity) == ["outlook", "outlook password"]


def test_the_same_query_later_is_a_new_search(store: Activity) -> None:
    activity = store
    now = time.time()
    search(activity, "vpn", at=now)
    search(activity, "vpn", at=now + 60)
    assert activity.flush()
    assert queries(activity) == ["vpn", "vpn"]


def test_a_double_click_counts_once_and_a_new_mind_replaces_the_vote(store: Activity) -> None:
    activity = store
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


def test_feedback_is_rate_limited_per_visitor(
    activity_location: str, open_database: Callable[[str | Path], Database]
) -> None:
    activity = Activity(open_database(activity_location), feedback_per_hour=3)
    for n in range(3):
        activity.feedback(f"KB-{n}", "v1", "c1", helpful=True)
    with pytest.raises(FeedbackLimited):
        activity.feedback("KB-9", "v1", "c1", helpful=True)
    activity.feedback("KB-0", "v1", "c1", helpful=False)  # changing a vote is not more feedback
    activity.feedback("KB-9", "v2", "c2", helpful=True)  # others are not affected


def test_feedback_is_rate_limited_per_client_address_whoever_the_visitor(
    activity_location: str, open_database: Callable[[str | Path], Database]
) -> None:
    activity = Activity(open_database(activity_location), feedback_per_hour=3)
    for n in range(3):
        activity.feedback("KB-1", f"new-visitor-{n}", "c1", helpful=False)
    with pytest.raises(FeedbackLimited):
        activity.feedback("KB-1", "yet-another-visitor", "c1", helpful=False)
    assert activity.votes("KB-1") == (0, 3)


def test_a_store_made_before_client_addresses_were_kept_takes_feedback(
    tmp_path: Path, open_database: Callable[[str | Path], Database]
) -> None:
    path = made_by_an_earlier_release(
        tmp_path / "old.db",
        "CREATE TABLE feedback (article_id TEXT NOT NULL, voter TEXT NOT NULL, "
        "helpful INTEGER NOT NULL, comment TEXT NOT NULL DEFAULT '', at REAL NOT NULL, "
        "PRIMARY KEY (article_id, voter));"
        f"INSERT INTO feedback VALUES ('KB-1', 'v0', 1, '', {time.time()});",
    )
    activity = Activity(open_database(path))
    assert activity.problem is None
    assert activity.feedback("KB-1", "v1", "c1", helpful=False) is True
    assert activity.votes("KB-1") == (1, 1)


def test_an_unwritable_store_is_reported_and_searches_go_on(
    tmp_path: Path, open_database: Callable[[str | Path], Database]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    activity = Activity(open_database(blocker / "activity.db"))
    assert activity.problem and "cannot be written" in activity.problem
    search(activity, "vpn")  # dropped quietly
    assert activity.flush()
    with pytest.raises(ActivityUnavailable):
        activity.feedback("KB-1", "v1", "c1", helpful=True)


def test_old_events_are_pruned(
    activity_location: str, open_database: Callable[[str | Path], Database]
) -> None:
    activity = Activity(open_database(activity_location), retention_days=1)
    search(activity, "ancient", at=time.time() - 3 * 86_400)
    search(activity, "recent")
    assert activity.flush()
    assert queries(activity) == ["recent"]


def test_keystrokes_answered_by_different_replicas_fold_into_one_search(
    activity_location: str, open_database: Callable[[str | Path], Database]
) -> None:
    # a balancer sends each keystroke's search to either replica; each writes on its own
    first, second = (
        Activity(open_database(activity_location)),
        Activity(open_database(activity_location)),
    )
    now = time.time()
    search(first, "kerb", at=now)
    search(second, "kerber", at=now + 0.4)
    assert second.flush()  # the later keystroke reaches the store first
    assert first.flush()
    search(first, "kerberos", at=now + 0.9)
    search(second, "vpn", visitor="another visitor", at=now + 1)
    assert first.flush() and second.flush()
    assert sorted(queries(first)) == ["kerberos", "vpn"]


def test_feedback_and_its_limit_count_across_replicas(
    activity_location: str, open_database: Callable[[str | Path], Database]
) -> None:
    replicas = [Activity(open_database(activity_location), feedback_per_hour=3) for _ in range(2)]
    assert replicas[0].feedback("KB-1", "v1", "c1", helpful=True) is True
    assert replicas[1].feedback("KB-1", "v1", "c1", helpful=True) is False  # same vote
    replicas[1].feedback("KB-2", "v1", "c1", helpful=True)
    replicas[0].feedback("KB-3", "v1", "c1", helpful=False)
    with pytest.raises(FeedbackLimited):
        replicas[1].feedback("KB-4", "v1", "c1", helpful=True)
    assert replicas[0].votes("KB-1") == (1, 0)


def test_replicas_starting_together_apply_each_migration_once(
    activity_location: str, open_database: Callable[[str | Path], Database]
) -> None:
    databases = [open_database(activity_location) for _ in range(6)]
    failures: list[BaseException] = []

    def start(database: Database) -> None:
        try:
            with database.connect(wait=True):
                pass
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(d,)) for d in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with databases[0].connect() as connection:
        versions = [r[0] for r in connection.execute("SELECT version FROM schema_migrations")]
    assert sorted(versions) == list(range(1, LATEST + 1))


def test_a_store_from_before_migrations_keeps_its_rows(
    tmp_path: Path, open_database: Callable[[str | Path], Database]
) -> None:
    path = made_by_an_earlier_release(
        tmp_path / "release-1.sqlite3",
        "CREATE TABLE searches (id TEXT PRIMARY KEY, at REAL NOT NULL, visitor TEXT NOT "
        "NULL, role TEXT NOT NULL, source TEXT NOT NULL, query TEXT NOT NULL, normalised "
        "TEXT NOT NULL, total INTEGER NOT NULL, shown TEXT NOT NULL);"
        "CREATE TABLE clicks (search_id TEXT NOT NULL, article_id TEXT NOT NULL, rank "
        "INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (search_id, article_id));"
        "CREATE TABLE feedback (article_id TEXT NOT NULL, voter TEXT NOT NULL, helpful "
        "INTEGER NOT NULL, comment TEXT NOT NULL DEFAULT '', at REAL NOT NULL, client TEXT "
        "NOT NULL DEFAULT '', PRIMARY KEY (article_id, voter));"
        "CREATE TABLE failed_signins (client TEXT NOT NULL, at REAL NOT NULL);"
        f"INSERT INTO searches VALUES ('s1', {time.time()}, 'v', 'anonymous', 'page', "
        "'vpn', 'vpn', 2, '[]');"
        f"INSERT INTO feedback VALUES ('KB-1', 'v0', 1, '', {time.time()}, 'c0');",
    )
    activity = Activity(open_database(path))
    assert queries(activity) == ["vpn"]
    assert activity.votes("KB-1") == (1, 0)
    assert activity.feedback("KB-1", "v1", "c1", helpful=False) is True


def test_a_database_that_is_down_delays_no_request_and_loses_no_queued_event(
    postgres: PostgresServer, postgres_url: str, open_database: Callable[[str | Path], Database]
) -> None:
    activity = Activity(open_database(postgres_url))
    search(activity, "before the outage")
    assert activity.flush()
    postgres.stop()
    try:
        now = time.time()
        for n in range(20):
            search(activity, f"during the outage {n}", visitor=f"v{n}", at=now + n)
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(ActivityUnavailable):
                activity.votes("KB-1")
            assert time.monotonic() - started < 2.0  # a page waits this long at most
        started = time.monotonic()
        with pytest.raises(ActivityUnavailable):
            activity.votes("KB-1")
        assert time.monotonic() - started < 0.05  # known down: no wait at all
        assert not activity.flush(timeout=1.0)
        assert activity.dropped == 0
    finally:
        postgres.start()
    assert activity.flush(timeout=20.0)
    assert len(queries(activity)) == 21 and activity.dropped == 0


def test_past_the_queue_limit_events_are_dropped_and_counted(
    postgres: PostgresServer, postgres_url: str, open_database: Callable[[str | Path], Database]
) -> None:
    activity = Activity(open_database(postgres_url), queue_limit=5)
    search(activity, "first")
    assert activity.flush()
    postgres.stop()
    try:
        now = time.time()
        for n in range(40):
            search(activity, f"query {n}", visitor=f"v{n}", at=now + n)
        time.sleep(0.5)
        assert 0 < activity.dropped <= 40 - 5
    finally:
        postgres.start()
    assert activity.flush(timeout=20.0)
    assert len(queries(activity)) == 1 + 40 - activity.dropped


def test_a_postgresql_password_never_appears_in_messages() -> None:
    database = Database("postgresql://kb:s3cret-pass@db.example.com:5433/activity")
    assert database.where == "postgresql://kb@db.example.com:5433/activity"
