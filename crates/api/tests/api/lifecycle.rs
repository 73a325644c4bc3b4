//! Jobs carried out through the chain port: confirmation, settlement, refusals,
//! retries, the honest "no chain" default, and surviving a restart.

use std::sync::Arc;

use bitfox_domain::billing::{FeeBps, PricePerMinute, Settlement};
use bitfox_domain::chain::{ChainError, RentReceipt, SettleReceipt, Unconfigured};
use bitfox_domain::{JobId, MicroAlgos};
use bitfox_jobs::Outcome;
use reqwest::{Method, StatusCode};
use serde_json::json;

use bitfox_store::repo::job;

use crate::helpers::*;

fn receipt(started_at: u64) -> Result<RentReceipt, ChainError> {
    Ok(RentReceipt { txid: "RENTTXID".to_owned(), started_at, chain_rental_id: 1 })
}

#[tokio::test]
async fn rent_confirm_stop_settle_records_exact_amounts() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let runner = app.runner(chain.clone());
    let id = app.list_on_chain(&runner, PROVIDER, "RTX 4090", 1000).await;
    let (_, rental) = app
        .post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER, "max_minutes": 10}))
        .await;
    let rental_path = rental["links"]["self"].as_str().unwrap().to_owned();

    chain.rents.lock().unwrap().push_back(receipt(1_700_000_000));
    let (job_id, outcome) = step(&runner).await.unwrap();
    assert_eq!(outcome, Outcome::Succeeded);
    let order = chain.rent_orders.lock().unwrap()[0].clone();
    assert_eq!((order.deposit, order.renter.to_string()), (MicroAlgos(10_000), RENTER.to_owned()));

    let (_, active) = app.get(&rental_path).await;
    assert_eq!(active["status"], "active");
    assert_eq!(active["transactions"]["rent"], "RENTTXID");
    assert_eq!(active["started_at"], "2023-11-14T22:13:20Z");
    assert_eq!(active["cost_so_far"], 10_000, "long past: the whole deposit is used up");
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["status"], "rented");
    assert_eq!(app.get(&format!("/jobs/{job_id}")).await.1["state"], "succeeded");

    let (status, stopping) = app.post(&format!("/gpus/{id}/stop"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(stopping["status"], "settling");

    // 61 seconds at 1000/min with a 2.5 % fee.
    let settlement = Settlement::compute(
        PricePerMinute::new(1000).unwrap(),
        MicroAlgos(10_000),
        61,
        FeeBps::new(250).unwrap(),
    );
    chain.settles.lock().unwrap().push_back(Ok(SettleReceipt {
        txid: "SETTLETXID".to_owned(),
        ended_at: 1_700_000_061,
        settlement,
    }));
    assert_eq!(step(&runner).await.unwrap().1, Outcome::Succeeded);
    let (_, settled) = app.get(&rental_path).await;
    assert_eq!(settled["status"], "settled");
    assert_eq!(
        settled["settlement"],
        json!({"cost": 1017, "paid_to_provider": 992, "platform_fee": 25, "refunded": 8983})
    );
    assert_eq!(settled["transactions"]["settle"], "SETTLETXID");
    assert_eq!(settled["cost_so_far"], serde_json::Value::Null);
    let (_, gpu) = app.get(&format!("/gpus/{id}")).await;
    assert_eq!(gpu["status"], "available");
    assert_eq!(gpu["reliability"]["completed_rentals"], 1);
    assert!(step(&runner).await.is_none(), "no job left");
}

#[tokio::test]
async fn a_rejected_rent_fails_the_rental_with_the_chain_reason() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let runner = app.runner(chain.clone());
    let id = app.list_on_chain(&runner, PROVIDER, "A10", 300).await;
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    chain
        .rents
        .lock()
        .unwrap()
        .push_back(Err(ChainError::Rejected("overspend: balance too low".into())));
    let (job_id, outcome) = step(&runner).await.unwrap();
    assert_eq!(outcome, Outcome::Failed("overspend: balance too low".into()));
    let (_, failed) = app.get(rental["links"]["self"].as_str().unwrap()).await;
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["failure_reason"], "overspend: balance too low");
    let (_, job) = app.get(&format!("/jobs/{job_id}")).await;
    assert_eq!(
        (job["state"].as_str(), job["last_error"].as_str()),
        (Some("failed"), Some("overspend: balance too low"))
    );
    let (_, gpu) = app.get(&format!("/gpus/{id}")).await;
    assert_eq!(gpu["status"], "available");
    assert_eq!(gpu["reliability"]["failed_rentals"], 1);
    // The GPU can be rented again.
    assert_eq!(
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await.0,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn without_a_chain_jobs_stay_visibly_queued() {
    let app = spawn_app().await;
    let runner = app.runner(Arc::new(Unconfigured));
    let id = app.list_gpu(PROVIDER, "A10", 300).await;
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    let (job_id, outcome) = step(&runner).await.unwrap();
    assert_eq!(outcome, Outcome::Requeued(Unconfigured::REASON.to_owned()), "the registration");
    // The rent waits behind its GPU's registration: jobs on one GPU run in order.
    assert!(step(&runner).await.is_none(), "both wait");
    let (_, job) = app.get(&format!("/jobs/{}", job_id + 1)).await;
    assert_eq!((job["kind"].as_str(), job["state"].as_str()), (Some("rent"), Some("queued")));
    assert_eq!(job["attempts"], 0, "{job}");
    let (_, job) = app.get(&format!("/jobs/{job_id}")).await;
    assert_eq!(job["state"], "queued");
    assert_eq!(job["attempts"], 0, "waiting for a chain is not a failed attempt");
    assert_eq!(job["last_error"], Unconfigured::REASON);
    assert!(job["run_after"].as_str().unwrap() > job["updated_at"].as_str().unwrap(), "{job}");
    assert_eq!(app.get(rental["links"]["self"].as_str().unwrap()).await.1["status"], "pending");
}

#[tokio::test]
async fn transient_errors_retry_with_backoff_then_fail() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let mut settings = app.settings.jobs.clone();
    settings.retry_base_secs = 0;
    settings.max_attempts = 2;
    let runner =
        bitfox_jobs::JobRunner::new(app.store.clone(), chain.clone(), settings, Default::default());
    let id = app.list_on_chain(&runner, PROVIDER, "A10", 300).await;
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    chain.rents.lock().unwrap().extend([
        Err(ChainError::Transient("node timeout".into())),
        Err(ChainError::Transient("node timeout".into())),
    ]);
    let (job_id, outcome) = step(&runner).await.unwrap();
    assert_eq!(outcome, Outcome::Requeued("node timeout".into()));
    let (_, job) = app.get(&format!("/jobs/{job_id}")).await;
    assert_eq!((job["state"].as_str(), job["attempts"].as_u64()), (Some("queued"), Some(1)));
    let (_, outcome) = step(&runner).await.unwrap();
    assert_eq!(outcome, Outcome::Failed("gave up after 2 attempts: node timeout".into()));
    assert_eq!(app.get(rental["links"]["self"].as_str().unwrap()).await.1["status"], "failed");
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["status"], "available");
}

#[tokio::test]
async fn a_stop_requested_while_pending_settles_after_confirmation() {
    let chain = Arc::new(ScriptedChain::default());
    let app = spawn_with(Options { chain: chain.clone(), ..Options::default() }).await;
    let runner = app.runner(chain.clone());
    let id = app.list_on_chain(&runner, PROVIDER, "A10", 600).await;
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    // The renter's wallet signs the deposit group: from then on it may be on chain.
    chain.rents.lock().unwrap().push_back(Err(wallet_must_sign("T", RENTER)));
    assert_eq!(step(&runner).await.unwrap().1, Outcome::AwaitingSignature);
    let signed = b64("SIGNED:T");
    let job = rental["links"]["job"].as_str().unwrap();
    let (status, _) =
        app.post(&format!("{job}/signature"), json!({"signed_transactions": [signed]})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, pending) = app.post(&format!("/gpus/{id}/stop"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        (pending["status"].as_str(), pending["stop_requested"].as_bool()),
        (Some("pending"), Some(true))
    );
    let (status, problem) = app.post(&format!("/gpus/{id}/stop"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(problem["detail"].as_str().unwrap().contains("already"), "{problem}");

    chain.rents.lock().unwrap().push_back(receipt(1_000));
    assert_eq!(step(&runner).await.unwrap().1, Outcome::Succeeded, "the rent job runs first");
    let settlement = Settlement::compute(
        PricePerMinute::new(600).unwrap(),
        MicroAlgos(36_000),
        0,
        FeeBps::new(250).unwrap(),
    );
    chain.settles.lock().unwrap().push_back(Ok(SettleReceipt {
        txid: "S".into(),
        ended_at: 1_000,
        settlement,
    }));
    assert_eq!(step(&runner).await.unwrap().1, Outcome::Succeeded);
    let (_, done) = app.get(rental["links"]["self"].as_str().unwrap()).await;
    assert_eq!(done["status"], "settled");
    assert_eq!(done["settlement"]["refunded"], 36_000);
}

#[tokio::test]
async fn a_stop_before_the_deposit_was_sent_cancels_at_once() {
    let chain = Arc::new(ScriptedChain::default());
    let app = spawn_with(Options { chain: chain.clone(), ..Options::default() }).await;
    let runner = app.runner(chain.clone());
    let id = app.list_on_chain(&runner, PROVIDER, "A10", 600).await;

    // The rent job is still queued: nothing was sent.
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    let (status, stopped) = app.post(&format!("/gpus/{id}/stop"), json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(stopped["status"], "cancelled", "{stopped}");
    let (_, job) = app.get(rental["links"]["job"].as_str().unwrap()).await;
    assert_eq!(job["state"], "cancelled", "{job}");
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["status"], "available");
    assert_eq!(app.get("/gpus").await.1.as_array().unwrap().len(), 1, "listed again");
    assert!(step(&runner).await.is_none(), "the cancelled job never runs");
    assert!(chain.rent_orders.lock().unwrap().is_empty(), "nothing went to the chain");

    // The rent job awaits the renter's signature, which never came: cancelled too.
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    chain.rents.lock().unwrap().push_back(Err(wallet_must_sign("T", RENTER)));
    assert_eq!(step(&runner).await.unwrap().1, Outcome::AwaitingSignature);
    let (status, stopped) = app.post(&format!("/gpus/{id}/stop"), json!({})).await;
    assert_eq!((status, stopped["status"].as_str()), (StatusCode::ACCEPTED, Some("cancelled")));
    let (_, job) = app.get(rental["links"]["job"].as_str().unwrap()).await;
    assert_eq!(job["state"], "cancelled", "{job}");
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["status"], "available");
    // A signature arriving afterwards is refused: the job no longer awaits one.
    let signed = b64("SIGNED:T");
    let job = rental["links"]["job"].as_str().unwrap();
    let (status, _) =
        app.post(&format!("{job}/signature"), json!({"signed_transactions": [signed]})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // And the GPU rents again at once.
    let (status, _) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn a_refused_settlement_leaves_the_rental_live_and_stoppable() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let runner = app.runner(chain.clone());
    let id = app.list_on_chain(&runner, PROVIDER, "A10", 600).await;
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    chain.rents.lock().unwrap().push_back(receipt(1_000));
    step(&runner).await.unwrap();
    app.post(&format!("/gpus/{id}/stop"), json!({})).await;
    chain.settles.lock().unwrap().push_back(Err(ChainError::Rejected("logic eval error".into())));
    assert_eq!(step(&runner).await.unwrap().1, Outcome::Failed("logic eval error".into()));
    let (_, live) = app.get(rental["links"]["self"].as_str().unwrap()).await;
    assert_eq!(
        (live["status"].as_str(), live["stop_requested"].as_bool()),
        (Some("active"), Some(false))
    );
    assert_eq!(live["failure_reason"], "logic eval error");
    assert_eq!(app.post(&format!("/gpus/{id}/stop"), json!({})).await.0, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn the_background_runner_picks_up_jobs_at_once() {
    let chain = Arc::new(ScriptedChain::default());
    chain.rents.lock().unwrap().push_back(receipt(5));
    let app =
        spawn_with(Options { runner: true, chain: chain.clone(), ..Options::default() }).await;
    // The runner registers the listing, then confirms the rent.
    let id = app.list_gpu(PROVIDER, "A10", 600).await;
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    let path = rental["links"]["self"].as_str().unwrap().to_owned();
    let mut status = String::new();
    for _ in 0..200 {
        status = app.get(&path).await.1["status"].as_str().unwrap().to_owned();
        if status == "active" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(status, "active");
    app.stop().await;
}

#[tokio::test]
async fn data_and_queued_jobs_survive_a_restart() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "RTX 4090", 1000).await;
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    let job = rental["links"]["job"].as_str().unwrap().to_owned();
    let db = app.stop().await;

    let app = spawn_with(Options { db: Some(db), ..Options::default() }).await;
    let (status, gpu) = app.get(&format!("/gpus/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gpu["status"], "renting");
    let (_, again) = app.get(rental["links"]["self"].as_str().unwrap()).await;
    assert_eq!(again["status"], "pending");
    assert_eq!(app.get(&job).await.1["state"], "queued");
    // Still refused: the rental is still live after the restart.
    assert_eq!(
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await.0,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn a_rent_fails_when_the_listing_could_not_be_registered() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let runner = app.runner(chain.clone());
    chain.registers.lock().unwrap().push_back(Err(ChainError::Rejected("overspend".into())));
    let id = app.list_gpu(PROVIDER, "A10", 300).await;
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    assert_eq!(step(&runner).await.unwrap().1, Outcome::Failed("overspend".into()));
    let reason = format!("GPU {id} could not be listed on chain: overspend");
    assert_eq!(step(&runner).await.unwrap().1, Outcome::Failed(reason.clone()));
    let (_, failed) = app.get(rental["links"]["self"].as_str().unwrap()).await;
    assert_eq!(
        (failed["status"].as_str(), failed["failure_reason"].as_str()),
        (Some("failed"), Some(reason.as_str()))
    );
    assert!(chain.rent_orders.lock().unwrap().is_empty(), "nothing was sent");
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["status"], "available");
}

#[tokio::test]
async fn price_changes_and_delistings_go_to_the_listing_on_chain() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let runner = app.runner(chain.clone());
    let id = app.list_on_chain(&runner, PROVIDER, "A10", 300).await;
    let listing = 100 + u64::try_from(id).unwrap();
    assert_eq!(chain.register_orders.lock().unwrap()[0].price.get(), 300);
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["listing_id"], listing);
    let path = format!("/gpus/{id}");
    let response = app.request(Method::PATCH, &path, Some(json!({"gpu_model": "A10G"})), &[]);
    assert_eq!(response.await.status(), StatusCode::OK);
    assert!(step(&runner).await.is_none(), "a spec change stays off chain");
    app.request(Method::PATCH, &path, Some(json!({"price_per_minute": 450})), &[]).await;
    assert_eq!(step(&runner).await.unwrap().1, Outcome::Succeeded);
    app.request(Method::DELETE, &path, None, &[]).await;
    assert_eq!(step(&runner).await.unwrap().1, Outcome::Succeeded);
    assert_eq!(*chain.listing_calls.lock().unwrap(), vec![(listing, Some(450)), (listing, None)]);
}

#[tokio::test]
async fn a_group_without_a_server_key_waits_for_a_wallet_signature() {
    use bitfox_domain::chain::{UnsignedGroup, UnsignedTxn};
    let chain = Arc::new(ScriptedChain::default());
    let app = spawn_with(Options { chain: chain.clone(), ..Options::default() }).await;
    let runner = app.runner(chain.clone());
    let txn = |txid: &str| UnsignedTxn {
        txn: "iKNhbXQ=".into(),
        txid: txid.into(),
        signer: PROVIDER.parse().unwrap(),
        description: "pay".into(),
    };
    let group = UnsignedGroup { transactions: vec![txn("T1"), txn("T2")] };
    chain.registers.lock().unwrap().push_back(Err(ChainError::NeedsSignature(group)));
    let id = app.list_gpu(PROVIDER, "A10", 300).await;
    let (job_id, outcome) = step(&runner).await.unwrap();
    assert_eq!(outcome, Outcome::AwaitingSignature);
    let job_path = format!("/jobs/{job_id}");
    let (_, job) = app.get(&job_path).await;
    assert_eq!(job["state"], "awaiting_signature");
    assert_eq!(job["unsigned_group"][1]["txid"], "T2");
    assert_eq!(job["unsigned_group"][0]["signer"], PROVIDER);
    assert!(
        job["last_error"].as_str().unwrap().contains(&format!("{job_path}/signature")),
        "{job}"
    );
    assert!(step(&runner).await.is_none(), "a job awaiting its signature is not run");

    let sign_path = format!("{job_path}/signature");
    let sign = |body: serde_json::Value| app.post(&sign_path, body);
    let b64 = |text: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text);
    // Not base64 breaks the field's rule (422); a group that is not the one this job
    // awaits conflicts with the job (409).
    for (body, expected) in [
        (
            json!({"signed_transactions": ["%%%", b64("SIGNED:T2")]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"signed_transactions": [b64("SIGNED:T1")]}), StatusCode::CONFLICT),
        (
            json!({"signed_transactions": [b64("SIGNED:T2"), b64("SIGNED:T1")]}),
            StatusCode::CONFLICT,
        ),
    ] {
        let (status, problem) = sign(body).await;
        assert_eq!(status, expected, "{problem}");
        let named = match expected {
            StatusCode::CONFLICT => problem["detail"].as_str().unwrap().to_owned(),
            _ => problem["errors"][0]["field"].as_str().unwrap().to_owned(),
        };
        assert!(named.starts_with("signed_transactions"), "{problem}");
        assert_eq!(app.get(&job_path).await.1["state"], "awaiting_signature", "nothing changed");
    }
    let (status, queued) =
        sign(json!({"signed_transactions": [b64("SIGNED:T1"), b64("SIGNED:T2")]})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(
        (queued["state"].as_str(), queued["txid"].as_str()),
        (Some("queued"), Some("SIGNEDTXID"))
    );
    assert_eq!(queued["unsigned_group"], serde_json::Value::Null);
    let (status, _) =
        sign(json!({"signed_transactions": [b64("SIGNED:T1"), b64("SIGNED:T2")]})).await;
    assert_eq!(status, StatusCode::CONFLICT, "only once");
    assert_eq!(
        app.post("/jobs/999/signature", json!({"signed_transactions": []})).await.0,
        StatusCode::NOT_FOUND
    );

    assert_eq!(step(&runner).await.unwrap().1, Outcome::Succeeded);
    let (_, listed) = app.get(&format!("/gpus/{id}")).await;
    assert!(listed["listing_id"].is_u64() && listed["on_chain"] == true, "{listed}");
}

#[tokio::test]
async fn a_listed_gpu_moves_into_a_cluster_by_delisting_then_listing_again_in_order() {
    use bitfox_domain::chain::{ClusterReceipt, TxReceipt};
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let runner = app.runner(chain.clone());
    let moved = app.list_on_chain(&runner, PROVIDER, "H100", 6000).await;
    let stuck = app.list_on_chain(&runner, PROVIDER, "A100", 3000).await;
    let (status, cluster) = app
        .post(
            "/clusters",
            json!({"operator_address": PROVIDER, "name": "Rack", "total_shares": 10,
                   "price_per_share": 5, "gpus": [moved, stuck]}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{cluster}");
    assert_eq!(cluster["status"], "pending");
    let created =
        ClusterReceipt { txid: "C".into(), created: Some((7, 900)), ..Default::default() };
    chain.clusters.lock().unwrap().push_back(Ok(created));
    // The second delisting is refused: its relisting must not run, and fails with why.
    chain.delists.lock().unwrap().extend([
        Ok(TxReceipt { txid: "D1".into() }),
        Err(ChainError::Rejected("listing is rented".into())),
    ]);
    let mut outcomes = Vec::new();
    while let Some((_, outcome)) = step(&runner).await {
        outcomes.push(outcome);
    }
    assert_eq!(outcomes[0], Outcome::Succeeded, "the cluster is created first");
    let (_, clusters) = app.get("/clusters").await;
    let cluster = &clusters[0];
    assert_eq!(
        (cluster["status"].as_str(), cluster["asset_id"].as_u64()),
        (Some("active"), Some(900))
    );
    assert_eq!(cluster["gpus"], json!([moved, stuck]));
    let orders = chain.register_orders.lock().unwrap().clone();
    assert_eq!(orders.len(), 3, "two listings, then the moved one again: {orders:?}");
    assert_eq!((orders[2].gpu.0, orders[2].cluster_id), (moved, 7), "listed under the cluster");
    let (_, gpu) = app.get(&format!("/gpus/{stuck}")).await;
    assert_eq!(gpu["listing_id"], 100 + stuck, "still listed outside: its delisting failed");
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Failed(r) if r.contains("depends on failed")))
        .count();
    assert_eq!(failed, 1, "{outcomes:?}");
}

#[tokio::test]
async fn when_a_cluster_cannot_be_created_its_gpus_are_listed_again_on_their_own() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let runner = app.runner(chain.clone());
    let id = app.list_on_chain(&runner, PROVIDER, "H100", 6000).await;
    let body = json!({"operator_address": PROVIDER, "name": "Rack", "total_shares": 10,
                      "price_per_share": 5, "gpus": [id]});
    assert_eq!(app.post("/clusters", body).await.0, StatusCode::ACCEPTED);
    chain.clusters.lock().unwrap().push_back(Err(ChainError::Rejected("overspend".into())));
    while step(&runner).await.is_some() {}
    let (_, clusters) = app.get("/clusters").await;
    assert_eq!(clusters[0]["status"], "failed");
    assert_eq!(clusters[0]["failure_reason"], "overspend");
    assert_eq!(clusters[0]["gpus"], json!([]), "the GPU left the failed cluster");
    let orders = chain.register_orders.lock().unwrap().clone();
    assert_eq!((orders.len(), orders[1].cluster_id), (2, 0), "listed again, on its own");
    assert!(app.get(&format!("/gpus/{id}")).await.1["listing_id"].is_u64());
    let (status, _) = app.post("/clusters/1/gpus", json!({"gpu_id": id})).await;
    assert_eq!(status, StatusCode::CONFLICT, "no attaching to a failed cluster");
}

/// A hook that takes the running job away from whoever runs it, as a run whose lease ran
/// out loses it: the lease expires and the claim `thief` (a lease token) claims the job;
/// the claimed rows go to `taken`.
fn take_over(
    store: &bitfox_store::Store,
    thief: String,
    taken: &Arc<std::sync::Mutex<Vec<bitfox_store::models::JobRow>>>,
) -> Hook {
    let (store, taken) = (store.clone(), taken.clone());
    Box::new(move || {
        let mut conn = store.conn().unwrap();
        assert_eq!(expire_running(&mut conn), 1);
        let now = bitfox_store::now_seconds();
        let lease = job::Lease { holder: &thief, expires_at: now + 30 };
        taken.lock().unwrap().extend(job::claim_due(&mut conn, now, 1, lease).unwrap());
    })
}

/// Ends the lease of every running job now; returns how many.
fn expire_running(conn: &mut bitfox_store::DbConnection) -> usize {
    use bitfox_store::diesel::prelude::*;
    use bitfox_store::schema::jobs;
    bitfox_store::diesel::update(
        jobs::table.filter(jobs::state.eq(bitfox_domain::JobState::Running)),
    )
    .set(jobs::lease_expires_at.eq(0))
    .execute(conn)
    .unwrap()
}

#[tokio::test]
async fn a_runner_whose_lease_passed_to_another_claim_records_and_concludes_nothing() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let runner = app.runner(chain.clone());
    let id = app.list_on_chain(&runner, PROVIDER, "A10", 300).await;
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    let rental_path = rental["links"]["self"].as_str().unwrap().to_owned();
    let taken = Arc::new(std::sync::Mutex::new(Vec::new()));
    let noop: Hook = Box::new(|| {});

    // Taken over by another worker before it records its group: nothing recorded,
    // nothing concluded.
    let stolen = take_over(&app.store, "worker-b".into(), &taken);
    *chain.rent_hooks.lock().unwrap() = Some((stolen, noop));
    chain.rents.lock().unwrap().push_back(receipt(1_700_000_000));
    let (job_id, outcome) = step(&runner).await.unwrap();
    assert_eq!(outcome, Outcome::LeaseLost);
    let row = taken.lock().unwrap().pop().unwrap();
    assert_eq!((row.id.get(), row.signed_group), (job_id, None));
    let mut conn = app.store.conn().unwrap();
    let lease = job::lease_of(&mut conn, row.id).unwrap().unwrap();
    assert_eq!(lease.0, "worker-b", "the job stays with the worker that took it over");
    assert_eq!(job::find(&mut conn, row.id).unwrap().unwrap().signed_group, None);
    assert_eq!(app.get(&rental_path).await.1["status"], "pending");

    // Worker b's lease runs out in turn; this runner claims the job again, records its
    // group, then loses the job — to a later claim of its own process, as when a stalled
    // run's lease runs out and the same runner claims the job anew — before concluding:
    // the chain's receipt is not recorded, and the next claim resumes from the recorded
    // group.
    assert_eq!(expire_running(&mut conn), 1);
    let own_later_claim = format!("{}#99", runner.holder());
    let stolen = take_over(&app.store, own_later_claim.clone(), &taken);
    *chain.rent_hooks.lock().unwrap() = Some((Box::new(|| {}), stolen));
    chain.rents.lock().unwrap().push_back(receipt(1_700_000_000));
    assert_eq!(step(&runner).await.unwrap(), (job_id, Outcome::LeaseLost));
    let row = taken.lock().unwrap().pop().unwrap();
    assert_eq!(row.signed_group.as_deref(), Some(&b"RENTGROUP"[..]));
    assert_eq!(row.signed_txid.as_deref(), Some("RENTGROUPTXID"));
    assert_eq!(job::lease_of(&mut conn, row.id).unwrap().unwrap().0, own_later_claim);
    assert_eq!(app.get(&rental_path).await.1["status"], "pending");
    assert_eq!(app.get(&format!("/jobs/{job_id}")).await.1["state"], "running");

    // Once that claim's lease has run out too, this runner resumes and concludes.
    assert_eq!(expire_running(&mut conn), 1);
    chain.rents.lock().unwrap().push_back(receipt(1_700_000_000));
    assert_eq!(step(&runner).await.unwrap(), (job_id, Outcome::Succeeded));
    assert_eq!(app.get(&rental_path).await.1["status"], "active");
    // Each claim of the runner is a lease token of its own (`holder#n`), so a stalled
    // run and a later claim of the same job in the same process are told apart.
    let mut token = |id: i64| job::find(&mut conn, JobId(id)).unwrap().unwrap().claimed_by.unwrap();
    let (register, rent) = (token(job_id - 1), token(job_id));
    assert_ne!(register, rent);
    for claim in [&register, &rent] {
        assert!(claim.starts_with(&format!("{}#", runner.holder())), "{claim}");
    }
}
