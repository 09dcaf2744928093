"""The OpenAPI description stays true: every API route is in it, and real answers match it."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from ..fixtures import TIER2_TOKEN

TIER2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _documented(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}


def _routes(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or rule.rule == "/healthz":
            path = rule.rule.replace("<path:", "{").replace("<", "{").replace(">", "}")
            found |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_the_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)


def test_every_api_route_is_documented_and_nothing_else(app: Flask, spec: dict[str, Any]) -> None:
    assert _documented(spec) == _routes(app)


def _check(spec: dict[str, Any], path: str, method: str, response: Any) -> None:
    """Validate a real response against the schema the document gives for its status."""
    operation = spec["paths"][path][method]
    described = operation["responses"].get(str(response.status_code))
    assert described, f"{method.upper()} {path} answered {response.status_code}, not documented"
    schema = described.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return
    registry = Registry().with_resource("urn:spec", DRAFT202012.create_resource(spec))
    target = {"$ref": "urn:spec" + schema["$ref"]} if "$ref" in schema else schema
    validator = Draft202012Validator(target, registry=registry)
    errors = sorted(validator.iter_errors(response.get_json()), key=str)
    assert not errors, f"{method.upper()} {path}: {errors[0].message} at {list(errors[0].path)}"


def test_real_answers_match_the_schemas(client: FlaskClient, spec: dict[str, Any]) -> None:
    calls = [
        ("/api/search", "get", client.get("/api/search?q=0x80070005", headers=TIER2)),
        ("/api/search", "get", client.get("/api/search?q=zzzzzz+outlok")),
        ("/api/search", "get", client.get("/api/search?limit=0")),
        (
            "/api/search",
            "get",
            client.get("/api/search?q=e-mail+title:outlook+KB-2001&explain=1", headers=TIER2),
        ),
        ("/api/search", "get", client.get("/api/search?q=outl&explain=1", headers=TIER2)),
        ("/api/search", "get", client.get("/api/search?q=outlook&explain=1")),
        (
            "/api/suggest",
            "post",
            client.post(
                "/api/suggest",
                json={
                    "subject": "Outlook keeps asking for my password",
                    "description": "since the move",
                },
            ),
        ),
        ("/api/suggest", "post", client.post("/api/suggest", json={"subject": 3})),
        ("/api/autocomplete", "get", client.get("/api/autocomplete?q=outl")),
        ("/api/articles/{ref}", "get", client.get("/api/articles/KB-2001")),
        ("/api/articles/{ref}", "get", client.get("/api/articles/KB-2003")),
        ("/api/articles/{ref}", "get", client.get("/api/articles/KB-2003", headers=TIER2)),
        ("/api/articles/{ref}/related", "get", client.get("/api/articles/KB-2001/related")),
        ("/api/articles/{ref}/version", "get", client.get("/api/articles/KB-2001/version")),
        ("/api/articles/{ref}/version", "get", client.get("/api/articles/KB-2003/version")),
        (
            "/api/articles/{ref}/feedback",
            "post",
            client.post("/api/articles/KB-2001/feedback", json={"helpful": True}),
        ),
        (
            "/api/articles/{ref}/feedback",
            "post",
            client.post("/api/articles/KB-2001/feedback", json={"helpful": "yes"}),
        ),
        ("/api/tickets/{ticket}", "get", client.get("/api/tickets/INC-1001", headers=TIER2)),
        ("/api/openapi.json", "get", client.get("/api/openapi.json")),
        ("/healthz", "get", client.get("/healthz")),
    ]
    for path, method, response in calls:
        _check(spec, path, method, response)
