//! Every documented error: one problem+json shape, the field named, nothing changed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

fn assert_problem(status: StatusCode, problem: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{problem}");
    assert_eq!(problem["status"], expected.as_u16(), "{problem}");
    for key in ["type", "title", "detail"] {
        assert!(problem[key].is_string(), "{key} missing: {problem}");
    }
}

#[tokio::test]
async fn invalid_listings_are_refused_with_the_field_and_rule() {
    let app = spawn_app().await;
    let good =
        json!({"owner_address": PROVIDER, "gpu_model": "RTX 4090", "price_per_minute": 1000});
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = good.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let mut bad_checksum = PROVIDER.to_owned();
    bad_checksum.replace_range(57..58, "I");
    let cases = [
        (with("owner_address", json!("abc")), "owner_address", "58 characters"),
        (with("owner_address", json!(bad_checksum)), "owner_address", "checksum"),
        (with("owner_address", json!(PROVIDER.to_lowercase())), "owner_address", "upper-case"),
        (with("owner_address", json!(42)), "owner_address", "invalid type"),
        (with("gpu_model", json!("")), "gpu_model", "1 to 100"),
        (with("gpu_model", json!("x".repeat(101))), "gpu_model", "1 to 100"),
        (with("price_per_minute", json!(0)), "price_per_minute", "greater than zero"),
        (with("price_per_minute", json!(-5)), "price_per_minute", "invalid value"),
        (with("price_per_minute", json!(1.5)), "price_per_minute", "invalid type"),
        (with("price_per_minute", json!("1000")), "price_per_minute", "invalid type"),
        (
            with("price_per_minute", json!(10_000_000_000_000_001u64)),
            "price_per_minute",
            "total Algo supply",
        ),
        (with("price_per_minute", json!(u64::MAX)), "price_per_minute", "total Algo supply"),
        (with("vram_gb", json!(0)), "vram_gb", "between 1 and 4096"),
        (with("gpu_count", json!(5000)), "gpu_count", "between 1 and 1024"),
        (with("region", json!("eu/west")), "region", "letters, digits"),
        (with("colour", json!("red")), "colour", "unknown field"),
        (without("gpu_model"), "gpu_model", "missing field"),
        (without("owner_address"), "owner_address", "missing field"),
    ];
    for (body, field, rule) in cases {
        let (status, problem) = app.post("/gpus", body.clone()).await;
        assert_problem(status, &problem, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["type"], "/problems/validation");
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(rule), "{body}: {message}");
    }
    assert_eq!(app.get("/gpus?status=all").await.1, json!([]), "nothing was listed");
}

#[tokio::test]
async fn malformed_bodies_and_media_types() {
    let app = spawn_app().await;
    let send = |body: &'static str, content_type: &'static str| {
        let app = &app;
        async move {
            let response = app
                .client
                .post(format!("{}/gpus", app.base))
                .header("Content-Type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let content = response.headers()["content-type"].to_str().unwrap().to_owned();
            assert_eq!(content, "application/problem+json");
            json_of(response).await
        }
    };
    let (status, problem) = send("{not json", "application/json").await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST);
    assert!(problem["detail"].as_str().unwrap().contains("not valid JSON"));
    let (status, problem) = send("", "application/json").await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST);
    let (status, problem) = send("[1, 2]", "application/json").await;
    assert_problem(status, &problem, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, problem) = send("owner_address=x", "application/x-www-form-urlencoded").await;
    assert_problem(status, &problem, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = spawn_with(Options { body_limit: Some(1024), ..Options::default() }).await;
    let body =
        json!({"owner_address": PROVIDER, "gpu_model": "x".repeat(2000), "price_per_minute": 1});
    let (status, problem) = app.post("/gpus", body).await;
    assert_problem(status, &problem, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(problem["detail"].as_str().unwrap().contains("1024"), "{problem}");
}

#[tokio::test]
async fn invalid_rents_change_nothing() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "H100", 10_000_000_000).await;
    for (body, field) in [
        (json!({}), "renter_address"),
        (json!({"renter_address": "x"}), "renter_address"),
        (json!({"renter_address": RENTER, "max_minutes": 0}), "max_minutes"),
        (json!({"renter_address": RENTER, "max_minutes": 525_601}), "max_minutes"),
        // 10^10 * 10^6 = 10^16 is the whole supply; one more minute is too much.
        (json!({"renter_address": RENTER, "max_minutes": 1_000_001}), "max_minutes"),
        (json!({"renter_address": RENTER, "extra": true}), "extra"),
    ] {
        let (status, problem) = app.post(&format!("/gpus/{id}/rent"), body.clone()).await;
        assert_problem(status, &problem, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], field, "{body}: {problem}");
    }
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["status"], "available");
    assert_eq!(app.get("/rentals").await.1, json!([]));
    let (status, problem) = app.post(&format!("/gpus/{id}/stop"), json!({"now": 1})).await;
    assert_problem(status, &problem, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    // A documented path asked with another method: 405 with the methods it has.
    for (method, path, status, allow) in [
        (Method::GET, "/nope", StatusCode::NOT_FOUND, None),
        (Method::GET, "/gpus/1/nope", StatusCode::NOT_FOUND, None),
        (Method::PUT, "/gpus", StatusCode::METHOD_NOT_ALLOWED, Some("GET, POST")),
        (Method::TRACE, "/health", StatusCode::METHOD_NOT_ALLOWED, Some("GET")),
        (Method::POST, "/rentals/1", StatusCode::METHOD_NOT_ALLOWED, Some("GET")),
        (Method::PUT, "/gpus/abc", StatusCode::METHOD_NOT_ALLOWED, Some("GET, DELETE, PATCH")),
        (Method::OPTIONS, "/gpus/1/rent", StatusCode::METHOD_NOT_ALLOWED, Some("POST")),
    ] {
        let response = app.request(method.clone(), path, None, &[]).await;
        let content = response.headers()["content-type"].to_str().unwrap().to_owned();
        let allowed = response.headers().get("allow").map(|v| v.to_str().unwrap().to_owned());
        let (got, problem) = json_of(response).await;
        assert_problem(got, &problem, status);
        assert_eq!(content, "application/problem+json", "{method} {path}");
        assert_eq!(allowed.as_deref(), allow, "{method} {path}");
    }
}

#[tokio::test]
async fn integers_may_be_written_as_floats_and_a_null_body_is_no_body() {
    let app = spawn_app().await;
    let body = json!({"owner_address": PROVIDER, "gpu_model": "T4", "price_per_minute": 1000.0,
                      "vram_gb": 1.6e1});
    let (status, gpu) = app.post("/gpus", body).await;
    assert_eq!(status, StatusCode::CREATED, "{gpu}");
    assert_eq!((gpu["price_per_minute"].as_u64(), gpu["vram_gb"].as_u64()), (Some(1000), Some(16)));
    let (status, problem) = app
        .post(
            "/gpus",
            json!({"owner_address": PROVIDER, "gpu_model": "T4",
                                                      "price_per_minute": 1000.5}),
        )
        .await;
    assert_problem(status, &problem, StatusCode::UNPROCESSABLE_ENTITY);
    let id = gpu["id"].as_i64().unwrap();
    let (status, problem) = app.post(&format!("/gpus/{id}/stop"), json!(null)).await;
    assert_eq!(status, StatusCode::CONFLICT, "no rental to stop, the body is fine: {problem}");
}

#[tokio::test]
async fn a_change_names_a_field_and_only_vram_and_region_clear() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "T4", 10).await;
    let path = format!("/gpus/{id}");
    for body in [
        json!({}),
        json!({"gpu_model": null}),
        json!({"price_per_minute": null}),
        json!({"gpu_count": null}),
    ] {
        let (status, problem) =
            json_of(app.request(Method::PATCH, &path, Some(body.clone()), &[]).await).await;
        assert_problem(status, &problem, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(problem["errors"][0]["field"].is_string(), "{body}: {problem}");
    }
    let (status, gpu) =
        json_of(app.request(Method::PATCH, &path, Some(json!({"vram_gb": null})), &[]).await).await;
    assert_eq!(status, StatusCode::OK, "{gpu}");
}
