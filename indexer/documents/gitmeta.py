"""Who changed each article and when, read from git in one pass (file times outside git).

A full build asks git once for the whole history of the kb folder (``git log --name-status
-M``) and walks it newest first, so thousands of files cost one subprocess, and renames are
followed: the old paths of a renamed file become its aliases, so links to them keep working.
Incremental updates ask per file, which is cheaper for a handful of paths.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path

log = logging.getLogger(__name__)

FEW_PATHS = 24  # up to this many paths, one `git log -1` each beats a walk of the whole history
_GIT_TIMEOUT = 120


@dataclass(frozen=True)
class FileHistory:
    """What the UI shows as "last changed by X, N days ago" and what permalinks need."""

    updated: dt.datetime
    author: str | None = None
    commit: str | None = None
    created: dt.datetime | None = None
    former_paths: tuple[str, ...] = ()
    uncommitted: bool = False
    # per former path, the audience the file had there, where it was looked up ("": not)
    former_audiences: tuple[str, ...] = ()

    def with_former(self, found: dict[str, str]) -> FileHistory:
        """This history with ``found`` (former path -> its audience there) as its old names."""
        paths = tuple(sorted(found))
        return replace(self, former_paths=paths, former_audiences=tuple(found[p] for p in paths))

    def former_names_for(self, audience: str) -> tuple[str, ...]:
        """The old paths that may lead to this file for readers of ``audience``: a path that
        held an article of another audience (an internal runbook that git sees "renamed" to
        a public page like it) must not answer readers who could not see it there."""
        return tuple(p for p in self.former_paths if self.audience_of(p) in ("", audience))

    def audience_of(self, former_path: str) -> str:
        """The audience the file had at ``former_path``; "" if it was not looked up."""
        known = dict(zip(self.former_paths, self.former_audiences, strict=False))
        return known.get(former_path, "")


@dataclass(frozen=True)
class Change:
    """One commit that touched an article, with its diff, for the history page."""

    commit: str
    author: str
    date: dt.datetime
    subject: str
    diff: str


MAX_DIFF_CHARS = 100_000  # per commit: a mass reformat is summarised, not shipped whole


def _from_timestamp(value: str | float) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)


def file_time_history(root: Path, relpath: str) -> FileHistory:
    """The fallback outside git: the file's modification time, no author."""
    try:
        mtime = (root / relpath).stat().st_mtime
    except OSError:
        mtime = 0.0
    return FileHistory(updated=_from_timestamp(mtime), uncommitted=True)


# File names are names, never patterns: without this, the history of "a?.md" would include
# the commits of "ab.md", and a name starting with ":(" would be pathspec magic.
_GIT = ("git", "--literal-pathspecs")
_NO_PROMPTS_NOR_LOCKS = {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}


class GitHistory:
    """Reads history for files under ``root`` (a folder inside a git work tree)."""

    def __init__(self, root: Path, toplevel: Path) -> None:
        self.root = root.resolve()
        self.toplevel = toplevel
        prefix = self.root.relative_to(toplevel).as_posix()
        self.prefix = "" if prefix == "." else prefix + "/"

    @classmethod
    def open(cls, root: Path) -> GitHistory | None:
        """A reader for ``root``, or None when it is not in a git work tree (or git is missing)."""
        try:
            out = subprocess.run(
                ["git", "-C", str(root), "rev-parse", "--show-toplevel"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        return cls(root, Path(out).resolve()) if out else None

    def run(self, *args: str, timeout: float = _GIT_TIMEOUT) -> str:
        """Run git in this work tree; its output. Raises CalledProcessError (with git's
        stderr) or TimeoutExpired. Git never prompts for credentials: nobody would answer.
        Nor does it take optional locks: `git status` would otherwise refresh .git/index
        under index.lock and make an author's `git pull` in the same clone fail."""
        return subprocess.run(
            self._argv(args),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=True,
            env=os.environ | _NO_PROMPTS_NOR_LOCKS,
        ).stdout

    def run_bytes(self, *args: str, timeout: float = _GIT_TIMEOUT) -> bytes:
        """:meth:`run`, answering bytes: a file's content as committed."""
        return subprocess.run(
            self._argv(args),
            capture_output=True,
            timeout=timeout,
            check=True,
            env=os.environ | _NO_PROMPTS_NOR_LOCKS,
        ).stdout

    def _argv(self, args: tuple[str, ...]) -> list[str]:
        return [*_GIT, "-C", str(self.toplevel), "-c", "core.quotepath=off", *args]

    def head(self) -> str | None:
        try:
            return self.run("rev-parse", "--verify", "-q", "HEAD").strip() or None
        except subprocess.SubprocessError:
            return None

    def changes(self, relpath: str, limit: int = 30) -> list[Change]:
        """The commits that touched ``relpath`` (renames followed), newest first, with diffs."""
        try:
            out = self.run(
                "log",
                "--follow",
                f"-n{limit}",
                "-p",
                "--no-color",
                "--format=%x1e%H%x1f%an%x1f%at%x1f%s",
                "--",
                self.prefix + relpath,
            )
        except subprocess.SubprocessError:
            return []
        found = []
        for record in out.split("\x1e")[1:]:
            header, _, diff = record.partition("\n")
            parts = header.split("\x1f")
            if len(parts) != 4:
                continue
            commit, author, when, subject = parts
            if len(diff) > MAX_DIFF_CHARS:
                diff = diff[:MAX_DIFF_CHARS] + "\n[… diff cut: view it in git]\n"
            found.append(Change(commit, author, _from_timestamp(when), subject, diff.strip("\n")))
        return found

    def renamed_from(self, relpath: str) -> list[str]:
        """Paths (kb-relative) this file had before, by git's rename detection, newest first."""
        try:
            out = self.run(
                "log",
                "--follow",
                "-M",
                "-z",
                "--name-status",
                "--format=",
                "--diff-filter=R",
                "--",
                self.prefix + relpath,
            )
        except subprocess.SubprocessError:
            return []
        fields = [f for f in out.split("\0") if f]
        olds = [fields[i + 1] for i in range(0, len(fields) - 2, 3) if fields[i].startswith("R")]
        return [p for p in (self._relative(o) for o in olds) if p]

    def last_version(self, relpath: str) -> bytes | None:
        """The file as last committed before it was removed or renamed; None if unknown."""
        try:
            commit = self.run("rev-list", "-1", "HEAD", "--", self.prefix + relpath).strip()
            if not commit:
                return None
            return self.run_bytes("show", f"{commit}^:{self.prefix}{relpath}")
        except subprocess.SubprocessError:
            return None

    def changed_between(self, old: str, new: str) -> set[str] | None:
        """Paths (kb-relative) touched between two commits; None if ``old`` is unknown."""
        try:
            out = self.run("diff", "-z", "--name-only", old, new, "--", self._pathspec())
        except subprocess.SubprocessError:
            return None
        return {p for p in (self._relative(x) for x in out.split("\0") if x) if p}

    def read(
        self, relpaths: Collection[str], follow_renames: bool = False
    ) -> dict[str, FileHistory]:
        """History for each of ``relpaths`` (kb-relative); files git does not know get mtimes.

        ``follow_renames`` walks the whole log so former paths are found (full builds).
        """
        few = len(relpaths) <= FEW_PATHS and not follow_renames
        try:
            # a save asks about its own file only: `git status` of the whole tree stats every
            # file, and re-reads those a pull left "racily clean", on every save
            dirty = self._dirty([self.prefix + p for p in relpaths] if few else None)
            if few:
                known = {p: h for p in relpaths if (h := self._last_commit(p))}
            else:
                known = self._walk_log()
        except subprocess.SubprocessError as exc:
            if self.head() is None:  # a new repository: nothing committed yet, nothing wrong
                log.debug("no commit yet, using file times")
            else:
                log.warning("git history unavailable, using file times: %s", exc)
            dirty, known = set(relpaths), {}
        result = {}
        for relpath in relpaths:
            history = known.get(relpath)
            if history is None or relpath in dirty:
                fallback = file_time_history(self.root, relpath)
                if history is not None:  # git's history, with the file's own time
                    fallback = replace(history, updated=fallback.updated, uncommitted=True)
                history = fallback
            result[relpath] = history
        return result

    def _pathspec(self) -> str:
        return self.prefix or "."

    def _relative(self, gitpath: str) -> str | None:
        if self.prefix and not gitpath.startswith(self.prefix):
            return None
        return gitpath[len(self.prefix) :]

    def _dirty(self, pathspecs: list[str] | None = None) -> set[str]:
        """Files with changes git has not committed: of ``pathspecs``, or of the kb folder."""
        if pathspecs == []:
            return set()
        out = self.run(
            "status",
            "-z",
            "--porcelain",
            "--untracked-files=all",
            "--",
            *(pathspecs or [self._pathspec()]),
        )
        paths = set()
        entries = out.split("\0")
        index = 0
        while index < len(entries):
            entry = entries[index]
            index += 1
            if len(entry) < 4:
                continue
            if entry[0] in "RC":
                index += 1  # the original path follows a rename entry
            relpath = self._relative(entry[3:])
            if relpath:
                paths.add(relpath)
        return paths

    def _last_commit(self, relpath: str) -> FileHistory | None:
        out = self.run("log", "-1", "--format=%H%x1f%an%x1f%at", "--", self.prefix + relpath)
        if not out.strip():
            return None
        commit, author, stamp = out.strip().split("\x1f")
        return FileHistory(updated=_from_timestamp(stamp), author=author, commit=commit)

    def _walk_log(self) -> dict[str, FileHistory]:
        """One pass over the history, newest first, following renames to today's paths."""
        out = self.run(
            "log",
            "-z",
            "--format=%x1e%H%x1f%an%x1f%at",
            "--name-status",
            "-M",
            "--",
            self._pathspec(),
        )
        latest: dict[str, tuple[str, str, str]] = {}
        created: dict[str, str] = {}
        former: dict[str, list[str]] = {}
        current_name: dict[str, str] = {}  # path at an older commit -> path today
        for record in out.split("\x1e"):
            if not record:
                continue
            header, _, changes = record.partition("\0")
            commit, author, stamp = header.split("\x1f")
            fields = changes.lstrip("\n").split("\0")
            index = 0
            while index < len(fields):
                status = fields[index]
                if not status:
                    index += 1
                    continue
                if status[0] in "RC":
                    old, new = fields[index + 1], fields[index + 2]
                    index += 3
                else:
                    old, new = None, fields[index + 1]
                    index += 2
                today = current_name.get(new, new)
                latest.setdefault(today, (commit, author, stamp))
                created[today] = stamp
                if old is not None and status[0] == "R":
                    current_name[old] = today
                    former.setdefault(today, []).append(old)
        result = {}
        for gitpath, (commit, author, stamp) in latest.items():
            relpath = self._relative(gitpath)
            if relpath is None:
                continue
            olds = tuple(p for p in (self._relative(o) for o in former.get(gitpath, ())) if p)
            result[relpath] = FileHistory(
                updated=_from_timestamp(stamp),
                author=author,
                commit=commit,
                created=_from_timestamp(created[gitpath]),
                former_paths=olds,
            )
        return result


def read_history(
    root: Path, relpaths: Collection[str], git: GitHistory | None, follow_renames: bool = False
) -> dict[str, FileHistory]:
    """History for ``relpaths`` from git when available, from file times otherwise."""
    if git is None:
        return {p: file_time_history(root, p) for p in relpaths}
    return git.read(relpaths, follow_renames)


def article_changes(root: Path, relpath: str, limit: int = 30) -> list[Change]:
    """The history page's commits for one article; empty outside git."""
    git = GitHistory.open(root)
    return git.changes(relpath, limit) if git else []
