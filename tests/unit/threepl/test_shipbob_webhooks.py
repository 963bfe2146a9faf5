"""Standard Webhooks verification of ShipBob deliveries."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from orderbridge.adapters.shipbob import parse_webhook, signing_key, verify_webhook
from orderbridge.errors import AuthError, ConfigurationError, Rejected

# The Standard Webhooks specification's published example.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
STAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SENT = datetime.fromtimestamp(STAMP, tz=UTC)


def headers(signature: str = SIGNATURE, stamp: int = STAMP) -> dict[str, str]:
    return {"Webhook-Id": MSG_ID, "Webhook-Timestamp": str(stamp), "Webhook-Signature": signature,
            "x-webhook-topic": "order.shipped"}


def test_the_published_example_verifies() -> None:
    verify_webhook(SECRET, headers(), BODY, SENT)


def test_one_matching_signature_among_several_is_enough() -> None:
    other = "v1," + base64.b64encode(b"x" * 32).decode()
    verify_webhook(SECRET, headers(f"v2,abc {other} {SIGNATURE}"), BODY, SENT + timedelta(seconds=299))


@pytest.mark.parametrize("case", ["body", "secret", "id", "old", "future", "missing", "garbage", "stamp"])
def test_anything_off_is_refused(case: str) -> None:
    body, secret, hdrs, now = BODY, SECRET, headers(), SENT
    if case == "body":
        body = BODY.replace(b"2432", b"2433")
    elif case == "secret":
        secret = "whsec_" + base64.b64encode(b"another key").decode()
    elif case == "id":
        hdrs["Webhook-Id"] = "msg_other"
    elif case == "old":
        now = SENT + timedelta(seconds=301)
    elif case == "future":
        now = SENT - timedelta(seconds=301)
    elif case == "missing":
        del hdrs["Webhook-Signature"]
    elif case == "garbage":
        hdrs["Webhook-Signature"] = "v1,not-base64!!"
    else:
        hdrs["Webhook-Timestamp"] = "yesterday"
    with pytest.raises(AuthError):
        verify_webhook(secret, hdrs, body, now)


def test_signature_is_over_id_timestamp_and_raw_body() -> None:
    key = signing_key(SECRET)
    mac = hmac.new(key, f"{MSG_ID}.{STAMP}.".encode() + BODY, hashlib.sha256).digest()
    assert "v1," + base64.b64encode(mac).decode() == SIGNATURE


def test_a_secret_that_is_not_base64_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        signing_key("whsec_%%%")


def test_parse_keeps_topic_id_and_payload() -> None:
    event = parse_webhook(headers(), BODY)
    assert (event.id, event.topic, event.timestamp, event.payload) == (
        MSG_ID, "order.shipped", STAMP, {"test": 2432232314})
    with pytest.raises(Rejected):
        parse_webhook(headers(), b"[1, 2]")
