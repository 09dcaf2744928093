"""All settings in one table: defaults, then a TOML file, then ``KB_*`` environment variables,
then command-line options. Every problem is reported at once, before anything starts.

The table is the :class:`Config` dataclass itself: each field's metadata carries its help
text, and the README's configuration section is checked against it by a test.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer import AUDIENCES, DEFAULT_AUDIENCE, Indexer

from .clients import proxy_networks

ROLES = ("tier1", "tier2", "author", "admin")
CONFIG_FILE_ENV = "KB_CONFIG"
DEFAULT_CONFIG_FILE = "kb.toml"
# not a setting: `kb serve --workers` tells the gunicorn it starts which process it belongs to
SERVE_PID_ENV = "KB_SERVE_PID"


class ConfigError(Exception):
    """One or more settings are invalid; the message lists every one of them."""


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Config:
    kb_dir: Path = _setting(
        Path("kb"), "Folder of Markdown articles (a git work tree or part of one)."
    )
    index_dir: Path = _setting(
        Path(".kb-index"), "Where the index is kept. Keep it outside kb_dir; it is never committed."
    )
    host: str = _setting("127.0.0.1", "Address `kb serve` listens on.")
    port: int = _setting(8000, "Port `kb serve` listens on.")
    threads: int = _setting(8, "Request threads of each process answering HTTP (see `workers`).")
    workers: int = _setting(
        1,
        "Processes answering HTTP (`kb serve --workers`, gunicorn), each with `threads` "
        "threads: one per core for throughput. With more than one, `kb serve` runs "
        "gunicorn's workers (server/gunicorn_conf.py) beside the process keeping the index.",
    )
    connection_limit: int = _setting(
        2000,
        "Open client connections `kb serve` holds at once; past it, new ones wait. A slow or "
        "idle client costs a connection, never a request thread.",
    )
    idle_timeout: int = _setting(
        30, "Seconds `kb serve` keeps a connection that sends nothing (an idle keep-alive)."
    )
    default_audience: str = _setting(
        DEFAULT_AUDIENCE, "Audience of articles whose front matter has none: public or internal."
    )
    tokens: str = _setting(
        "",
        "API tokens as comma-separated role:token pairs, e.g. `tier2:s3cret,admin:t0ps3cret`. "
        f"Roles: {', '.join(ROLES)}.",
    )
    proxy_user_header: str = _setting(
        "",
        "Header set by a trusted reverse proxy with the signed-in user's name, e.g. "
        "`X-Forwarded-User`. Off unless set; only enable it behind a proxy that strips it "
        "from client requests.",
    )
    proxy_role: str = _setting("tier2", "Role given to users identified by proxy_user_header.")
    proxy_groups_header: str = _setting(
        "",
        "Header set by the trusted proxy with the user's groups, comma-separated, e.g. "
        "`X-Forwarded-Groups`. Off unless set.",
    )
    proxy_group_roles: str = _setting(
        "",
        "Groups that grant a role, as comma-separated group:role pairs, e.g. "
        "`kb-admins:admin,kb-writers:author`. A user gets the highest role of their groups, "
        "and at least proxy_role.",
    )
    trusted_proxy: str = _setting(
        "",
        "Addresses or networks of the reverse proxy in front, comma-separated, e.g. "
        "`127.0.0.1`. On its connections X-Forwarded-For names the client (for limits and "
        "logs) and X-Forwarded-Proto says whether it used https; from anyone else both "
        "headers are ignored. Empty: nobody's are believed.",
    )
    watch: bool = _setting(True, "Watch kb_dir and index changes as they are saved.")
    debounce_ms: int = _setting(
        100, "Quiet time after the last file event before indexing a burst."
    )
    base_url: str = _setting(
        "",
        "Public base URL for permalinks, e.g. https://kb.example.com (default: from the request).",
    )
    secret_key: str = _setting(
        "", "Signs session cookies. Generated and kept in index_dir when empty."
    )
    session_cookie_secure: str = _setting(
        "auto",
        "Secure flag of the session cookie: auto (when the request came over https, "
        "directly or per X-Forwarded-Proto from trusted_proxy) or always (for TLS in "
        "front of a proxy that does not say so).",
    )
    log_level: str = _setting("INFO", "Logging level: DEBUG, INFO, WARNING or ERROR.")
    log_format: str = _setting(
        "text",
        "text: one readable line per event, with key=value fields; json: one JSON object per "
        "line, for a log collector. Either way every request is logged with its route, "
        "status, duration, size, role and request id (never tokens, cookies or query text).",
    )
    health_max_lag: int = _setting(
        60,
        "Seconds the index may trail the working tree (a change seen but not yet indexed, "
        "or failing to index) before /healthz answers 503.",
    )
    activity_db: str = _setting(
        ".kb-state/activity.sqlite3",
        "Where search events, clicks, feedback and browser sign-ins are kept (the insights "
        "page reads it): a SQLite file for one machine, or a PostgreSQL URL "
        "(`postgresql://user:password@host/db`) that every replica shares. Keep it: unlike "
        "the index, it cannot be rebuilt from kb_dir.",
    )
    activity_queue: int = _setting(
        20_000,
        "Search and click events a process holds while the activity store cannot be "
        "written (down, slow); past it new ones are dropped and counted in /metrics.",
    )
    log_searches: bool = _setting(
        True, "Record searches and result clicks for the insights page (no names, no tokens)."
    )
    activity_retention_days: int = _setting(
        180, "Search events and clicks older than this are deleted (feedback is kept)."
    )
    feedback_per_hour: int = _setting(
        30,
        "Articles a single visitor, or client address, may rate per hour (changing a vote "
        "does not count); more is refused with 429.",
    )
    escalation_url: str = _setting(
        "",
        'Where tier 1\'s "Escalate to tier 2" goes, e.g. '
        "`https://desk.example.com/new?subject={query}&body={description}`. Placeholders, "
        "URL-encoded: {query}, {articles} (ids looked at), {description} (both, as text). "
        "Empty: a page with the text to paste into a ticket.",
    )
    edit_url: str = _setting(
        "",
        '"Edit this article" link for tier 2 and above, e.g. '
        "`https://git.example.com/it/kb/-/edit/main/kb/{path}`. Placeholders: {path} "
        "(the file, relative to kb_dir), {id}. Empty: no link.",
    )
    stale_days: int = _setting(
        365, "Insights list articles not changed in this many days as stale."
    )
    sync_interval: int = _setting(
        0,
        "Seconds between pulls of kb_dir's git clone from its remote, each followed by "
        "indexing what changed, in `kb serve` and `kb sync --every`; 0: off. For read "
        "replicas.",
    )
    hook_secret: str = _setting(
        "",
        "Shared secret of the git webhook POST /api/hooks/git (GitHub's X-Hub-Signature-256 "
        "or GitLab's X-Gitlab-Token), which makes a replica pull at once. Empty: no webhook "
        "(404).",
    )

    @property
    def token_roles(self) -> dict[str, str]:
        """token -> role, parsed from :attr:`tokens` (validated at load time)."""
        pairs = (item.strip() for item in self.tokens.split(",") if item.strip())
        return {token: role for role, _, token in (p.partition(":") for p in pairs)}

    @property
    def group_roles(self) -> dict[str, str]:
        """proxy group -> role, parsed from :attr:`proxy_group_roles` (validated at load)."""
        return dict(_group_pairs(self.proxy_group_roles))

    def new_indexer(self) -> Indexer:
        """The writer of this configuration's index (the CLI's commands and a replica's
        webhook each make one)."""
        return Indexer(self.kb_dir, self.index_dir, self.default_audience)


def _group_pairs(text: str) -> list[tuple[str, str]]:
    """``group:role`` items of a comma-separated setting; a group name may hold colons."""
    found = []
    for item in (i.strip() for i in text.split(",") if i.strip()):
        group, _, role = item.rpartition(":")
        found.append((group.strip(), role.strip()))
    return found


SETTINGS = {f.name: f for f in dataclasses.fields(Config)}


def _convert(name: str, value: Any, kind: Any) -> Any:
    kind = {"Path": Path, "str": str, "int": int, "bool": bool}[
        kind if isinstance(kind, str) else kind.__name__
    ]
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool):
            raise ValueError(f"expected an integer, got {value!r}")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected an integer, got {value!r}") from None
    if kind is Path:
        return Path(str(value)).expanduser()
    return str(value)


def _validate(config: Config) -> list[str]:
    problems = []
    if config.default_audience not in AUDIENCES:
        problems.append(f"default_audience: must be one of {', '.join(AUDIENCES)}")
    if not 0 < config.port < 65536:
        problems.append("port: must be between 1 and 65535")
    if not 1 <= config.threads <= 256:
        problems.append("threads: must be between 1 and 256")
    if not 10 <= config.connection_limit <= 100_000:
        problems.append("connection_limit: must be between 10 and 100000")
    if not 1 <= config.idle_timeout <= 3600:
        problems.append("idle_timeout: must be between 1 and 3600 seconds")
    if not 1 <= config.workers <= 64:
        problems.append("workers: must be between 1 and 64")
    if config.activity_queue < 1:
        problems.append("activity_queue: must be at least 1")
    if config.sync_interval < 0:
        problems.append("sync_interval: must not be negative (0 turns it off)")
    if config.hook_secret and len(config.hook_secret) < 16:
        problems.append("hook_secret: must be at least 16 characters")
    if config.debounce_ms < 0:
        problems.append("debounce_ms: must not be negative")
    if config.proxy_role not in ROLES:
        problems.append(f"proxy_role: must be one of {', '.join(ROLES)}")
    for item in (i.strip() for i in config.tokens.split(",") if i.strip()):
        role, sep, token = item.partition(":")
        if not sep or not token:
            problems.append("tokens: each entry must be role:token")
        elif role not in ROLES:
            problems.append(f"tokens: unknown role {role!r}; roles are {', '.join(ROLES)}")
        elif len(token) < 8:
            problems.append(f"tokens: the token for {role} is shorter than 8 characters")
    for group, role in _group_pairs(config.proxy_group_roles):
        if not group or role not in ROLES:
            problems.append(
                f"proxy_group_roles: {group}:{role} must be group:role, roles {', '.join(ROLES)}"
            )
    try:
        proxy_networks(config.trusted_proxy)
    except ValueError as exc:
        problems.append(f"trusted_proxy: {exc}")
    if config.session_cookie_secure not in ("auto", "always"):
        problems.append("session_cookie_secure: must be auto or always")
    if config.activity_retention_days < 1:
        problems.append("activity_retention_days: must be 1 or more")
    if config.feedback_per_hour < 1:
        problems.append("feedback_per_hour: must be 1 or more")
    if config.stale_days < 1:
        problems.append("stale_days: must be 1 or more")
    if config.escalation_url:
        try:
            config.escalation_url.format(query="", articles="", description="")
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(
                f"escalation_url: unknown or broken placeholder {exc}; "
                "use {query}, {articles}, {description}"
            )
    if config.edit_url:
        try:
            config.edit_url.format(path="", id="")
        except (KeyError, IndexError, ValueError) as exc:
            problems.append(f"edit_url: unknown or broken placeholder {exc}; use {{path}}, {{id}}")
    if config.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append("log_level: must be DEBUG, INFO, WARNING or ERROR")
    if config.log_format not in ("text", "json"):
        problems.append("log_format: must be text or json")
    if config.health_max_lag < 1:
        problems.append("health_max_lag: must be at least 1 (seconds)")
    try:
        if config.index_dir.resolve().is_relative_to(config.kb_dir.resolve()):
            problems.append("index_dir: must not be inside kb_dir")
    except OSError:
        pass
    return problems


def load_config(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Config:
    """Build the configuration; raises :class:`ConfigError` listing every invalid setting."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    problems: list[str] = []

    path = config_file or (Path(environ[CONFIG_FILE_ENV]) if environ.get(CONFIG_FILE_ENV) else None)
    if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        path = Path(DEFAULT_CONFIG_FILE)
    if path is not None:
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config file {path}: {exc}") from None
        for key, value in data.items():
            if key not in SETTINGS:
                problems.append(f"{path}: unknown setting {key!r}")
            else:
                values[key], sources[key] = value, str(path)
    for name in SETTINGS:
        env_name = f"KB_{name.upper()}"
        if env_name in environ:
            values[name], sources[name] = environ[env_name], env_name
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name], sources[name] = value, "command line"

    converted = {}
    for name, value in values.items():
        try:
            converted[name] = _convert(name, value, SETTINGS[name].type)
        except ValueError as exc:
            problems.append(f"{name} (from {sources[name]}): {exc}")
    config = Config(**converted)
    problems.extend(_validate(config))
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return config
