//! `Idempotency-Key`: retries replay the saved response and change nothing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use bitfox_jobs::Outcome;

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

    // The same key for a different request is refused: the key is taken (409).
    let mut other = body.clone();
    other["price_per_minute"] = json!(6);
    let (status, problem) = json_of(send(other, "k-1").await).await;
    assert_eq!(status, StatusCode::CONFLICT);
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

/// A request with an `Idempotency-Key`; the response's status, replay header and body.
async fn keyed(
    app: &TestApp,
    path: &str,
    body: serde_json::Value,
    key: &str,
) -> (StatusCode, bool, serde_json::Value) {
    let response = app.request(Method::POST, path, Some(body), &[("Idempotency-Key", key)]).await;
    let replayed = response.headers().get("idempotent-replayed").is_some();
    let (status, body) = json_of(response).await;
    (status, replayed, body)
}

async fn job_count(app: &TestApp) -> i64 {
    use bitfox_store::diesel::prelude::*;
    app.store
        .read(|c| {
            bitfox_store::schema::jobs::table
                .count()
                .get_result::<i64>(c)
                .map_err(bitfox_store::StoreError::from)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn cluster_routes_replay_a_retry_and_queue_once() {
    use bitfox_domain::Address;
    use bitfox_domain::chain::HolderState;
    use std::sync::Arc;

    let app_account = test_app_account();
    let chain = Arc::new(ScriptedChain::default());
    let app = spawn_with(Options { chain: chain.clone(), ..Options::default() }).await;
    let gpu = app.list_gpu(PROVIDER, "A10", 5).await;

    // POST /clusters
    let create = json!({"operator_address": PROVIDER, "name": "rack", "total_shares": 100,
                        "price_per_share": 5});
    let (status, replayed, first) = keyed(&app, "/clusters", create.clone(), "c-1").await;
    assert_eq!((status, replayed), (StatusCode::ACCEPTED, false), "{first}");
    let (status, replayed, again) = keyed(&app, "/clusters", create.clone(), "c-1").await;
    assert_eq!((status, replayed), (StatusCode::ACCEPTED, true));
    assert_eq!(again, first);
    assert_eq!(app.get("/clusters").await.1.as_array().unwrap().len(), 1, "created once");
    let mut other = create;
    other["name"] = json!("other");
    let (status, _, problem) = keyed(&app, "/clusters", other, "c-1").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["type"], "/problems/idempotency-key-reused");

    // POST /clusters/{id}/gpus
    let attach = json!({"gpu_id": gpu});
    let (status, _, first) = keyed(&app, "/clusters/1/gpus", attach.clone(), "a-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let jobs = job_count(&app).await;
    let (status, replayed, again) = keyed(&app, "/clusters/1/gpus", attach, "a-1").await;
    assert_eq!((status, replayed, again), (StatusCode::ACCEPTED, true, first));
    assert_eq!(job_count(&app).await, jobs);

    // The cluster goes on chain with 100 unsold shares.
    cluster_on_chain(&app, &chain).await;
    let unsold = HolderState { shares: 100, checkpoint: 0, dust: 0, owed: 0 };
    chain.holder_states.lock().unwrap().insert((1, app_account), unsold);

    // POST /clusters/{id}/shares: a retry is answered before the chain is read again,
    // even when the shares it bought are no longer there to buy.
    let buy = json!({"buyer_address": RENTER, "count": 100});
    let (status, _, first) = keyed(&app, "/clusters/1/shares", buy.clone(), "b-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let jobs = job_count(&app).await;
    let sold = HolderState { shares: 0, ..unsold };
    chain.holder_states.lock().unwrap().insert((1, app_account), sold);
    let (status, replayed, again) = keyed(&app, "/clusters/1/shares", buy.clone(), "b-1").await;
    assert_eq!((status, replayed, again), (StatusCode::ACCEPTED, true, first));
    assert_eq!(job_count(&app).await, jobs, "no second purchase");
    assert_eq!(app.post("/clusters/1/shares", buy).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    // POST /clusters/{id}/transfers
    let renter: Address = RENTER.parse().unwrap();
    let held = HolderState { shares: 100, checkpoint: 0, dust: 0, owed: 7 };
    chain.holder_states.lock().unwrap().insert((1, renter), held);
    let transfer = json!({"from_address": RENTER, "to_address": stranger(), "count": 40});
    let (status, _, first) = keyed(&app, "/clusters/1/transfers", transfer.clone(), "t-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let jobs = job_count(&app).await;
    let (status, replayed, again) = keyed(&app, "/clusters/1/transfers", transfer, "t-1").await;
    assert_eq!((status, replayed, again), (StatusCode::ACCEPTED, true, first));
    assert_eq!(job_count(&app).await, jobs);

    // POST /clusters/{id}/claims
    let claim = json!({"holder_address": RENTER});
    let (status, _, first) = keyed(&app, "/clusters/1/claims", claim.clone(), "k-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let jobs = job_count(&app).await;
    chain.holder_states.lock().unwrap().insert((1, renter), HolderState { owed: 0, ..held });
    let (status, replayed, again) = keyed(&app, "/clusters/1/claims", claim, "k-1").await;
    assert_eq!((status, replayed, again), (StatusCode::ACCEPTED, true, first));
    assert_eq!(job_count(&app).await, jobs);
}

#[tokio::test]
async fn a_retried_signature_replays_the_accepted_job() {
    use std::sync::Arc;

    let chain = Arc::new(ScriptedChain::default());
    let app = spawn_with(Options { chain: chain.clone(), ..Options::default() }).await;
    let runner = app.runner(chain.clone());
    let id = app.list_on_chain(&runner, PROVIDER, "A10", 300).await;
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    chain.rents.lock().unwrap().push_back(Err(wallet_must_sign("T", RENTER)));
    assert_eq!(step(&runner).await.unwrap().1, Outcome::AwaitingSignature);
    let path = format!("{}/signature", rental["links"]["job"].as_str().unwrap());
    use base64::Engine;
    let signed = base64::engine::general_purpose::STANDARD.encode("SIGNED:T");
    let body = json!({"signed_transactions": [signed]});
    let (status, replayed, first) = keyed(&app, &path, body.clone(), "s-1").await;
    assert_eq!((status, replayed), (StatusCode::ACCEPTED, false), "{first}");
    assert_eq!(first["state"], "queued");
    // The job is no longer awaiting a signature, yet the retry gets the same answer.
    let (status, replayed, again) = keyed(&app, &path, body.clone(), "s-1").await;
    assert_eq!((status, replayed, again), (StatusCode::ACCEPTED, true, first));
    assert_eq!(app.post(&path, body).await.0, StatusCode::CONFLICT, "without the key");
}
