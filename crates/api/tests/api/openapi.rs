//! The OpenAPI document: served, generated from the handlers, snapshot-tested.
//! Regenerate the snapshot with `UPDATE_SNAPSHOTS=1 cargo test -p bitfox-api openapi`.

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

#[tokio::test]
async fn served_document_matches_the_snapshot() {
    let app = spawn_app().await;
    let (status, served) = app.get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served, serde_json::to_value(bitfox_api::openapi()).unwrap());
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    let path = snapshot_path();
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &pretty).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == pretty,
        "the OpenAPI document changed; review and run UPDATE_SNAPSHOTS=1 cargo test -p bitfox-api openapi"
    );
}

#[tokio::test]
async fn every_route_is_documented() {
    let doc = serde_json::to_value(bitfox_api::openapi()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/gpus", "get"),
        ("/gpus", "post"),
        ("/gpus/{id}", "get"),
        ("/gpus/{id}", "patch"),
        ("/gpus/{id}", "delete"),
        ("/gpus/{id}/rent", "post"),
        ("/gpus/{id}/stop", "post"),
        ("/gpus/{id}/heartbeat", "post"),
        ("/gpus/{id}/retirement", "post"),
        ("/rentals", "get"),
        ("/rentals/{id}", "get"),
        ("/jobs/{id}", "get"),
        ("/jobs/{id}/signature", "post"),
        ("/clusters", "post"),
        ("/clusters", "get"),
        ("/clusters/{id}", "get"),
        ("/clusters/{id}/holders", "get"),
        ("/clusters/{id}/gpus", "post"),
        ("/clusters/{id}/shares", "post"),
        ("/clusters/{id}/transfers", "post"),
        ("/clusters/{id}/claims", "post"),
        ("/accounts/{address}/portfolio", "get"),
        ("/health", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} undocumented"
        );
    }
    assert_eq!(paths.values().map(|p| p.as_object().unwrap().len()).sum::<usize>(), 24);
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let rent = &doc["paths"]["/gpus/{id}/rent"]["post"]["responses"];
    assert!(rent["202"].is_object() && rent["409"].is_object(), "{rent}");
}

#[tokio::test]
async fn interactive_docs_are_served_offline() {
    let app = spawn_app().await;
    let response = app.request(reqwest::Method::GET, "/docs/", None, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("https://"), "no asset may come from the internet");
    let (status, _): (StatusCode, Value) = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(status, StatusCode::OK);
}
