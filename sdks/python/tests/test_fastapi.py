"""pennon.fastapi.require_flag in a real FastAPI app, called through its ASGI interface
with Starlette's TestClient (httpx2)."""

from __future__ import annotations

from typing import Any, Dict, Iterator

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from flagset import snapshot

import pennon
from pennon.fastapi import FeatureDisabled, FlagMode, feature_disabled_handler, require_flag
from pennon.gate import feature


@pytest.fixture
def client() -> Iterator[pennon.Client]:
    with pennon.Client(snapshot=snapshot()) as client:
        yield client


def make_app(client: pennon.Client, *, handler: bool = True) -> FastAPI:
    app = FastAPI()
    if handler:
        app.add_exception_handler(FeatureDisabled, feature_disabled_handler)

    def tenant(request: Request) -> Dict[str, Any]:
        return {"targetingKey": request.headers.get("x-tenant", "anonymous")}

    @app.post("/api/invoices")
    def create_invoice(
        request: Request,
        mode: FlagMode = Depends(require_flag(client, "invoices.write", shadow_ok=True, context=tenant)),
    ) -> Dict[str, Any]:
        if mode == "shadow":
            return {"shadow": True, "state_mode": request.state.flag_mode}
        return {"created": True, "state_mode": request.state.flag_mode}

    @app.get("/checkout")
    def checkout(mode: FlagMode = Depends(require_flag(client, "checkout", context=tenant))) -> Dict[str, str]:
        return {"mode": mode}

    async def vip_context(request: Request) -> Dict[str, Any]:
        return {"targetingKey": request.query_params.get("user", "")}

    @app.get("/pricing")
    async def pricing(mode: FlagMode = Depends(require_flag(client, "new-pricing", context=vip_context))) -> Dict[str, str]:
        return {"mode": mode}

    @app.get("/killed")
    def killed(mode: FlagMode = Depends(require_flag(client, "killed"))) -> Dict[str, str]:
        return {"mode": mode}  # pragma: no cover (never reached)

    @app.middleware("http")
    async def pennon_context(request: Request, call_next: Any) -> Any:
        request.state.pennon_context = {"targetingKey": request.headers.get("x-user", "anonymous")}
        return await call_next(request)

    @app.get("/from-state")
    def from_state(mode: FlagMode = Depends(require_flag(client, "new-pricing"))) -> Dict[str, str]:
        return {"mode": mode}

    @feature(client, "retired")
    def retired_work() -> str:
        return "ran"

    @app.get("/retired")
    def retired() -> Dict[str, str]:
        return {"result": retired_work()}

    return app


def test_an_enabled_flag_lets_the_request_through(client: pennon.Client) -> None:
    http = TestClient(make_app(client))
    response = http.get("/checkout")
    assert response.status_code == 200
    assert response.json() == {"mode": "enabled"}


def test_a_disabled_flag_answers_403_with_the_seed_body(client: pennon.Client) -> None:
    http = TestClient(make_app(client))
    response = http.get("/killed")
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json"
    # The body of every Pennon route guard (sdks/typescript requireFlag, seed 002).
    assert response.json() == {"error": "FEATURE_DISABLED", "flag": "killed", "state": "kill", "reason": "KILLED"}


def test_shadow_mode_passes_with_shadow_ok(client: pennon.Client) -> None:
    http = TestClient(make_app(client))
    response = http.post("/api/invoices", headers={"x-tenant": "t-1"})
    assert response.status_code == 200
    assert response.json() == {"shadow": True, "state_mode": "shadow"}
    client.override("invoices.write", True)
    assert http.post("/api/invoices").json() == {"created": True, "state_mode": "enabled"}


def guarded(client: pennon.Client, flag: str) -> TestClient:
    """An app with one route, `GET /`, guarded by `flag` (no shadow mode)."""
    app = FastAPI()
    app.add_exception_handler(FeatureDisabled, feature_disabled_handler)

    @app.get("/")
    def route(mode: FlagMode = Depends(require_flag(client, flag, context=lambda request: {"targetingKey": "t-1"}))) -> Dict[str, str]:
        return {"mode": mode}

    return TestClient(app)


@pytest.mark.parametrize(
    ("flag", "state", "reason"),
    [
        ("invoices.write", "shadow", "SHADOW"),  # shadow without shadow_ok
        ("retired", "off", "DISABLED"),
        ("pos.lite", "canary", "CANARY_EXCLUDED"),
        ("chekout", "error", "ERROR"),  # a typo: an unknown flag
    ],
)
def test_each_refusal_names_the_state(client: pennon.Client, flag: str, state: str, reason: str) -> None:
    response = guarded(client, flag).get("/")
    assert response.status_code == 403
    assert response.json() == {"error": "FEATURE_DISABLED", "flag": flag, "state": state, "reason": reason}


def test_an_async_context_function_and_targeting(client: pennon.Client) -> None:
    http = TestClient(make_app(client))
    assert http.get("/pricing", params={"user": "vip"}).json() == {"mode": "enabled"}
    denied = http.get("/pricing", params={"user": "bob"})
    assert denied.status_code == 403
    assert denied.json() == {"error": "FEATURE_DISABLED", "flag": "new-pricing", "state": "on", "reason": "DEFAULT"}


def test_the_default_context_is_request_state_pennon_context(client: pennon.Client) -> None:
    http = TestClient(make_app(client))
    assert http.get("/from-state", headers={"x-user": "vip"}).status_code == 200
    assert http.get("/from-state", headers={"x-user": "bob"}).status_code == 403


def test_a_feature_function_without_fallback_inside_a_route_is_403_too(client: pennon.Client) -> None:
    response = TestClient(make_app(client)).get("/retired")
    assert response.status_code == 403
    assert response.json() == {"error": "FEATURE_DISABLED", "flag": "retired", "state": "off", "reason": "DISABLED"}


def test_without_the_handler_it_is_still_a_403(client: pennon.Client) -> None:
    # FastAPI's own HTTPException handler wraps the same body in `detail`.
    response = TestClient(make_app(client, handler=False)).get("/killed")
    assert response.status_code == 403
    assert response.json() == {"detail": {"error": "FEATURE_DISABLED", "flag": "killed", "state": "kill", "reason": "KILLED"}}
