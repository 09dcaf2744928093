"""Admin pages: insights into searches, clicks, feedback and articles due for review."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue

from .. import insights as reports
from ..activity import ActivityUnavailable
from ..auth import requires
from ..errors import NotFound, Unavailable
from ..services import services

bp = Blueprint("admin", __name__, url_prefix="/admin")

PERIODS = (7, 30, 90)


def _period() -> int:
    raw = request.args.get("days", "30")
    return int(raw) if raw in {str(p) for p in PERIODS} else 30


def _build(only: str | None = None) -> tuple[list[reports.Table], list[str]]:
    activity = services().activity
    if activity is None:
        raise Unavailable("Activity is not recorded on this server.")
    try:
        return reports.build(
            activity, services().kb, _period(), current_app.config["KB"].stale_days, only
        )
    except ActivityUnavailable as exc:
        raise Unavailable(f"The activity store cannot be read: {exc}") from exc


@bp.get("/insights")
@requires("admin")
def insights() -> ResponseReturnValue:
    """Top and failed queries, click-through, feedback, review due, owners; charts per day."""
    tables, charts = _build()
    return render_template(
        "admin/insights.html",
        tables=list(zip(reports.REPORT_SLUGS, tables, strict=True)),
        charts=charts,
        days=_period(),
        periods=PERIODS,
        limit=reports.ROW_LIMIT,
    )


@bp.get("/insights/<report>.csv")
@requires("admin")
def insights_csv(report: str) -> ResponseReturnValue:
    """One report as CSV, every row."""
    if report not in reports.REPORT_SLUGS:
        raise NotFound(f"No report {report!r}; reports: {', '.join(reports.REPORT_SLUGS)}.")
    (table,), _ = _build(report)
    filename = f"kb-{report}-{_period()}d.csv"
    return Response(
        reports.to_csv(table),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
