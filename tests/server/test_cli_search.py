"""`kb search` in a terminal: the same answers as the API, with links to paste."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient

from indexer import Indexer
from server.cli import main


def test_json_is_what_the_api_answers(
    client: FlaskClient,
    indexer: Indexer,
    kb_dir: Path,
    index_dir: Path,
    tier2_headers: dict[str, str],
) -> None:
    api = client.get("/api/search?q=0x80070005", headers=tier2_headers).get_json()
    result = CliRunner().invoke(
        main,
        ["search", "--kb", str(kb_dir), "--index-dir", str(index_dir), "--json", "0x80070005"],
        env={"KB_BASE_URL": "http://localhost"},
    )
    assert result.exit_code == 0, result.output
    cli = json.loads(result.stdout)
    assert cli.pop("took_ms") is not None and api.pop("took_ms") is not None
    assert cli == api


def test_text_gives_each_result_its_permalink_and_section(
    indexer: Indexer, kb_dir: Path, index_dir: Path
) -> None:
    result = CliRunner().invoke(
        main,
        ["search", "--kb", str(kb_dir), "--index-dir", str(index_dir), "0x80070005"],
        env={"KB_BASE_URL": "https://kb.example"},
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1 result for '0x80070005'")
    assert "KB-2001" in lines[1]
    assert lines[2].strip().startswith("https://kb.example/kb/KB-2001#")
    assert "(§ " in lines[2]
    assert "<mark>" not in result.stdout and "\x1b[" not in result.stdout  # not a terminal
