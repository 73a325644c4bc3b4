//! `Idempotency-Key`: retries replay the saved response and change nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_retried_post_replays_the_first_response() {
    let app = spawn_app().await;
    let body = json!({"owner_address": PROVIDER, "gpu_model": "A10", "price_per_minute": 5});
    let send = |body: serde_json::Value, key: &'static str| {
        let app = &app;
        async move { app.request(Method::POST, "/gpus", Some(body), &[("Idempotency-Key", key)]).await }
    };
    let first = send(body.clone(), "k-1").await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let (_, first) = json_of(first).await;
    let again = send(body.clone(), "k-1").await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], format!("/gpus/{}", first["id"]));
    assert_eq!(json_of(again).await.1, first);
    assert_eq!(app.get("/gpus").await.1.as_array().unwrap().len(), 1, "listed once");

    // The same key for a different request is refused.
    let mut other = body.clone();
    other["price_per_minute"] = json!(6);
    let (status, problem) = json_of(send(other, "k-1").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "/problems/idempotency-key-reused");
    // A different key is a different request.
    assert_eq!(send(body, "k-2").await.status(), StatusCode::CREATED);
    assert_eq!(app.get("/gpus").await.1.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_retried_rent_does_not_rent_twice() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "A10", 5).await;
    let path = format!("/gpus/{id}/rent");
    let rent = || {
        app.request(
            Method::POST,
            &path,
            Some(json!({"renter_address": RENTER})),
            &[("Idempotency-Key", "rent-1")],
        )
    };
    let (a, b) = tokio::join!(rent(), rent());
    let (sa, ra) = json_of(a).await;
    let (sb, rb) = json_of(b).await;
    assert_eq!((sa, sb), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    assert_eq!(ra, rb, "concurrent retries get the same rental");
    assert_eq!(app.get("/rentals").await.1.as_array().unwrap().len(), 1);
    // Without the key, a second rent is the ordinary conflict.
    assert_eq!(app.post(&path, json!({"renter_address": RENTER})).await.0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn refused_requests_are_not_saved() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "A10", 5).await;
    let path = format!("/gpus/{id}/stop");
    let stop = || app.request(Method::POST, &path, None, &[("Idempotency-Key", "stop-1")]);
    assert_eq!(stop().await.status(), StatusCode::CONFLICT, "nothing to stop yet");
    app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    assert_eq!(
        stop().await.status(),
        StatusCode::ACCEPTED,
        "the key was not used up by the refusal"
    );
    let bad =
        app.request(Method::POST, "/gpus", Some(json!({})), &[("Idempotency-Key", " ")]).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
