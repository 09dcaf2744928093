"""Front matter checked against :data:`~indexer.documents.fields.FIELDS`, the one definition.

Two things are generated from it, so they can never disagree: the checks ``kb lint`` runs
(:func:`check`) and the JSON Schema editors validate against as you type
(:func:`json_schema`). The indexer itself stays lenient (see :mod:`indexer.documents.articles`): an
article that lint rejects is still indexed with a warning rather than lost.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .fields import BY_NAME, FIELDS, Field

DATE_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"  # "format: date" does the rest


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    severity: str = "error"


def _is_date(value: Any) -> bool:
    if isinstance(value, dt.date):
        return True
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def _check_value(name: str, key: Field, value: Any) -> str | None:
    """Why ``value`` is not valid for ``key``, or None."""
    if key.kind == "flag":
        return None if isinstance(value, bool) else f"'{name}' must be true or false: {value!r}"
    if key.kind == "list":
        if not isinstance(value, list):
            return f"'{name}' must be a list, e.g. {name}: [one, two]"
        if key.required and not value:
            return f"'{name}' is required: list at least one ({key.description})"
        if any(isinstance(item, dict | list) or item in (None, "") for item in value):
            return f"'{name}' must hold plain values, not empty items or nested lists"
        return None
    if key.kind == "date":
        return None if _is_date(value) else f"'{name}' must be a date, YYYY-MM-DD: {value!r}"
    if isinstance(value, dict | list) or value is None or str(value).strip() == "":
        return f"'{name}' must be a single non-empty value"
    if key.kind == "choice" and str(value) not in key.choices:
        return f"'{name}' must be one of {', '.join(key.choices)}, not {value!r}"
    if key.pattern and not re.fullmatch(key.pattern, str(value)):
        return f"'{name}' {value!r} cannot be a permalink: use letters, digits, - _ . /"
    return None


def check(meta: dict[str, Any]) -> list[Problem]:
    """Every problem with one article's front matter, in key order."""
    problems = [
        Problem(key.name, f"'{key.name}' is required: {key.description}")
        if key.required
        else Problem(key.name, f"no '{key.name}' (recommended): {key.description}", "warning")
        for key in FIELDS
        if (key.required or key.recommended) and key.name not in meta
    ]
    for name, value in meta.items():
        key = BY_NAME.get(name)
        if key is not None:
            why = _check_value(name, key, value)
            if why:
                problems.append(Problem(name, why))
    return problems


def _property(key: Field) -> dict[str, Any]:
    schema: dict[str, Any] = {"description": key.description}
    if key.kind == "flag":
        schema |= {"type": "boolean"}
    elif key.kind == "list":
        items = {"type": ["string", "number", "boolean"], "minLength": 1}
        schema |= {"type": "array", "items": items}
        if key.required:
            schema |= {"minItems": 1}
    elif key.kind == "date":
        schema |= {"type": "string", "format": "date", "pattern": DATE_PATTERN}
    elif key.kind == "choice":
        schema |= {"enum": list(key.choices)}
    else:
        schema |= {"type": ["string", "number"], "minLength": 1}
        if key.pattern:
            schema |= {"type": ["string", "integer"], "pattern": key.pattern}
    return schema


def json_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) for front matter, generated from the fields."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://kb-search.local/schemas/front-matter.json",
        "title": "kb-search article front matter",
        "type": "object",
        "required": [key.name for key in FIELDS if key.required],
        "properties": {key.name: _property(key) for key in FIELDS},
        "additionalProperties": True,
    }
