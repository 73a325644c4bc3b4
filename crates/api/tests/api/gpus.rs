//! The original wire contract and the listing endpoints.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn seed_flow_works_unchanged() {
    let app = spawn_app().await;
    let (status, gpu) = app
        .post(
            "/gpus",
            json!({"owner_address": PROVIDER, "gpu_model": "RTX 4090", "price_per_minute": 1000}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(gpu["owner_address"], PROVIDER);
    assert_eq!(gpu["gpu_model"], "RTX 4090");
    assert_eq!(gpu["price_per_minute"], 1000);
    assert_eq!(gpu["status"], "available");
    let id = gpu["id"].as_i64().unwrap();

    let (status, list) = app.get("/gpus").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id);

    let (status, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{rental}");
    assert_eq!(rental["status"], "pending");
    assert_eq!(rental["deposit"], 60_000, "default 60 minutes at 1000/min");
    assert_eq!(rental["links"]["self"], format!("/rentals/{}", rental["id"]));
    assert!(rental["links"]["job"].as_str().unwrap().starts_with("/jobs/"));

    // A GPU being rented is no longer listed as available, and cannot be rented again.
    assert_eq!(app.get("/gpus").await.1, json!([]));
    let (status, problem) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(problem["detail"].as_str().unwrap().contains("not available"), "{problem}");

    let response = app.request(Method::POST, &format!("/gpus/{id}/stop"), None, &[]).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let (_, stopped) = json_of(response).await;
    assert_eq!(stopped["stop_requested"], true);
    assert_eq!(stopped["id"], rental["id"]);

    for path in ["/gpus/999/rent", "/gpus/999/stop"] {
        let (status, problem) = app.post(path, json!({"renter_address": RENTER})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(problem["status"], 404);
    }
}

#[tokio::test]
async fn rent_answers_202_with_location_and_a_queued_job() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "A100", 500).await;
    let response = app
        .request(
            Method::POST,
            &format!("/gpus/{id}/rent"),
            Some(json!({"renter_address": RENTER, "max_minutes": 30})),
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (_, rental) = json_of(response).await;
    assert_eq!(location, format!("/rentals/{}", rental["id"]));
    assert_eq!(rental["deposit"], 15_000);
    assert_eq!(rental["max_minutes"], 30);
    let (status, job) = app.get(rental["links"]["job"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(job["kind"], "rent");
    assert_eq!(job["state"], "queued");
    assert_eq!(job["rental_id"], rental["id"]);
    let (_, gpu) = app.get(&format!("/gpus/{id}")).await;
    assert_eq!(gpu["status"], "renting");
}

#[tokio::test]
async fn a_listing_carries_specs_and_reliability() {
    let app = spawn_app().await;
    let (status, gpu) = app
        .post(
            "/gpus",
            json!({"owner_address": PROVIDER, "gpu_model": "H100", "price_per_minute": 9000,
                   "vram_gb": 80, "gpu_count": 8, "region": "eu-west"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(gpu["vram_gb"], 80);
    assert_eq!(gpu["gpu_count"], 8);
    assert_eq!(gpu["region"], "eu-west");
    assert_eq!(gpu["reliability"], json!({"completed_rentals": 0, "failed_rentals": 0}));
    let (status, fetched) = app.get(&format!("/gpus/{}", gpu["id"])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, gpu);
}

#[tokio::test]
async fn patch_changes_price_and_specs_but_not_while_rented() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "RTX 3090", 700).await;
    let path = format!("/gpus/{id}");
    let patch = |body| app.request(Method::PATCH, &path, Some(body), &[]);
    let (status, gpu) =
        json_of(patch(json!({"price_per_minute": 650, "vram_gb": 24, "region": "us-east"})).await)
            .await;
    assert_eq!(status, StatusCode::OK, "{gpu}");
    assert_eq!((gpu["price_per_minute"].as_u64(), gpu["vram_gb"].as_u64()), (Some(650), Some(24)));
    let (status, gpu) = json_of(patch(json!({"region": null})).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gpu["region"], serde_json::Value::Null);
    assert_eq!(gpu["vram_gb"], 24, "absent fields are left alone");

    let (status, problem) = json_of(patch(json!({})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "body");

    app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    let (status, problem) = json_of(patch(json!({"price_per_minute": 1})).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["price_per_minute"], 650, "unchanged");

    let (status, _) =
        json_of(app.request(Method::PATCH, "/gpus/4242", Some(json!({"gpu_count": 2})), &[]).await)
            .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn delete_delists_idempotently_but_not_while_rented() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "L4", 100).await;
    let rented = app.list_gpu(PROVIDER, "L4", 100).await;
    app.post(&format!("/gpus/{rented}/rent"), json!({"renter_address": RENTER})).await;

    for _ in 0..2 {
        let (status, gpu) =
            json_of(app.request(Method::DELETE, &format!("/gpus/{id}"), None, &[]).await).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(gpu["status"], "delisted");
    }
    let (status, _) =
        json_of(app.request(Method::DELETE, &format!("/gpus/{rented}"), None, &[]).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(app.get(&format!("/gpus/{rented}")).await.1["status"], "renting");

    let (status, _) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a delisted GPU cannot be rented");
    assert_eq!(app.get("/gpus?status=delisted").await.1.as_array().unwrap().len(), 1);
    let (status, _) = json_of(app.request(Method::DELETE, "/gpus/777", None, &[]).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn two_renters_racing_for_one_gpu_exactly_one_wins() {
    let app = spawn_app().await;
    for round in 0..10 {
        let id = app.list_gpu(PROVIDER, "RTX 4090", 1000 + round).await;
        let other = stranger();
        let path = format!("/gpus/{id}/rent");
        let (a, b) = tokio::join!(
            app.post(&path, json!({"renter_address": RENTER})),
            app.post(&path, json!({"renter_address": other})),
        );
        let mut statuses = [a.0, b.0];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::ACCEPTED, StatusCode::CONFLICT], "round {round}");
        let (_, rentals) = app.get("/rentals?status=pending&limit=200").await;
        let for_gpu = rentals.as_array().unwrap().iter().filter(|r| r["gpu_id"] == id).count();
        assert_eq!(for_gpu, 1);
    }
}

#[tokio::test]
async fn a_provider_cannot_rent_its_own_gpu() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "T4", 10).await;
    // The request is valid for any other GPU: the refusal comes from this one (409).
    let (status, problem) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": PROVIDER})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(problem["detail"].as_str().unwrap().starts_with("renter_address: "), "{problem}");
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["status"], "available");
}

#[tokio::test]
async fn a_deposit_beyond_the_supply_conflicts_with_the_price() {
    let app = spawn_app().await;
    // 10^12 per minute: 10,000 minutes would be the whole supply, 10,001 is too much.
    let id = app.list_gpu(PROVIDER, "H100", 1_000_000_000_000).await;
    let rent = |minutes: u64| json!({"renter_address": RENTER, "max_minutes": minutes});
    let (status, problem) = app.post(&format!("/gpus/{id}/rent"), rent(10_001)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(problem["detail"].as_str().unwrap().starts_with("max_minutes: "), "{problem}");
    assert_eq!(app.get("/rentals").await.1, json!([]));
    let (status, rental) = app.post(&format!("/gpus/{id}/rent"), rent(10_000)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{rental}");
    assert_eq!(rental["deposit"], 10_000_000_000_000_000u64);
}

#[tokio::test]
async fn a_delisted_gpu_is_not_found_but_still_listed() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "T4", 10).await;
    let (status, gpu) =
        json_of(app.request(Method::DELETE, &format!("/gpus/{id}"), None, &[]).await).await;
    assert_eq!((status, gpu["status"].as_str()), (StatusCode::OK, Some("delisted")));
    let (status, problem) = app.get(&format!("/gpus/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("delisted"), "{problem}");
    let (_, listed) = app.get("/gpus?status=delisted").await;
    assert_eq!(listed[0]["id"], id);
    let (status, again) =
        json_of(app.request(Method::DELETE, &format!("/gpus/{id}"), None, &[]).await).await;
    assert_eq!(
        (status, again["status"].as_str()),
        (StatusCode::OK, Some("delisted")),
        "delisting again is harmless"
    );
}

#[tokio::test]
async fn stopping_without_a_rental_or_twice_is_a_conflict() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "T4", 10).await;
    let (status, problem) = app.post(&format!("/gpus/{id}/stop"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(problem["detail"].as_str().unwrap().contains("no rental"), "{problem}");
    app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    let (status, problem) =
        app.post(&format!("/gpus/{id}/stop"), json!({"renter_address": stranger()})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    let (status, stopped) =
        app.post(&format!("/gpus/{id}/stop"), json!({"renter_address": RENTER})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // Nothing was sent yet: the stop cancelled the rental, so there is none to stop.
    assert_eq!(stopped["status"], "cancelled", "{stopped}");
    let (status, problem) = app.post(&format!("/gpus/{id}/stop"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(problem["detail"].as_str().unwrap().contains("no rental"), "{problem}");
}
