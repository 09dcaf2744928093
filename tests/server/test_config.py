"""Configuration: defaults, file, KB_* environment, command line, and every error at once."""

from pathlib import Path

import pytest

from server.config import SETTINGS, Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_defaults() -> None:
    config = load_config(environ={})
    assert config.port == 8000 and config.default_audience == "internal"


def test_precedence_file_then_env_then_overrides(tmp_path: Path) -> None:
    file = tmp_path / "kb.toml"
    file.write_text('port = 9001\nhost = "0.0.0.0"\nthreads = 4\n')
    config = load_config({"threads": 2}, environ={"KB_PORT": "9002"}, config_file=file)
    assert (config.host, config.port, config.threads) == ("0.0.0.0", 9002, 2)


def test_all_problems_are_reported_together() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(
            environ={
                "KB_PORT": "eighty",
                "KB_DEFAULT_AUDIENCE": "everyone",
                "KB_TOKENS": "wizard:abcdefghij",
                "KB_WATCH": "maybe",
            }
        )
    message = str(caught.value)
    for name in ("port", "default_audience", "tokens", "watch"):
        assert name in message


def test_tokens_map_to_roles() -> None:
    config = Config(tokens="tier2:aaaaaaaaaa, admin:bbbbbbbbbb")
    assert config.token_roles == {"aaaaaaaaaa": "tier2", "bbbbbbbbbb": "admin"}


def test_index_dir_inside_kb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="index_dir"):
        load_config({"kb_dir": tmp_path, "index_dir": tmp_path / "ix"}, environ={})


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in SETTINGS:
        assert f"KB_{name.upper()}" in readme, f"KB_{name.upper()} is not documented in README.md"


def test_trusted_proxy_and_cookie_settings_are_checked() -> None:
    assert load_config(environ={"KB_TRUSTED_PROXY": "127.0.0.1, 10.0.0.0/8"}).trusted_proxy
    with pytest.raises(ConfigError) as caught:
        load_config(environ={"KB_TRUSTED_PROXY": "proxy.example", "KB_SESSION_COOKIE_SECURE": "no"})
    assert "trusted_proxy" in str(caught.value) and "session_cookie_secure" in str(caught.value)
