//! The OpenAPI document is generated from the router's own route list; the checked-in
//! copy (`server/openapi.json`) must match it. `PENNON_BLESS=1` rewrites the copy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[test]
fn the_checked_in_openapi_document_matches_the_routes() {
    let generated = pennon_server::app::openapi().to_pretty_json().unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var("PENNON_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "server/openapi.json is stale: regenerate it with `PENNON_BLESS=1 cargo test -p pennon-server --test openapi` and commit it"
    );
}

#[test]
fn every_route_states_who_may_call_it() {
    let document: serde_json::Value = serde_json::to_value(pennon_server::app::openapi()).unwrap();
    let public = ["/healthz", "/readyz", "/metrics", "/sdk/v1/public-key"];
    let mut routes = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            routes += 1;
            let security = operation.get("security");
            if public.contains(&path.as_str()) {
                assert!(security.is_none(), "{method} {path} is public and must not list a security requirement");
            } else {
                let requirement = security.and_then(|s| s.as_array()).and_then(|s| s.first());
                assert!(requirement.is_some(), "{method} {path} does not say which token it needs");
            }
        }
    }
    assert!(routes > 40, "only {routes} routes documented");
}
