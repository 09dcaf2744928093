"""A small knowledge base for tests: every kind of article the indexer must handle.

``MARKER`` appears only in the internal article, so a test can prove it never reaches
someone who may not see internal articles.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

MARKER = "zanzibarquokka"
TIER2_TOKEN = "tier2-token-for-tests"
TIER1_TOKEN = "tier1-token-for-tests"
ADMIN_TOKEN = "admin-token-for-tests"
AUTHOR_TOKEN = "author-token-for-tests"

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'

ARTICLES: dict[str, str] = {
    "windows/update-0x80070005.md": """---
id: KB-2001
title: Windows Update fails with 0x80070005
type: resolution
systems: [Windows 11]
tags: [windows-update, permissions]
error_codes: ["0x80070005"]
tickets: [INC-1001]
audience: public
owner: a.tester
reviewed: 2026-01-10
review_by: 2027-01-10
aliases: [KB-0999]
custom_field: kept
---
## Symptoms

Installing the cumulative update stops with error 0x80070005 (ERROR_ACCESS_DENIED).

```text
2026-03-02 10:14:07:118 Agent * WARNING: Install failed, error = 0x80070005
```

## Cause

The SoftwareDistribution folder lost its permissions after a cleanup script ran.

## Resolution

1. Stop the `wuauserv` service.
2. Run `sfc /scannow` and `DISM /Online /Cleanup-Image /RestoreHealth`.
""",
    "email/outlook-prompt.md": """---
id: KB-2002
title: Outlook keeps asking for a password
type: resolution
systems: [Outlook, Exchange Online]
tags: [email, authentication]
audience: public
owner: b.owner
review_by: 2025-06-01
---
## Symptoms

Outlook keeps prompting for the password after the mailbox moved.
See [the update article](../windows/update-0x80070005.md#cause) and the diagram:

![Flow](img/flow.svg)

<script>alert('xss')</script>
[bad link](javascript:alert(1))

## Resolution

Clear cached credentials in Credential Manager and enable modern authentication.
""",
    "email/img/flow.svg": SVG,
    "k8s/etcd-fsync.md": f"""---
id: KB-2003
title: etcdHighFsyncDurations alert on the {MARKER} cluster
type: resolution
systems: [Kubernetes]
tags: [etcd, {MARKER}]
tickets: [INC-1001]
audience: internal
---
## Symptoms

The alert etcdHighFsyncDurations fires for the {MARKER} control plane nodes.

![Secret diagram](secret.svg)

## Resolution

Move etcd to dedicated SSDs; check with `etcdctl check perf`.
""",
    "k8s/secret.svg": SVG,
    "printing/spooler.md": """# Print spooler crashes with event 7031

## Symptoms

The Print Spooler service terminated unexpectedly (event ID 7031).

## Resolution

Remove the faulty driver with `printui /s /t2`.
""",
    "network/dns-forwarders.md": """---
title: DNS conditional forwarders
type: config-note
tags: [dns]
audience: public
---
## Purpose

Forward partner.example zone queries to the partner resolvers.

## Settings

| Zone | Forwarders |
|------|------------|
| partner.example | 192.0.2.10, 192.0.2.11 |
""",
}


def write(root: Path, relpath: str, text: str) -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def make_kb_repo(repo: Path) -> Path:
    """A git repository with the articles above in ``repo/kb``, committed; returns kb."""
    kb = repo / "kb"
    for relpath, text in ARTICLES.items():
        write(kb, relpath, text)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Add sample articles")
    return kb


def make_origin(root: Path) -> Path:
    """An author's repository (``root/author``, the sample articles) that pushes to a bare
    ``root/origin.git``, as a team's central repository; returns the author's repository."""
    author = root / "author"
    make_kb_repo(author)
    git(root, "clone", "-q", "--bare", str(author), "origin.git")
    git(author, "remote", "add", "origin", str(root / "origin.git"))
    git(author, "push", "-q", "-u", "origin", "main")
    return author


def clone(origin: Path, target: Path) -> Path:
    """A read replica's clone of ``origin``; returns its kb folder."""
    git(origin.parent, "clone", "-q", str(origin), str(target))
    return target / "kb"


def push_changes(author: Path, word: str) -> dict[str, str]:
    """Commit a new article, an edited one (both carrying ``word``) and a deleted one, and push
    them; the ids involved, by what happened to them."""
    new_id = f"KB-{word.upper()}"
    write(
        author / "kb",
        f"new/{word}.md",
        f"---\nid: {new_id}\ntitle: New {word}\naudience: public\n---\n{word}\n",
    )
    edited = author / "kb/email/outlook-prompt.md"
    edited.write_text(edited.read_text() + f"\nAlso try {word}.\n")
    (author / "kb/printing/spooler.md").unlink()
    git(author, "add", "-A")
    git(author, "commit", "-q", "-m", f"Add, edit and delete ({word})")
    git(author, "push", "-q")
    return {"added": new_id, "edited": "KB-2002", "deleted": "printing/spooler"}


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Author",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Author",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}
os.environ.update({k: v for k, v in GIT_IDENTITY.items() if k not in os.environ})
