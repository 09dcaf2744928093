"""kb lint: one broken fixture per rule, and a clean article that passes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from indexer import lint

from ..fixtures import write

TODAY = dt.date(2026, 11, 23)
GOOD = """---
id: KB-5001
title: VPN drops every ten minutes on hotel wifi
type: resolution
systems: [VPN client]
audience: public
owner: n.tester
reviewed: 2026-06-01
review_by: 2027-06-01
---
## Symptoms

The VPN client disconnects every ten minutes while on hotel networks with captive portals.

## Cause

The portal keeps re-authenticating the device, which resets the tunnel keepalive timers.

## Resolution

1. Open the captive portal page first and accept its terms.
2. Reconnect the VPN. See [the cause](#cause) and the [diagram](img/vpn.svg).
"""


def run(tmp_path: Path, files: dict[str, str], only: list[str] | None = None) -> list[tuple]:
    for relpath, text in files.items():
        write(tmp_path, relpath, text)
    report = lint(tmp_path, only, today=TODAY)
    return [(f.path, f.line, f.severity, f.rule) for f in report.findings]


def test_a_good_article_passes(tmp_path: Path) -> None:
    assert run(tmp_path, {"vpn.md": GOOD, "img/vpn.svg": "<svg/>"}) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("systems: [VPN client]\n", ""), (1, "front-matter")),
        (("type: resolution", "type: howto"), (4, "front-matter")),
        (("audience: public", "audience: everyone"), (6, "front-matter")),
        (("review_by: 2027-06-01", "review_by: 2027-13-01"), (9, "front-matter")),
        (("owner: n.tester\n", "owner: n.tester\ntags: vpn\n"), (8, "front-matter")),
        (("id: KB-5001", "id: KB 5001!"), (2, "unreadable")),
        (("title: VPN", "title: [VPN"), (4, "unreadable")),  # where YAML noticed
        (("## Cause", "## Background"), (1, "missing-heading")),
        (("(#cause)", "(#reason)"), (22, "broken-link")),
        (("img/vpn.svg", "img/missing.svg"), (22, "broken-link")),
    ],
)
def test_each_rule_reports_file_and_line(
    tmp_path: Path, change: tuple[str, str], expected: tuple[int, str]
) -> None:
    broken = GOOD.replace(*change)
    assert broken != GOOD
    found = run(tmp_path, {"vpn.md": broken, "img/vpn.svg": "<svg/>"})
    assert ("vpn.md", *expected[:1], "error", expected[1]) in found, found


def test_ids_must_be_unique_and_aliases_must_not_collide(tmp_path: Path) -> None:
    aliased = GOOD.replace("id: KB-5001", "id: KB-5002").replace(
        "owner: n.tester", "owner: n.tester\naliases: [KB-5001]"
    )
    files = {"vpn.md": GOOD, "dup.md": GOOD, "wifi.md": aliased, "img/vpn.svg": ""}
    found = [f for f in run(tmp_path, files) if f[3] != "similar"]
    assert found == [
        ("dup.md", 2, "error", "duplicate-id"),
        ("vpn.md", 2, "error", "duplicate-id"),
        ("wifi.md", 8, "error", "alias"),
    ]


def test_links_between_articles_and_their_headings(tmp_path: Path) -> None:
    linking = (
        GOOD.replace("id: KB-5001", "id: KB-5002")
        .replace("(#cause)", "(sub/other.md#nowhere)")
        .replace("img/vpn.svg", "../outside.md")
    )
    other = GOOD.replace("id: KB-5001", "id: KB-5003")
    found = run(
        tmp_path,
        {"vpn.md": linking, "sub/other.md": other, "img/vpn.svg": "", "sub/img/vpn.svg": ""},
    )
    broken = [f for f in found if f[0] == "vpn.md" and f[3] == "broken-link"]
    assert len(broken) == 2, found  # no heading #nowhere; a link out of the KB


def test_a_link_to_a_symlink_out_of_the_kb_is_broken(tmp_path: Path) -> None:
    """The server answers 404 for such a file and kb export refuses it: lint says so first."""
    kb = tmp_path / "kb"
    (tmp_path / "elsewhere.svg").write_text("<svg/>")
    (kb / "img").mkdir(parents=True)
    (kb / "img" / "vpn.svg").symlink_to(tmp_path / "elsewhere.svg")
    assert run(kb, {"vpn.md": GOOD}) == [("vpn.md", 22, "error", "broken-link")]


def test_a_past_review_date_warns_and_a_missing_one_fails(tmp_path: Path) -> None:
    past = GOOD.replace("review_by: 2027-06-01", "review_by: 2026-01-01")
    none = GOOD.replace("review_by: 2027-06-01\n", "")
    assert run(tmp_path, {"a.md": past, "img/vpn.svg": ""}) == [("a.md", 9, "warning", "review")]
    (tmp_path / "a.md").unlink()
    assert run(tmp_path, {"b.md": none, "img/vpn.svg": ""}) == [
        ("b.md", 1, "error", "front-matter")
    ]


def test_a_missing_id_is_only_a_warning(tmp_path: Path) -> None:
    found = run(tmp_path, {"vpn.md": GOOD.replace("id: KB-5001\n", ""), "img/vpn.svg": ""})
    assert found == [("vpn.md", 1, "warning", "front-matter")]


def test_a_near_copy_of_another_article_is_flagged(tmp_path: Path) -> None:
    copy = GOOD.replace("id: KB-5001", "id: KB-5009").replace("ten minutes", "10 minutes")
    found = run(tmp_path, {"vpn.md": GOOD, "new.md": copy, "img/vpn.svg": ""}, only=["new.md"])
    assert found == [("new.md", 1, "warning", "similar")]


def test_only_the_named_files_are_reported(tmp_path: Path) -> None:
    broken = GOOD.replace("type: resolution", "type: howto")
    files = {"vpn.md": GOOD, "broken.md": broken.replace("KB-5001", "KB-5002"), "img/vpn.svg": ""}
    assert [f for f in run(tmp_path, files, only=["vpn.md"]) if f[2] == "error"] == []


def test_a_second_run_reuses_unchanged_files_and_rereads_edited_ones(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the cache lives in the repository's .git folder
    files = {"kb/vpn.md": GOOD, "kb/img/vpn.svg": ""}
    for relpath, text in files.items():
        write(tmp_path, relpath, text)
    assert lint(tmp_path / "kb", today=TODAY).findings == []
    assert (tmp_path / ".git" / "kb-lint-cache.json").is_file()
    write(tmp_path, "kb/vpn.md", GOOD.replace("type: resolution", "type: howto") + "\n")
    found = lint(tmp_path / "kb", today=TODAY).findings
    assert [(f.path, f.rule) for f in found] == [("vpn.md", "front-matter")]
    (tmp_path / ".git" / "kb-lint-cache.json").write_text("{broken")
    assert len(lint(tmp_path / "kb", today=TODAY).findings) == 1  # a bad cache is ignored
