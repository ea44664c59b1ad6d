from bot.kernel.settings import load_settings


def test_defaults_need_no_environment():
    s = load_settings({}, dotenv=None)
    assert s.database_url == "sqlite:///cadence.db" and s.port == 3000
    assert not s.slack_enabled and not s.teams_authenticated
    assert s.slack_api_url == "https://slack.com/api/"


def test_values_from_environment_and_dotenv(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=postgresql://u@db/cadence\nSLACK_BOT_TOKEN=xoxb-1\nSLACK_SIGNING_SECRET=s\n")
    for k in ("DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PORT"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setenv("PORT", "8080")
    s = load_settings(dotenv=env_file)
    assert s.database_url == "postgresql://u@db/cadence" and s.port == 8080
    assert s.slack_http_enabled and not s.slack_socket_mode


def test_blank_values_count_as_unset():
    s = load_settings({"SLACK_BOT_TOKEN": "  ", "MICROSOFT_APP_ID": ""}, dotenv=None)
    assert s.slack_bot_token is None and s.microsoft_app_id is None
