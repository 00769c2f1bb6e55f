"""pennon.gate: feature_context (seed 003) and the @feature decorator, over a real client."""

from __future__ import annotations

import asyncio
from typing import Iterator, List

import pytest
from flagset import snapshot

import pennon
from pennon.gate import Feature, FeatureDisabled, evaluate_gate, feature, feature_context


@pytest.fixture
def client() -> Iterator[pennon.Client]:
    with pennon.Client(snapshot=snapshot()) as client:
        yield client


def test_feature_context_yields_a_truthy_feature_when_on(client: pennon.Client) -> None:
    with feature_context(client, "checkout", "user-1") as enabled:
        assert enabled
        assert isinstance(enabled, Feature)
        assert enabled.mode == "enabled" and enabled.state == "on"
        assert enabled.details["reason"] == "STATIC"
        assert enabled.details["revision"] == 1


def test_feature_context_is_falsy_when_off_killed_or_unknown(client: pennon.Client) -> None:
    for flag, state, reason in [
        ("retired", "off", "DISABLED"),
        ("killed", "kill", "KILLED"),
        ("pos.lite", "canary", "CANARY_EXCLUDED"),
        ("no-such-flag", "error", "ERROR"),
    ]:
        with feature_context(client, flag, {"targetingKey": "user-1"}) as enabled:
            assert not enabled, flag
            assert (enabled.mode, enabled.state, enabled.details["reason"]) == (None, state, reason)


def test_the_context_can_be_a_user_id(client: pennon.Client) -> None:
    # Seed 003 passes a user id positionally: it becomes the targeting key.
    with feature_context(client, "new-pricing", "vip") as vip, feature_context(client, "new-pricing", "other") as other:
        assert vip and not other
        assert vip.details["reason"] == "TARGETING_MATCH"


def test_shadow_mode_only_when_accepted(client: pennon.Client) -> None:
    with feature_context(client, "invoices.write", "user-1") as strict:
        assert not strict and strict.state == "shadow" and strict.mode is None
    with feature_context(client, "invoices.write", "user-1", shadow_ok=True) as lenient:
        assert lenient.shadow and lenient.mode == "shadow"
        assert not lenient, "shadow mode is not 'enabled': the real effect must not run"


def test_async_with_feature_context(client: pennon.Client) -> None:
    ran: List[str] = []

    async def handler(user_id: str) -> None:
        async with feature_context(client, "new-pricing", user_id) as enabled:
            ran.append("new" if enabled else "old")

    asyncio.run(handler("vip"))
    asyncio.run(handler("someone"))
    assert ran == ["new", "old"]


def test_the_answer_is_fixed_for_the_block(client: pennon.Client) -> None:
    with feature_context(client, "checkout") as enabled:
        client.override("checkout", False)
        assert enabled, "evaluated once on entry"
        assert not client.is_enabled("checkout")


def test_a_block_follows_overrides(client: pennon.Client) -> None:
    client.override("retired", True)
    with feature_context(client, "retired") as enabled:
        assert enabled and enabled.details["reason"] == "STATIC" and enabled.details["variant"] == "override"


def test_decorator_on_a_sync_function_with_fallback(client: pennon.Client) -> None:
    def old_price(user: str, amount: int) -> int:
        return amount

    @feature(client, "new-pricing", fallback=old_price, context=lambda user, amount: {"targetingKey": user})
    def price(user: str, amount: int) -> int:
        return amount * 9 // 10

    assert price("vip", 100) == 90
    assert price("someone", 100) == 100
    assert price.__name__ == "price", "functools.wraps keeps the name"
    # Each call asks again: an override seen at the next call.
    client.override("new-pricing", True)
    assert price("someone", 100) == 90


def test_decorator_without_fallback_raises_feature_disabled(client: pennon.Client) -> None:
    @feature(client, "killed")
    def risky() -> str:
        return "ran"

    with pytest.raises(FeatureDisabled) as raised:
        risky()
    assert raised.value.flag == "killed" and raised.value.state == "kill" and raised.value.reason == "KILLED"
    assert raised.value.as_json() == {"error": "FEATURE_DISABLED", "flag": "killed", "state": "kill", "reason": "KILLED"}


def test_decorator_on_async_functions(client: pennon.Client) -> None:
    async def manual(user_id: str) -> str:
        return f"manual {user_id}"

    @feature(client, "new-pricing", fallback=manual, context=lambda user_id: user_id)
    async def auto(user_id: str) -> str:
        await asyncio.sleep(0)
        return f"auto {user_id}"

    @feature(client, "retired", context={"targetingKey": "x"})
    async def never() -> str:
        return "ran"

    assert asyncio.iscoroutinefunction(auto)
    assert asyncio.run(auto("vip")) == "auto vip"
    assert asyncio.run(auto("bob")) == "manual bob"
    with pytest.raises(FeatureDisabled):
        asyncio.run(never())


def test_an_async_function_needs_an_async_fallback(client: pennon.Client) -> None:
    def sync_fallback() -> None:
        return None

    with pytest.raises(TypeError, match="must be async too"):

        @feature(client, "checkout", fallback=sync_fallback)  # type: ignore[arg-type]
        async def guarded() -> None:
            return None


def test_evaluate_gate_counts_as_an_evaluation(client: pennon.Client) -> None:
    seen: List[str] = []
    client.on_evaluation(lambda flag, details: seen.append(f"{flag}:{details['reason']}"))
    evaluate_gate(client, "checkout")
    assert seen == ["checkout:STATIC"]
    assert 'pennon_evaluations_total{flag="checkout"' in client.metrics()
