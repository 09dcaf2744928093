"""The pre-commit hook runs kb lint the way pre-commit will: entry plus the staged files."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from ..fixtures import write
from ..indexer.test_lint import GOOD

ROOT = Path(__file__).resolve().parents[2]


def test_hook_lints_the_staged_articles_and_fails_on_errors(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    write(tmp_path, "kb/good.md", GOOD.replace("(img/vpn.svg)", "(#cause)"))
    write(
        tmp_path,
        "kb/bad.md",
        GOOD.replace("id: KB-5001", "id: KB-5002").replace("type: resolution", "type: howto"),
    )
    staged = ["kb/good.md", "kb/bad.md", "kb/_templates/resolution.md", "kb/README.md", "x.py"]
    files = [f for f in staged if re.search(hook["files"], f) and not re.search(hook["exclude"], f)]
    assert files == ["kb/good.md", "kb/bad.md"]
    command = shlex.split(hook["entry"])
    assert command[:2] == ["kb", "lint"]
    run = subprocess.run(
        [sys.executable, "-m", "server", *command[1:], *files],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "kb/bad.md:4: error [front-matter]" in run.stdout
    assert not [
        line
        for line in run.stdout.splitlines()
        if line.startswith("kb/good.md") and "error" in line
    ]
