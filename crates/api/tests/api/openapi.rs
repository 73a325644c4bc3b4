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

#[test]
fn links_name_operations_and_the_parameters_they_take() {
    bitfox_api::spec::check_links(&bitfox_api::openapi()).unwrap();
    let doc = serde_json::to_value(bitfox_api::openapi()).unwrap();
    let link = &doc["paths"]["/gpus"]["post"]["responses"]["201"]["links"]["RentGpu"];
    assert_eq!(link["operationId"], "rent_gpu", "{link}");
    assert_eq!(link["parameters"]["id"], "$response.body#/id", "{link}");
}

#[test]
fn bounds_are_the_servers() {
    let doc = serde_json::to_value(bitfox_api::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let supply = bitfox_domain::amount::TOTAL_SUPPLY;
    for (schema, field, min, max) in [
        ("CreateGpu", "price_per_minute", 1, supply),
        ("UpdateGpu", "price_per_minute", 1, supply),
        ("CreateGpu", "vram_gb", 1, 4096),
        ("CreateGpu", "gpu_count", 1, 1024),
        ("RentGpu", "max_minutes", 1, bitfox_market::rentals::MAX_MAX_MINUTES),
        ("CreateCluster", "total_shares", 1, bitfox_market::clusters::MAX_SHARES),
        ("CreateCluster", "price_per_share", 0, supply),
    ] {
        let property = &schemas[schema]["properties"][field];
        assert_eq!(property["minimum"], min, "{schema}.{field}");
        assert_eq!(property["maximum"], max, "{schema}.{field}");
    }
    assert_eq!(schemas["UpdateGpu"]["minProperties"], 1);
    assert!(schemas["UpdateGpu"].get("maxProperties").is_none());
    let limit = doc["paths"]["/gpus"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap()
        .clone();
    assert_eq!(limit["schema"]["maximum"], bitfox_api::routes::MAX_LIMIT);
    let statuses: Vec<&str> = bitfox_domain::GpuStatus::ALL.iter().map(|s| s.as_str()).collect();
    let filter = schemas["GpuStatusFilter"]["enum"].as_array().unwrap();
    assert_eq!(filter.len(), statuses.len() + 1);
}

#[test]
fn every_body_documents_its_extractor_answers() {
    let doc = serde_json::to_value(bitfox_api::openapi()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(responses.contains_key(status), "{method} {path}: {status}");
                }
            }
            for (status, response) in responses {
                if !status.starts_with('2') {
                    assert!(
                        response["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status}: problem+json"
                    );
                }
            }
        }
    }
}
