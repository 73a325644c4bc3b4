//! Production mode: API keys bound to addresses; owners change only their own GPUs,
//! renters stop only their own rentals.

use bitfox_domain::Address;
use bitfox_market::Mode;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

async fn key_for(app: &TestApp, address: &str) -> String {
    let address: Address = address.parse().unwrap();
    app.store
        .write(move |c| {
            bitfox_api::auth::create_key(c, &address, "test", 1)
                .map_err(bitfox_api::error::ApiError::from)
        })
        .await
        .unwrap()
        .1
}

async fn production() -> TestApp {
    spawn_with(Options { mode: Mode::Production, ..Options::default() }).await
}

#[tokio::test]
async fn mutating_requests_need_a_key_in_production() {
    let app = production().await;
    let body = json!({"owner_address": PROVIDER, "gpu_model": "A10", "price_per_minute": 5});
    let response = app.request(Method::POST, "/gpus", Some(body.clone()), &[]).await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let (status, problem) = json_of(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
    // Refused before the body is looked at: an invalid body also gets 401.
    let (status, _) = app.post("/gpus", json!({"nonsense": true})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for header in ["Bearer nope", "Basic Zm9vOmJhcg==", "Bearer bfx_0000"] {
        let (status, _) = json_of(
            app.request(Method::POST, "/gpus", Some(body.clone()), &[("Authorization", header)])
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header}");
    }
    // Reads stay open.
    assert_eq!(app.get("/gpus").await.0, StatusCode::OK);
    assert_eq!(app.get("/gpus?status=all").await.1, json!([]));
}

#[tokio::test]
async fn a_key_acts_only_as_its_own_address() {
    let app = production().await;
    let provider = key_for(&app, PROVIDER).await;
    let renter = key_for(&app, RENTER).await;
    let stranger_addr = stranger();
    let stranger_key = key_for(&app, &stranger_addr).await;
    let listing = json!({"owner_address": PROVIDER, "gpu_model": "A10", "price_per_minute": 5});

    let (status, problem) = app.post_as("/gpus", Some(listing.clone()), &renter).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let (status, gpu) = app.post_as("/gpus", Some(listing), &provider).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = gpu["id"].as_i64().unwrap();

    // Only the owner changes or delists the GPU.
    let auth = |key: &str| format!("Bearer {key}");
    let patch = json!({"price_per_minute": 1});
    let (status, _) = json_of(
        app.request(
            Method::PATCH,
            &format!("/gpus/{id}"),
            Some(patch.clone()),
            &[("Authorization", &auth(&renter))],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = json_of(
        app.request(
            Method::DELETE,
            &format!("/gpus/{id}"),
            None,
            &[("Authorization", &auth(&renter))],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["price_per_minute"], 5, "nothing changed");
    let (status, _) = json_of(
        app.request(
            Method::PATCH,
            &format!("/gpus/{id}"),
            Some(patch),
            &[("Authorization", &auth(&provider))],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Renting as someone else is refused; as oneself it is accepted.
    let rent = json!({"renter_address": RENTER});
    assert_eq!(
        app.post_as(&format!("/gpus/{id}/rent"), Some(rent.clone()), &stranger_key).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["status"], "available");
    assert_eq!(
        app.post_as(&format!("/gpus/{id}/rent"), Some(rent), &renter).await.0,
        StatusCode::ACCEPTED
    );

    // Only the renter or the provider stops it.
    let (status, problem) = app.post_as(&format!("/gpus/{id}/stop"), None, &stranger_key).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let (_, rentals) = app.get("/rentals").await;
    assert_eq!(rentals[0]["stop_requested"], false, "nothing changed");
    assert_eq!(
        app.post_as(&format!("/gpus/{id}/stop"), None, &renter).await.0,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn revoked_keys_stop_working() {
    let app = production().await;
    let key = key_for(&app, PROVIDER).await;
    let body = json!({"owner_address": PROVIDER, "gpu_model": "A10", "price_per_minute": 5});
    assert_eq!(app.post_as("/gpus", Some(body.clone()), &key).await.0, StatusCode::CREATED);
    let hash = bitfox_api::auth::hash_key(&key);
    let plain = key.clone();
    let revoked = app
        .store
        .write(move |c| {
            let row = bitfox_store::repo::api_key::find_active(c, &hash)?.unwrap();
            assert_ne!(row.key_hash, plain, "only the hash is stored");
            Ok::<_, bitfox_api::error::ApiError>(bitfox_store::repo::api_key::revoke(c, row.id, 2)?)
        })
        .await
        .unwrap();
    assert!(revoked);
    assert_eq!(app.post_as("/gpus", Some(body), &key).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn dev_mode_is_open_but_still_checks_a_key_that_is_sent() {
    let app = spawn_app().await;
    let renter = key_for(&app, RENTER).await;
    let body = json!({"owner_address": PROVIDER, "gpu_model": "A10", "price_per_minute": 5});
    assert_eq!(app.post("/gpus", body.clone()).await.0, StatusCode::CREATED);
    assert_eq!(app.post_as("/gpus", Some(body), &renter).await.0, StatusCode::FORBIDDEN);
}
