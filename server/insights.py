"""What the team needs to know about the knowledge base, from the activity store and the index.

Each report is a :class:`Table` (column names and rows), so the page and its CSV export show
the same thing. Searches count from the search page, the self-service page and the API;
"no click" only from the two pages, since an API caller's clicks are never seen.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from indexer import CatalogueEntry, KnowledgeBase

from .activity import Activity
from .activity.database import Connection
from .activity.store import REPORT_SECONDS
from .auth import EVERYTHING
from .charts import Series, daily_chart

PAGE_SOURCES = ("page", "help")  # people at the search and self-service pages
_PEOPLE = "s.source IN ({})".format(", ".join(f"'{s}'" for s in PAGE_SOURCES))
ROW_LIMIT = 50  # rows shown per table on the page; the CSV has them all


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Period:
    days: int
    today: dt.date

    @property
    def start(self) -> float:
        first = self.today - dt.timedelta(days=self.days - 1)
        return dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC).timestamp()

    @property
    def dates(self) -> list[dt.date]:
        return [self.today - dt.timedelta(days=n) for n in range(self.days - 1, -1, -1)]


def _per_day(connection: Connection, sql: str, period: Period) -> dict[str, tuple]:
    day = connection.dialect.day("at")
    return {row[0]: row[1:] for row in connection.execute(sql.format(day=day), (period.start,))}


def charts(connection: Connection, period: Period) -> list[str]:
    """Searches (and those with no result), clicks and feedback per day, as SVG."""
    searches = _per_day(
        connection,
        "SELECT {day}, count(*), count(*) FILTER (WHERE total = 0) FROM searches s "
        f"WHERE at >= ? AND {_PEOPLE} GROUP BY 1",
        period,
    )
    clicks = _per_day(
        connection,
        "SELECT {day}, count(*) FROM clicks WHERE at >= ? GROUP BY 1",
        period,
    )
    votes = _per_day(
        connection,
        "SELECT {day}, sum(helpful), count(*) - sum(helpful) FROM feedback "
        "WHERE at >= ? GROUP BY 1",
        period,
    )
    days = period.dates
    keys = [d.isoformat() for d in days]

    def column(found: dict[str, tuple], index: int) -> list[int]:
        return [int(found.get(key, (0, 0))[index] or 0) for key in keys]

    return [
        daily_chart(
            days,
            [
                Series("Searches", column(searches, 0), "s-searches"),
                Series("No results", column(searches, 1), "s-zero"),
                Series("Result clicks", column(clicks, 0), "s-clicks"),
            ],
            title="Searches per day",
        ),
        daily_chart(
            days,
            [
                Series("Helpful", column(votes, 0), "s-helpful"),
                Series("Not helpful", column(votes, 1), "s-unhelpful"),
            ],
            title="Feedback per day",
        ),
    ]


_CLICKED = "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.id))"
_QUERY_REPORT = f"""
SELECT s.normalised, count(*) AS searches, avg(s.total), {_CLICKED}, max(s.at)
FROM searches s WHERE s.at >= ? {{where}}
GROUP BY s.normalised {{having}}
ORDER BY searches DESC, max(s.at) DESC
"""
_QUERY_COLUMNS = ("query", "searches", "average results", "searches with a click", "last searched")


def _query_rows(connection: Connection, period: Period, where: str, having: str = "") -> list:
    rows = connection.execute(_QUERY_REPORT.format(where=where, having=having), (period.start,))
    return [
        (query, int(count), round(float(average), 1), int(clicked), _utc(last))
        for query, count, average, clicked, last in rows
    ]


def _utc(unix_time: float) -> str:
    return dt.datetime.fromtimestamp(unix_time, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def top_queries(connection: Connection, period: Period) -> Table:
    return Table(
        "Top queries",
        _QUERY_COLUMNS,
        _query_rows(connection, period, f"AND {_PEOPLE}"),
        note="What people searched on the search and self-service pages.",
    )


def zero_results(connection: Connection, period: Period) -> Table:
    return Table(
        "Queries with no results",
        _QUERY_COLUMNS,
        _query_rows(connection, period, f"AND s.total = 0 AND {_PEOPLE}"),
        note="Content gaps: what people looked for and the knowledge base does not have.",
    )


def api_queries(connection: Connection, period: Period) -> Table:
    return Table(
        "Searches through the API",
        _QUERY_COLUMNS,
        _query_rows(connection, period, "AND s.source = 'api'"),
        note="Scripts, integrations and tests calling /api/search: kept apart from what "
        "people search, so a test run is not a content gap.",
    )


def no_clicks(connection: Connection, period: Period) -> Table:
    return Table(
        "Queries with results but no click",
        _QUERY_COLUMNS,
        _query_rows(connection, period, f"AND s.total > 0 AND {_PEOPLE}", f"HAVING {_CLICKED} = 0"),
        note="The results did not look right: titles or summaries may need work.",
    )


def _titles(kb: KnowledgeBase, ids: list[str]) -> dict[str, str]:
    found = {}
    for article_id in ids:
        article = kb.lookup(article_id, EVERYTHING).article
        found[article_id] = article.title if article else "(deleted)"
    return found


def articles(connection: Connection, kb: KnowledgeBase, period: Period) -> Table:
    """Click-through and feedback per article that appeared in results or got votes."""
    shown_ids = connection.dialect.elements("s.shown", "j")
    shown = dict(
        connection.execute(
            f"SELECT j.value, count(*) FROM searches s, {shown_ids} "
            f"WHERE s.at >= ? AND {_PEOPLE} GROUP BY j.value",
            (period.start,),
        )
    )
    clicked = dict(
        connection.execute(
            "SELECT article_id, count(*) FROM clicks WHERE at >= ? GROUP BY 1", (period.start,)
        )
    )
    votes = {
        a: (y, n)
        for a, y, n in connection.execute(
            "SELECT article_id, sum(helpful), count(*) - sum(helpful) FROM feedback "
            "WHERE at >= ? GROUP BY 1",
            (period.start,),
        )
    }
    ids = sorted(
        set(shown) | set(clicked) | set(votes),
        key=lambda a: (-clicked.get(a, 0), -shown.get(a, 0), a),
    )
    titles = _titles(kb, ids)
    rows = []
    for article_id in ids:
        impressions, clicks = shown.get(article_id, 0), clicked.get(article_id, 0)
        rate = f"{100 * clicks / impressions:.0f}%" if impressions else ""
        helpful, unhelpful = votes.get(article_id, (0, 0))
        rows.append((article_id, titles[article_id], impressions, clicks, rate, helpful, unhelpful))
    return Table(
        "Click-through per article",
        ("id", "title", "shown in results", "clicks", "click-through", "helpful", "not helpful"),
        rows,
    )


def least_helpful(connection: Connection, kb: KnowledgeBase, period: Period) -> Table:
    """Articles readers said did not help, worst first, with their latest comments."""
    comments = connection.dialect.joined(
        "CASE WHEN helpful = 0 AND comment != '' THEN comment END", " | "
    )
    rows = connection.execute(
        f"""
        SELECT article_id, sum(helpful), count(*) - sum(helpful) AS unhelpful, {comments}
        FROM feedback WHERE at >= ? GROUP BY article_id HAVING count(*) - sum(helpful) > 0
        ORDER BY (sum(helpful) + 1.0) / (count(*) + 2.0), unhelpful DESC
        """,
        (period.start,),
    ).fetchall()
    titles = _titles(kb, [r[0] for r in rows])
    return Table(
        "Least helpful articles",
        ("id", "title", "helpful", "not helpful", "comments"),
        [(a, titles[a], y, n, comments or "") for a, y, n, comments in rows],
    )


def review(
    kb: KnowledgeBase, entries: list[CatalogueEntry], stale_days: int, today: dt.date
) -> Table:
    """Articles past their review date, then those unchanged for ``stale_days``."""
    stale_before = (today - dt.timedelta(days=stale_days)).isoformat()
    overdue = sorted(
        (e for e in entries if e.review_by and e.review_by < today.isoformat()),
        key=lambda e: e.review_by,
    )
    flagged = {e.id for e in overdue}
    stale = sorted(
        (e for e in entries if e.updated and e.updated[:10] < stale_before and e.id not in flagged),
        key=lambda e: e.updated,
    )
    listed = [("review overdue", e) for e in overdue] + [("not changed", e) for e in stale]
    titles = _titles(kb, [e.id for _, e in listed[:ROW_LIMIT]])
    return Table(
        "Articles to review",
        ("why", "id", "title", "owner", "review by", "last changed", "path"),
        [
            (why, e.id, titles.get(e.id, ""), e.owner, e.review_by, e.updated[:10], e.path)
            for why, e in listed
        ],
        note=f"Past their review_by date, or not changed in {stale_days} days.",
    )


def owners(entries: list[CatalogueEntry], stale_days: int, today: dt.date) -> Table:
    stale_before = (today - dt.timedelta(days=stale_days)).isoformat()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for entry in entries:
        row = counts[entry.owner or "(no owner)"]
        row[0] += 1
        row[1] += entry.audience == "internal"
        row[2] += bool(entry.review_by) and entry.review_by < today.isoformat()
        row[3] += bool(entry.updated) and entry.updated[:10] < stale_before
    return Table(
        "Articles by owner",
        ("owner", "articles", "internal", "review overdue", "not changed"),
        [(owner, *row) for owner, row in sorted(counts.items(), key=lambda i: (-i[1][0], i[0]))],
    )


def build(
    activity: Activity, kb: KnowledgeBase, days: int, stale_days: int, only: str | None = None
) -> tuple[list[Table], list[str]]:
    """Every report (or just ``only``) and the charts, for a period ending today."""
    period = Period(days, dt.datetime.fromtimestamp(time.time(), dt.UTC).date())
    entries = kb.catalogue(EVERYTHING)
    with activity.reading(REPORT_SECONDS) as connection:
        builders: dict[str, Callable[[], Table]] = {
            "top-queries": lambda: top_queries(connection, period),
            "zero-results": lambda: zero_results(connection, period),
            "no-clicks": lambda: no_clicks(connection, period),
            "api-queries": lambda: api_queries(connection, period),
            "articles": lambda: articles(connection, kb, period),
            "least-helpful": lambda: least_helpful(connection, kb, period),
            "review": lambda: review(kb, entries, stale_days, period.today),
            "owners": lambda: owners(entries, stale_days, period.today),
        }
        if only is not None:
            return [builders[only]()], []
        return [make() for make in builders.values()], charts(connection, period)


REPORT_SLUGS = (
    "top-queries",
    "zero-results",
    "no-clicks",
    "api-queries",
    "articles",
    "least-helpful",
    "review",
    "owners",
)


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_safe_cell(v) for v in row])
    return out.getvalue()


def _safe_cell(value: object) -> object:
    """Spreadsheets run cells starting with = + - @ as formulas; a query must not."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
