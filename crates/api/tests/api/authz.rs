//! The authorization matrix, in production mode: every mutating route of the OpenAPI
//! document × {no key, a revoked key, another account's key, the right key}. Every wrong
//! combination is 401 or 403 and changes nothing in the database (so nothing can reach
//! the chain either: chain work is only ever done by jobs); the right key gets past
//! authorization. Routes come from the served document, so a new mutating route without
//! a row here fails the test.

use std::sync::Arc;

use bitfox_domain::Address;
use bitfox_domain::chain::HolderState;
use bitfox_jobs::Outcome;
use bitfox_market::Mode;
use bitfox_store::diesel::dsl::sql;
use bitfox_store::diesel::prelude::*;
use bitfox_store::diesel::select;
use bitfox_store::diesel::sql_types::Text;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn key_for(app: &TestApp, address: &str) -> (i64, String) {
    let address: Address = address.parse().unwrap();
    app.store
        .write(move |c| {
            bitfox_api::auth::create_key(c, &address, "matrix", 1)
                .map_err(bitfox_api::error::ApiError::from)
        })
        .await
        .unwrap()
}

/// Every row that a request could add or change, summed up.
async fn fingerprint(app: &TestApp) -> String {
    let tables = ["gpus", "rentals", "jobs", "clusters"]
        .map(|t| format!("(SELECT count(*) || ':' || coalesce(sum(updated_at), 0) FROM {t})"))
        .join(" || '|' || ");
    let query = format!(
        "{tables} || '|' || (SELECT count(*) FROM idempotency_keys) || '|' || \
         (SELECT count(*) FROM api_keys)"
    );
    app.store
        .read(move |c| {
            select(sql::<Text>(&query))
                .get_result::<String>(c)
                .map_err(bitfox_store::StoreError::from)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn every_mutating_route_refuses_every_wrong_key_and_changes_nothing() {
    let app_account = test_app_account();
    let chain = Arc::new(ScriptedChain::default());
    let app =
        spawn_with(Options { mode: Mode::Production, chain: chain.clone(), ..Options::default() })
            .await;
    let runner = app.runner(chain.clone());
    let (_, owner) = key_for(&app, PROVIDER).await;
    let (_, renter) = key_for(&app, RENTER).await;
    let (_, other) = key_for(&app, &stranger()).await;
    let (revoked_id, revoked) = key_for(&app, PROVIDER).await;
    app.store
        .write(move |c| {
            bitfox_store::repo::api_key::revoke(c, revoked_id, 2)
                .map_err(bitfox_store::StoreError::from)
        })
        .await
        .unwrap();

    // The world the routes act on: GPU 1 rented (pending) by the renter, GPU 2 whose
    // rent job awaits the renter's wallet, cluster 1 of the owner, active on chain.
    let listing = json!({"owner_address": PROVIDER, "gpu_model": "A10", "price_per_minute": 5});
    for _ in 0..2 {
        assert_eq!(
            app.post_as("/gpus", Some(listing.clone()), &owner).await.0,
            StatusCode::CREATED
        );
        assert_eq!(step(&runner).await.unwrap().1, Outcome::Succeeded);
    }
    let rent = json!({"renter_address": RENTER});
    assert_eq!(
        app.post_as("/gpus/2/rent", Some(rent.clone()), &renter).await.0,
        StatusCode::ACCEPTED
    );
    chain.rents.lock().unwrap().push_back(Err(wallet_must_sign("T", RENTER)));
    let (job, outcome) = step(&runner).await.unwrap();
    assert_eq!(outcome, Outcome::AwaitingSignature);
    assert_eq!(
        app.post_as("/gpus/1/rent", Some(rent.clone()), &renter).await.0,
        StatusCode::ACCEPTED
    );
    let cluster = json!({"operator_address": PROVIDER, "name": "rack", "total_shares": 100,
                         "price_per_share": 5});
    assert_eq!(
        app.post_as("/clusters", Some(cluster.clone()), &owner).await.0,
        StatusCode::ACCEPTED
    );
    cluster_on_chain(&app, &chain).await;
    let operator: Address = PROVIDER.parse().unwrap();
    let held = HolderState { shares: 50, checkpoint: 0, dust: 0, owed: 3 };
    chain.holder_states.lock().unwrap().insert((1, app_account), held);
    chain.holder_states.lock().unwrap().insert((1, operator), held);

    // One request per mutating route, acting for the owner (or the renter, for rent,
    // stop and signing): the key of anyone else must be refused.
    use base64::Engine;
    let signed = base64::engine::general_purpose::STANDARD.encode("SIGNED:T");
    let requests: Vec<(&str, &str, String, Option<Value>, &str)> = vec![
        ("post", "/gpus", "/gpus".into(), Some(listing), &owner),
        ("patch", "/gpus/{id}", "/gpus/3".into(), Some(json!({"price_per_minute": 9})), &owner),
        ("delete", "/gpus/{id}", "/gpus/3".into(), None, &owner),
        ("post", "/gpus/{id}/heartbeat", "/gpus/3".to_owned() + "/heartbeat", None, &owner),
        ("post", "/gpus/{id}/retirement", "/gpus/3/retirement".into(), Some(json!({})), &owner),
        ("post", "/gpus/{id}/rent", "/gpus/3/rent".into(), Some(rent), &renter),
        ("post", "/gpus/{id}/stop", "/gpus/1/stop".into(), Some(json!({})), &renter),
        ("post", "/clusters", "/clusters".into(), Some(cluster), &owner),
        (
            "post",
            "/clusters/{id}/gpus",
            "/clusters/1/gpus".into(),
            Some(json!({"gpu_id": 3})),
            &owner,
        ),
        (
            "post",
            "/clusters/{id}/shares",
            "/clusters/1/shares".into(),
            Some(json!({"buyer_address": RENTER, "count": 1})),
            &renter,
        ),
        (
            "post",
            "/clusters/{id}/transfers",
            "/clusters/1/transfers".into(),
            Some(json!({"from_address": PROVIDER, "to_address": RENTER, "count": 1})),
            &owner,
        ),
        (
            "post",
            "/clusters/{id}/claims",
            "/clusters/1/claims".into(),
            Some(json!({"holder_address": PROVIDER})),
            &owner,
        ),
        (
            "post",
            "/jobs/{id}/signature",
            format!("/jobs/{job}/signature"),
            Some(json!({"signed_transactions": [signed]})),
            &renter,
        ),
    ];
    // GPU 3, the owner's, free: the target of the listing routes.
    assert_eq!(
        app.post_as(
            "/gpus",
            Some(json!({"owner_address": PROVIDER, "gpu_model": "T4",
                                         "price_per_minute": 5})),
            &owner
        )
        .await
        .0,
        StatusCode::CREATED
    );

    // Every mutating route of the served document has its row.
    let (_, doc) = app.get("/openapi.json").await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                assert!(
                    requests.iter().any(|(m, p, ..)| *m == method && p == path),
                    "{} {path} is not in the authorization matrix",
                    method.to_uppercase()
                );
            }
        }
    }

    let someone_else = other.clone();
    for (method, template, path, body, right) in &requests {
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        for (who, key, want) in [
            ("no key", None, StatusCode::UNAUTHORIZED),
            ("a revoked key", Some(revoked.as_str()), StatusCode::UNAUTHORIZED),
            ("another account's key", Some(someone_else.as_str()), StatusCode::FORBIDDEN),
        ] {
            let before = fingerprint(&app).await;
            let auth = key.map(|k| format!("Bearer {k}"));
            let headers: Vec<(&str, &str)> =
                auth.iter().map(|a| ("Authorization", a.as_str())).collect();
            let (status, problem) =
                json_of(app.request(method.clone(), path, body.clone(), &headers).await).await;
            assert_eq!(status, want, "{method} {template} with {who}: {problem}");
            assert_eq!(fingerprint(&app).await, before, "{method} {template} with {who}");
        }
        let auth = format!("Bearer {right}");
        let (status, problem) = json_of(
            app.request(method.clone(), path, body.clone(), &[("Authorization", auth.as_str())])
                .await,
        )
        .await;
        assert!(
            status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
            "{method} {template} with the right key: {status} {problem}"
        );
    }
}
