"""Fuzzing the front doors of a real `python app.py serve` over HTTP (hypothesis): random Slack request bodies
(form-encoded and JSON; slash command, block_actions, view_submission, shortcut, message_action, event_callback
of every kind Cadence listens to, url_verification; random shapes, encodings and junk bytes), unsigned and
signed, and random Teams activities, without a token (local testing mode) and with bad tokens.

Whatever arrives: never a 5xx, never a traceback in the log, and nothing stored for a request that is not
properly signed. Bounded: the whole file runs in well under a minute (see EXAMPLES)."""

from __future__ import annotations

import os
import string
import time

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.cluster import SIGNING_SECRET, ClusterSlackApi, Replica, sqlite_database, wait_healthy
from tests.reliability.fuzz_support import LoopThread, counts, post, slack_bodies, slack_signature, teams_bodies
from tests.standins.bot_connector import BotConnectorStandIn
from tests.standins.bot_keys import EMULATOR_ISSUER, BotKeysStandIn, new_key

APP_ID = "00000000-0000-0000-0000-00000000f022"
# Examples per property: together about 20 s on the 2-core machine. CADENCE_FUZZ_SCALE=10 digs deeper locally.
SCALE = float(os.environ.get("CADENCE_FUZZ_SCALE", "1"))
EXAMPLES = {
    name: int(n * SCALE)
    for name, n in {"unsigned": 150, "signed": 300, "teams_local": 250, "teams_tokens": 100}.items()
}
FUZZ = settings(
    deadline=None,
    database=None,  # nothing written into the checkout
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


class Cluster:
    def __init__(self, tmp) -> None:
        self.loop = LoopThread()
        self.api = self.loop.run(ClusterSlackApi().start())
        self.api.users["UFUZZ"] = {"name": "fuzz", "tz": "UTC"}
        self.connector = self.loop.run(BotConnectorStandIn().start())
        self.keys = self.loop.run(BotKeysStandIn().start())
        self.open_db = tmp / "open.db"
        self.auth_db = tmp / "auth.db"
        self.loop.run(sqlite_database(self.open_db))
        self.loop.run(sqlite_database(self.auth_db))
        # Slack on, Teams in local testing mode.
        self.open = Replica(
            0, f"sqlite:///{self.open_db}", self.api.base_url, tmp, LOG_LEVEL="INFO", TEAMS_INSECURE_LOCAL="1"
        )
        # Teams with credentials: tokens checked against the local key stand-in.
        self.auth = Replica(
            1,
            f"sqlite:///{self.auth_db}",
            self.api.base_url,
            tmp,
            LOG_LEVEL="INFO",
            MICROSOFT_APP_ID=APP_ID,
            MICROSOFT_APP_PASSWORD="not-a-real-secret",
            MICROSOFT_OPENID_METADATA_URL=self.keys.metadata_url,
        )
        self.open.start()
        self.auth.start()
        self.loop.run(wait_healthy([self.open, self.auth]))

    def close(self) -> None:
        self.open.close()
        self.auth.close()
        for standin in (self.api, self.connector, self.keys):
            self.loop.run(standin.stop())
        self.loop.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("fuzz"))
    yield c
    c.close()


def assert_no_traceback(replica: Replica, since: int) -> None:
    time.sleep(0.5)  # listeners that run after the ack
    log = replica.log()[since:]
    assert "Traceback" not in log, log[log.index("Traceback") - 2000 :][:6000]


# -- Slack --------------------------------------------------------------------------------------------

DIGITS = st.text(alphabet=string.digits, min_size=1, max_size=12)


@st.composite
def bad_slack_headers(draw: st.DrawFn, body: bytes) -> dict[str, str]:
    now = str(int(time.time()))
    how = draw(st.sampled_from(["none", "random", "stale", "other secret", "garbage ts", "other body", "v1"]))
    if how == "none":
        return {}
    if how == "random":
        return {
            "X-Slack-Request-Timestamp": now,
            "X-Slack-Signature": draw(st.text(max_size=80).map(lambda s: "v0=" + s)),
        }
    if how == "stale":
        ts = str(int(time.time()) - draw(st.integers(min_value=301, max_value=10**6)))
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack_signature(SIGNING_SECRET, ts, body)}
    if how == "other secret":
        return {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": slack_signature("not-ours", now, body)}
    if how == "garbage ts":
        ts = draw(st.text(max_size=20).filter(lambda s: not s.isdigit()))
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + "0" * 64}
    if how == "other body":
        return {
            "X-Slack-Request-Timestamp": now,
            "X-Slack-Signature": slack_signature(SIGNING_SECRET, now, body + b" "),
        }
    return {
        "X-Slack-Request-Timestamp": now,
        "X-Slack-Signature": "v1=" + slack_signature(SIGNING_SECRET, now, body)[3:],
    }


def _latin1(headers: dict[str, str]) -> dict[str, str]:
    """Header values an HTTP client can send (latin-1, no control characters: aiohttp's parser answers those
    with its own 400 before Cadence sees the request)."""
    return {
        k: "".join(c for c in v.encode("latin-1", "replace").decode("latin-1") if c.isprintable())
        for k, v in headers.items()
    }


def test_unsigned_or_wrongly_signed_slack_requests_are_401_and_store_nothing(cluster):
    before, since = counts(cluster.open_db), len(cluster.open.log())

    @settings(FUZZ, max_examples=EXAMPLES["unsigned"])
    @given(st.data())
    def check(data: st.DataObject) -> None:
        body, content_type = data.draw(slack_bodies())
        headers = _latin1(data.draw(bad_slack_headers(body)))
        status = post(cluster.open.url, "/slack/events", body, {**headers, "Content-Type": content_type})
        assert status == 401, (status, body[:200], headers)

    check()
    assert counts(cluster.open_db) == before
    assert_no_traceback(cluster.open, since)


def test_signed_slack_requests_of_any_shape_never_get_a_5xx(cluster):
    since = len(cluster.open.log())

    @settings(FUZZ, max_examples=EXAMPLES["signed"])
    @given(slack_bodies(), st.sampled_from([None, "1", "2"]))
    def check(request: tuple[bytes, str], retry: str | None) -> None:
        body, content_type = request
        ts = str(int(time.time()))
        headers = {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": slack_signature(SIGNING_SECRET, ts, body),
            "Content-Type": content_type,
        }
        if retry:
            headers["X-Slack-Retry-Num"] = retry
        status = post(cluster.open.url, "/slack/events", body, headers)
        assert status < 500, (status, body[:300])

    check()
    assert_no_traceback(cluster.open, since)


# -- Teams --------------------------------------------------------------------------------------------


def test_teams_activities_of_any_shape_never_get_a_5xx(cluster):
    since = len(cluster.open.log())

    @settings(FUZZ, max_examples=EXAMPLES["teams_local"])
    @given(teams_bodies(cluster.connector.service_url))
    def check(body: bytes) -> None:
        status = post(cluster.open.url, "/api/messages", body, {"Content-Type": "application/json"})
        assert status < 500, (status, body[:300])

    check()
    assert_no_traceback(cluster.open, since)


@st.composite
def bad_tokens(draw: st.DrawFn, keys: BotKeysStandIn, service_url: str) -> str:
    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": service_url, "exp": now + 600}
    how = draw(
        st.sampled_from(["none", "junk", "hs256", "alg none", "stranger", "expired", "emulator", "audience", "scheme"])
    )
    if how == "none":
        return ""
    if how == "junk":
        return "Bearer " + draw(st.text(max_size=200))
    if how == "hs256":
        return "Bearer " + jwt.encode(
            claims, draw(st.text(min_size=1, max_size=40)), algorithm="HS256", headers={"kid": keys.kid}
        )
    if how == "alg none":
        return "Bearer " + jwt.encode(claims, None, algorithm="none", headers={"kid": keys.kid})
    if how == "stranger":
        return "Bearer " + keys.token(APP_ID, service_url, key=STRANGER, kid=draw(st.sampled_from([keys.kid, "other"])))
    if how == "expired":
        return "Bearer " + keys.token(
            APP_ID, service_url, issued_ago=draw(st.integers(min_value=4000, max_value=10**7)), lifetime=3600
        )
    if how == "emulator":
        return "Bearer " + keys.token(APP_ID, service_url, issuer=EMULATOR_ISSUER)
    if how == "audience":
        return "Bearer " + keys.token(draw(st.text(max_size=36)), service_url)
    return draw(st.sampled_from(["Basic ", "bearer", "Token "])) + keys.token(APP_ID, service_url)


STRANGER = new_key()


def test_teams_with_credentials_refuses_every_bad_token_and_stores_nothing(cluster):
    before, since, calls = counts(cluster.auth_db), len(cluster.auth.log()), len(cluster.connector.calls)

    @settings(FUZZ, max_examples=EXAMPLES["teams_tokens"])
    @given(teams_bodies(cluster.connector.service_url), st.data())
    def check(body: bytes, data: st.DataObject) -> None:
        token = data.draw(bad_tokens(cluster.keys, cluster.connector.service_url))
        headers = _latin1({"Content-Type": "application/json", **({"Authorization": token} if token else {})})
        status = post(cluster.auth.url, "/api/messages", body, headers)
        assert status == 401, (status, token[:80], body[:200])

    check()
    assert counts(cluster.auth_db) == before
    assert len(cluster.connector.calls) == calls
    assert_no_traceback(cluster.auth, since)
