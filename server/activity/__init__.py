"""What readers do (searches, result clicks, feedback) and who is signed in, kept in one
database: a SQLite file on one machine, PostgreSQL for replicas that act as one service.

``database`` speaks to either, ``migrations`` keeps their schema, ``store`` records and
reads the activity, ``transfer`` moves it from one database to another.
"""

from .database import Database, DatabaseDown, DatabaseError, is_postgresql
from .store import (
    Activity,
    ActivityUnavailable,
    ClickEvent,
    FeedbackLimited,
    SearchEvent,
    WriterReport,
)

__all__ = [
    "Activity",
    "ActivityUnavailable",
    "ClickEvent",
    "Database",
    "DatabaseDown",
    "DatabaseError",
    "FeedbackLimited",
    "SearchEvent",
    "WriterReport",
    "is_postgresql",
]
