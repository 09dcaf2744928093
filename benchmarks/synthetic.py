"""Generate a realistic synthetic knowledge base (seeded) for benchmarks.

A mix of resolution articles and configuration notes with error codes, event IDs, commands,
config paths and log lines, spread over area folders, committed to a git repository.
"""

from __future__ import annotations

import argparse
import random
import subprocess
from pathlib import Path

AREAS = ["windows", "email", "identity", "network", "linux", "kubernetes", "database", "printing"]
SYSTEMS = [
    "Windows 11",
    "Windows Server 2022",
    "Exchange Online",
    "Outlook",
    "Active Directory",
    "Entra ID",
    "RHEL 9",
    "Ubuntu 22.04",
    "Kubernetes",
    "PostgreSQL",
    "SQL Server",
    "nginx",
    "OpenVPN",
    "Intune",
]
WORDS = [
    "user",
    "service",
    "server",
    "client",
    "connection",
    "timeout",
    "certificate",
    "password",
    "login",
    "account",
    "update",
    "install",
    "restart",
    "cache",
    "profile",
    "policy",
    "network",
    "dns",
    "proxy",
    "firewall",
    "disk",
    "memory",
    "cluster",
    "node",
    "pod",
    "database",
    "query",
    "index",
    "backup",
    "replica",
    "token",
    "session",
    "printer",
    "driver",
    "mailbox",
    "sync",
    "permission",
    "group",
    "share",
    "volume",
    "kernel",
    "agent",
    "job",
    "schedule",
    "alert",
]
VERBS = [
    "fails",
    "stops",
    "hangs",
    "crashes",
    "drops",
    "rejects",
    "expires",
    "loops",
    "slows",
    "corrupts",
]
PATHS = [
    "/etc/krb5.conf",
    "/etc/nginx/conf.d/app.conf",
    "/etc/systemd/journald.conf",
    r"HKLM\SYSTEM\CurrentControlSet\Services\Netlogon",
    "/var/lib/pgsql/data/postgresql.conf",
    "C:\\Windows\\Logs\\CBS\\CBS.log",
    "/etc/sssd/sssd.conf",
]


def _sentence(rng: random.Random, n: int = 12) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    words.insert(rng.randrange(len(words)), rng.choice(VERBS))
    return " ".join(words).capitalize() + "."


def article_text(rng: random.Random, number: int) -> str:
    resolution = rng.random() < 0.7
    code = f"0x8007{rng.randrange(16**4):04X}"
    event = rng.randrange(1000, 9999)
    title = (
        f"{rng.choice(SYSTEMS)} {rng.choice(WORDS)} {rng.choice(VERBS)} with {code} (event {event})"
    )
    front = (
        f"---\nid: KB-{number}\ntitle: {title}\ntype: {'resolution' if resolution else 'config-note'}\n"
        f"systems: [{rng.choice(SYSTEMS)}]\ntags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]\n"
        f'error_codes: ["{code}"]\ntickets: [INC-{rng.randrange(10000, 99999)}]\n'
        f"audience: {'public' if rng.random() < 0.7 else 'internal'}\nowner: owner{rng.randrange(20)}\n"
        f"reviewed: 2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}\n"
        f"review_by: {rng.choice((2026, 2027))}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}\n---\n"
    )
    log = f"2026-0{rng.randrange(1, 9)}-1{rng.randrange(9)} 10:1{rng.randrange(9)}:07 ERROR {code} in {rng.choice(PATHS)}"
    headings = (
        ["Symptoms", "Cause", "Resolution"]
        if resolution
        else ["Purpose", "Settings", "Verification", "Rollback"]
    )
    body = []
    for heading in headings:
        body.append(f"## {heading}\n")
        body.extend(_sentence(rng) for _ in range(rng.randrange(3, 8)))
        body.append("")
    body.insert(2, f"```text\n{log}\n```\n")
    body.append(
        f"```bash\nsudo systemctl restart {rng.choice(WORDS)}\ngrep -i error {rng.choice(PATHS)}\n```\n"
    )
    return front + "\n".join(body) + "\n"


def generate(root: Path, count: int, seed: int = 42) -> Path:
    """Write ``count`` articles into ``root/kb`` and commit them; returns the kb folder."""
    rng = random.Random(seed)
    kb = root / "kb"
    for number in range(count):
        path = kb / AREAS[number % len(AREAS)] / f"article-{number:06d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(article_text(rng, 10000 + number))
    run = {"cwd": root, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "-b", "main"], **run)
    subprocess.run(["git", "add", "-A"], **run)
    # gc.auto=0: with 100,000 new objects the commit would start `git gc` in the background,
    # and a clone made meanwhile fails when the loose objects it copies are packed away
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=Bench",
            "-c",
            "user.email=bench@example.com",
            "-c",
            "gc.auto=0",
            "commit",
            "-q",
            "-m",
            "synthetic kb",
        ],
        **run,
    )
    return kb


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    print(generate(args.root, args.count))
