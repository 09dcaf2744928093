"""The API against its own OpenAPI description, with schemathesis: cases generated from
/api/openapi.json, valid and invalid, sent to the real app over the sample KB, anonymous and
with a tier-2 token. No 5xx, ever; every status and body as documented.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import settings
from schemathesis.specs.openapi import checks as openapi_checks

from indexer import Indexer, KnowledgeBase
from server.app import create_app
from server.config import Config
from server.openapi import document
from server.services import Services

from ..fixtures import TIER2_TOKEN, make_kb_repo
from .support import count

# Valid and invalid cases (wrong types, missing or out-of-range values), from the explicit
# examples, the coverage phase's boundary values and random fuzzing.
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all"},
        "phases": {"stateful": {"enabled": False}},
    }
)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
# Left out, after fixing what they found (the type filter's enum, a "required" q that never
# was, blank parameters that mean the default, a 308 and a 404 missing from the document):
# - negative_data_rejection: it now flags only lenience that is by design, on the wire: a
#   single-valued query parameter sent twice (?type=a&type=b) uses the first value, as
#   Flask's args.get does everywhere.
# - positive_data_acceptance: the schema cannot state two documented rules, page * limit
#   <= 10,000 on /api/search and "a subject or a description, not both blank" on
#   /api/suggest; both answer 400 with the rule's message.


# Loaded from the document the app serves (server/openapi.py), not through the app: the lazy
# from_fixture loader of schemathesis 4.32 sets pytest's private Item._nodeid, which pytest 9
# no longer has. Each case is sent to the real app instead.
schema = schemathesis.openapi.from_dict(document("http://localhost"), config=CONFIG)


@pytest.fixture(scope="module")
def contract_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app over the sample KB, as tests/conftest.py builds it, but once for the module's
    20 tests (10 operations, 2 roles): building takes a fifth of a second each time."""
    root = tmp_path_factory.mktemp("contract")
    kb_dir, index_dir = make_kb_repo(root / "repo"), root / "index"
    indexer = Indexer(kb_dir, index_dir, default_audience="internal")
    indexer.build()
    config = Config(
        kb_dir=kb_dir,
        index_dir=index_dir,
        tokens=f"tier2:{TIER2_TOKEN}",
        activity_db=root / "activity.sqlite3",
    )
    app = create_app(config, Services(kb=KnowledgeBase(indexer.storage, kb_dir), indexer=indexer))
    app.config["TESTING"] = True
    return app


@schema.parametrize()
@settings(max_examples=max(10, settings.default.max_examples // 8))
def test_api_as_anonymous(case: schemathesis.Case, contract_app: Flask) -> None:
    count("schemathesis cases")
    case.call_and_validate(app=contract_app, checks=CHECKS)


@schema.parametrize()
@settings(max_examples=max(10, settings.default.max_examples // 8))
def test_api_with_a_tier2_token(case: schemathesis.Case, contract_app: Flask) -> None:
    count("schemathesis cases")
    tier2 = {"Authorization": f"Bearer {TIER2_TOKEN}"}
    case.call_and_validate(app=contract_app, headers=tier2, checks=CHECKS)
