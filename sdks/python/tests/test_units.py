"""Unit tests of the client's building blocks: SSE parser, backoff, breaker, environment
variable names, metrics, signatures."""

from __future__ import annotations

import base64
from typing import List

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from pennon import ClientError
from pennon._backoff import Backoff, backoff_delay
from pennon._breaker import Breaker
from pennon._env import collect, parse_value, variable_name
from pennon._signature import parse_public_key, verify_signature
from pennon._sse import SseComment, SseEvent, SseItem, SseParser

STREAM = (
    ": heartbeat\r\n"
    "event: snapshot\n"
    "id: 2\n"
    'data: {"etag":"\\"2\\"","revision":2}\n'
    'data: {"flags":{},"note":"h\u00e9llo \u2603"}\n'
    "\n"
    "retry: 10\r"
    "data:no space\r\n"
    "\r\n"
    "event: snapshot\n"
    "data: cut mid-event"
).encode("utf-8")

EXPECTED: List[SseItem] = [
    SseComment("heartbeat"),
    SseEvent("snapshot", "2", '{"etag":"\\"2\\"","revision":2}\n{"flags":{},"note":"h\u00e9llo \u2603"}'),
    SseEvent("message", "2", "no space"),
]


def test_sse_parser_whole_stream() -> None:
    parser = SseParser()
    assert parser.feed(STREAM) == EXPECTED
    assert parser.last_id == "2"


@pytest.mark.parametrize("split", range(1, len(STREAM)))
def test_sse_parser_at_every_split_point(split: int) -> None:
    # Every byte boundary: inside CRLF, inside a UTF-8 sequence, inside a field name.
    parser = SseParser()
    items = parser.feed(STREAM[:split]) + parser.feed(STREAM[split:])
    assert items == EXPECTED


def test_sse_parser_byte_by_byte() -> None:
    parser = SseParser()
    items: List[SseItem] = []
    for i in range(len(STREAM)):
        items += parser.feed(STREAM[i : i + 1])
    assert items == EXPECTED


def test_sse_event_cut_by_a_drop_is_never_delivered() -> None:
    parser = SseParser()
    assert parser.feed(b"event: snapshot\ndata: {\"half\":") == []
    # The connection is gone; a new parser starts the next one.
    assert SseParser().feed(b"data: x\n\n") == [SseEvent("message", None, "x")]


def test_backoff_full_jitter_with_cap() -> None:
    assert backoff_delay(1.0, 30.0, 0, 0.999) == pytest.approx(0.999)
    assert backoff_delay(1.0, 30.0, 3, 0.5) == pytest.approx(4.0)
    assert backoff_delay(1.0, 30.0, 10, 0.5) == pytest.approx(15.0)  # capped at 30 s
    assert backoff_delay(1.0, 30.0, 10_000, 1.0) == pytest.approx(30.0)
    draws = iter([1.0, 1.0, 1.0, 0.0, 1.0])
    backoff = Backoff(0.1, 1.0, lambda: next(draws))
    assert [round(backoff.next_delay(), 6) for _ in range(3)] == [0.1, 0.2, 0.4]
    assert backoff.next_delay() == 0.0
    backoff.reset()
    assert backoff.next_delay() == pytest.approx(0.1)


def test_breaker_opens_half_opens_and_closes() -> None:
    breaker = Breaker(3, 10.0)
    for now in (0.0, 1.0):
        breaker.failure(now)
        assert breaker.permit(now) == 0.0
    breaker.failure(2.0)
    assert breaker.state == "open"
    assert breaker.permit(5.0) == pytest.approx(7.0)
    assert breaker.permit(12.0) == 0.0 and breaker.state == "half-open"
    breaker.failure(12.5)  # one failure in half-open reopens it
    assert breaker.permit(13.0) == pytest.approx(9.5)
    assert breaker.permit(23.0) == 0.0
    breaker.success()
    assert breaker.state == "closed" and breaker.failures == 0


def test_environment_variable_names_and_values() -> None:
    assert variable_name("checkout.new-flow") == "PENNON_FLAG_CHECKOUT_NEW_FLOW"
    assert variable_name("max_retry_attempts") == "PENNON_FLAG_MAX_RETRY_ATTEMPTS"
    assert variable_name("a9/é") == "PENNON_FLAG_A9__"
    assert parse_value("true") is True
    assert parse_value("3") == 3
    assert parse_value('{"a":1}') == {"a": 1}
    assert parse_value("hello") == "hello"
    assert parse_value("NaN") == "NaN" and parse_value("-Infinity") == "-Infinity"
    assert collect({"PENNON_FLAG_X": "1", "OTHER": "2", "PENNON_FLAG_Y": None}) == {"PENNON_FLAG_X": 1}


def _key_pair() -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, base64.b64encode(raw).decode()


def test_signatures_verify_and_refuse() -> None:
    private, public = _key_pair()
    key = parse_public_key(public)
    body = b'{"revision":1}'
    good = base64.b64encode(private.sign(body)).decode()
    verify_signature(key, body, good)
    for signature, why in (
        (None, "carries no signature"),
        ("", "carries no signature"),
        ("not base64!", "not base64"),
        (base64.b64encode(b"short").decode(), "malformed"),
        (base64.b64encode(private.sign(b"other bytes")).decode(), "does not verify"),
    ):
        with pytest.raises(ClientError, match=why) as caught:
            verify_signature(key, body, signature)
        assert caught.value.code == "signature_invalid"
    _, other = _key_pair()
    with pytest.raises(ClientError) as caught:
        verify_signature(parse_public_key(other), body, good)
    assert caught.value.code == "signature_invalid"


@pytest.mark.parametrize("bad", ["nope", base64.b64encode(b"x" * 31).decode(), 7])
def test_public_key_must_be_32_base64_bytes(bad: object) -> None:
    with pytest.raises(ClientError) as caught:
        parse_public_key(bad)
    assert caught.value.code == "invalid_public_key"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("2026-01-01T00:00:00Z", 1_767_225_600_000.0),
        ("2026-01-01T00:00:00.5Z", 1_767_225_600_500.0),
        ("2026-01-01T00:00:00.123456789Z", 1_767_225_600_123.456),
        ("2026-01-01T01:00:00+01:00", 1_767_225_600_000.0),
        ("2026-01-01T00:00:00", None),  # no zone: no age
        ("yesterday", None),
        (17, None),
    ],
)
def test_generated_at_is_read_as_rfc3339(text: object, expected: object) -> None:
    from pennon.client import _generated_at

    got = _generated_at({"generatedAt": text})
    assert got == (None if expected is None else pytest.approx(expected))
