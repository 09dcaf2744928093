"""Feedback on articles, shared by the page's form and the JSON API."""

from __future__ import annotations

from .activity import ActivityUnavailable, FeedbackLimited
from .auth import visitor
from .clients import client_id
from .errors import TooManyRequests, Unavailable
from .services import services


def record_feedback(article_id: str, helpful: bool, comment: str) -> bool:
    """Store the asker's vote; True if it is their first on this article.

    The page's form and the API both come here, so one limit holds for both: the hourly
    one counts by visitor and by client address. Raises the HTTP errors a reader should
    see: 429 when over the hourly limit, 503 when the store cannot be written.
    """
    activity = services().activity
    if activity is None:
        raise Unavailable("Feedback is not being recorded on this server.")
    try:
        return activity.feedback(article_id, visitor(), client_id(), helpful, comment)
    except FeedbackLimited as exc:
        raise TooManyRequests(f"Thanks, that is enough feedback for now ({exc}).") from exc
    except ActivityUnavailable as exc:
        raise Unavailable("Feedback could not be saved; please try again later.") from exc
