"""A knowledge base with a real vocabulary: the shared corpus's paragraphs, recombined.

The suite's own generator (``synthetic.py``) knows about 85 words, so every word is in
nearly every article and posting lists look nothing like real text: rare words, long tails,
articles of every length. This one builds each article from the real support articles and
runbooks of ``../shared/bench/corpus``: the title and shape (how many sections, how long) of
one real article, paragraphs drawn from any of them, and the error codes those paragraphs
mention in its front matter. With a seed, the same KB every time. The corpus is read at run
time and never copied into the repository; :func:`available` says whether it is there.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "corpus"
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
_CODE = re.compile(
    r"\b(?:0x[0-9A-Fa-f]{8}|[A-Z]{2,6}-\d{3,6}|ERROR_[A-Z_]{4,40}|[A-Z]+_E_[A-Z_]+)\b"
)
_FENCE = re.compile(r"^(```|~~~)")


@dataclass
class Source:
    """What one real article contributes: its title, folder and shape."""

    title: str
    folder: str
    sections: int
    paragraphs: int


@dataclass
class Pool:
    sources: list[Source] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    codes: list[tuple[str, ...]] = field(default_factory=list)  # per paragraph


def available(corpus: Path = CORPUS) -> bool:
    return corpus.is_dir() and any(corpus.rglob("*.md"))


def _blocks(body: str) -> list[str]:
    """A body's blocks (headings, paragraphs, lists, tables, whole code fences), in order."""
    blocks, current, fenced = [], [], False
    for line in body.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
        heading = not fenced and _HEADING.match(line)
        if heading or (not line.strip() and not fenced):
            if current:
                blocks.append("\n".join(current))
                current = []
            if heading:
                blocks.append(line)
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def load_pool(corpus: Path = CORPUS) -> Pool:
    pool = Pool()
    for path in sorted(corpus.rglob("*.md")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.startswith("---\n") and "\n---\n" in text[4:]:
            text = text[4:].split("\n---\n", 1)[1]
        title, sections, paragraphs = "", 0, 0
        for block in _blocks(text):
            heading = _HEADING.match(block) if "\n" not in block else None
            if heading:
                if not title and block.startswith("# "):
                    title = heading[1]
                else:
                    sections += 1
                    pool.headings.append(heading[1])
                continue
            if "<!--" in block and "-->" not in block.rsplit("<!--", 1)[1]:
                # a comment the corpus closes paragraphs later: recombined, it would hide
                # the rest of the new article (and the words the suite appends to it)
                continue
            paragraphs += 1
            pool.paragraphs.append(block)
            pool.codes.append(tuple(dict.fromkeys(_CODE.findall(block))))
        folder = path.relative_to(corpus).parts[0]
        stem = path.stem.replace("__", " ").replace("-", " ")
        pool.sources.append(Source(title or stem, folder, max(sections, 1), max(paragraphs, 1)))
    return pool


def article_text(rng: random.Random, pool: Pool, number: int) -> tuple[str, str]:
    """(folder, text) of article ``number``."""
    source = rng.choice(pool.sources)
    picks = [rng.randrange(len(pool.paragraphs)) for _ in range(source.paragraphs)]
    codes = list(dict.fromkeys(code for pick in picks for code in pool.codes[pick]))[:6]
    per_section = max(1, len(picks) // source.sections)
    body = [f"# {source.title}", ""]
    for index, pick in enumerate(picks):
        if index and index % per_section == 0:
            body += [f"## {rng.choice(pool.headings)}", ""]
        body += [pool.paragraphs[pick], ""]
    tag = rng.choice(pool.headings)[:40].lower()
    front = (  # values as JSON strings, which YAML reads as they are
        f"---\nid: KB-{number}\ntitle: {json.dumps(source.title)}\n"
        f"type: {'resolution' if rng.random() < 0.7 else 'config-note'}\n"
        f"systems: [{source.folder}]\ntags: [{json.dumps(tag)}]\n"
        f"error_codes: {json.dumps(codes)}\n"
        f"audience: {'public' if rng.random() < 0.7 else 'internal'}\n"
        f"owner: owner{rng.randrange(20)}\nreviewed: 2025-{rng.randrange(1, 13):02d}-01\n"
        f"review_by: 2027-{rng.randrange(1, 13):02d}-01\n---\n"
    )
    return source.folder, front + "\n".join(body)


def generate(root: Path, count: int, seed: int = 42, corpus: Path = CORPUS) -> Path:
    """Write ``count`` articles into ``root/kb`` and commit them; returns the kb folder."""
    rng = random.Random(seed)
    pool = load_pool(corpus)
    kb = root / "kb"
    for number in range(count):
        folder, text = article_text(rng, pool, 10000 + number)
        path = kb / folder / f"{number // 1000:03d}" / f"article-{number:06d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    run = {"cwd": root, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q", "-b", "main"], **run)
    subprocess.run(["git", "add", "-A"], **run)
    # gc.auto=0: see synthetic.generate
    identity = ["-c", "user.name=Bench", "-c", "user.email=bench@example.com", "-c", "gc.auto=0"]
    subprocess.run(["git", *identity, "commit", "-q", "-m", "realistic kb"], **run)
    return kb


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if not available():
        raise SystemExit(f"no corpus at {CORPUS}: the realistic KB is made from it")
    print(generate(args.root, args.count, args.seed))
