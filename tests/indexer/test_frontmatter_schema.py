"""The JSON Schema editors use and the checks kb lint runs come from one definition, and agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from indexer import front_matter_schema
from indexer.documents.articles import split_front_matter
from indexer.documents.frontmatter import check

ROOT = Path(__file__).resolve().parents[2]
BASE = (
    "id: KB-1\ntitle: VPN drops\ntype: resolution\nsystems: [VPN]\naudience: public\n"
    "owner: n.tester\nreviewed: 2026-01-31\nreview_by: 2027-01-31\n"
)
EXAMPLES = [
    BASE,
    BASE.replace("audience: public\n", ""),
    BASE + "tags: [vpn, wifi]\nerror_codes: ['0x80070005', 809]\naliases: [KB-0001]\n",
    BASE + "custom: anything goes\n",
    BASE.replace("id: KB-1", "id: 1042"),
    BASE.replace("title: VPN drops", "title: 2024"),
    BASE.replace("id: KB-1\n", ""),  # recommended only: a warning
    BASE.replace("systems: [VPN]\n", ""),
    BASE.replace("owner: n.tester\n", "owner: ''\n"),
    BASE.replace("owner: n.tester\n", "owner: [a, b]\n"),
    BASE.replace("owner: n.tester\n", "owner:\n"),
    BASE.replace("type: resolution", "type: Resolution"),
    BASE.replace("audience: public", "audience: everyone"),
    BASE.replace("id: KB-1", "id: KB 1!"),
    BASE.replace("review_by: 2027-01-31", "review_by: 2027-13-01"),
    BASE.replace("review_by: 2027-01-31", "review_by: 2027-02-30"),
    BASE.replace("reviewed: 2026-01-31", "reviewed: last week"),
    BASE + "tags: vpn\n",
    BASE + "tags: [vpn, '']\n",
    BASE + "tags: [[nested]]\n",
    BASE + "systems: [~]\n",
]


def front_matter(yaml_text: str) -> dict:
    """Parsed the way the indexer parses it (dates stay text)."""
    meta, _ = split_front_matter(f"---\n{yaml_text}---\nbody\n", "example.md")
    return meta


@pytest.mark.parametrize("example", EXAMPLES)
def test_schema_and_linter_agree(example: str) -> None:
    validator = Draft202012Validator(front_matter_schema(), format_checker=FormatChecker())
    meta = front_matter(example)
    by_schema = validator.is_valid(json.loads(json.dumps(meta)))
    by_linter = not [p for p in check(meta) if p.severity == "error"]
    assert by_schema == by_linter, (example, check(meta), list(validator.iter_errors(meta)))


def test_both_accept_the_valid_and_reject_the_invalid_examples() -> None:
    verdicts = [
        not [p for p in check(front_matter(example)) if p.severity == "error"]
        for example in EXAMPLES
    ]
    assert verdicts == [True] * 7 + [False] * 14


def test_the_shipped_schema_file_is_the_generated_one() -> None:
    shipped = json.loads((ROOT / "schemas" / "front-matter.schema.json").read_text())
    assert shipped == front_matter_schema(), "run: kb schema --out schemas/front-matter.schema.json"


def test_the_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(front_matter_schema())
