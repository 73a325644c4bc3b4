//! The keeper: used-up deposits are settled, silent GPUs go offline and come back.

use std::sync::Arc;

use bitfox_domain::MicroAlgos;
use bitfox_domain::billing::Settlement;
use bitfox_domain::chain::{RentReceipt, SettleReceipt};
use bitfox_jobs::{Outcome, Report};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_used_up_deposit_is_settled_and_the_rental_expires() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let runner = app.runner(chain.clone());
    let keeper = app.keeper(chain.clone());
    let id = app.list_on_chain(&runner, PROVIDER, "A10", 300).await;
    let (_, rental) = app
        .post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER, "max_minutes": 2}))
        .await;
    let path = rental["links"]["self"].as_str().unwrap().to_owned();
    let receipt = RentReceipt { txid: "RENT".into(), started_at: 1_000, chain_rental_id: 1 };
    chain.rents.lock().unwrap().push_back(Ok(receipt));
    assert_eq!(step(&runner).await.unwrap().1, Outcome::Succeeded);

    // Paid until 1_120; the default grace is 5 seconds.
    assert_eq!(keeper.run_once(1_124, 0).await.unwrap(), Report::default());
    assert_eq!(app.get(&path).await.1["status"], "active");
    assert_eq!(
        keeper.run_once(1_125, 0).await.unwrap(),
        Report { expired: 1, ..Report::default() }
    );
    let (_, settling) = app.get(&path).await;
    assert_eq!(
        (settling["status"].as_str(), settling["stop_requested"].as_bool()),
        (Some("settling"), Some(true))
    );
    assert_eq!(keeper.run_once(1_200, 0).await.unwrap(), Report::default(), "stopped once");

    let used_up = Settlement {
        cost: MicroAlgos(600),
        fee: MicroAlgos(15),
        provider: MicroAlgos(585),
        refund: MicroAlgos(0),
    };
    chain.settles.lock().unwrap().push_back(Ok(SettleReceipt {
        txid: "STOP".into(),
        ended_at: 1_120,
        settlement: used_up,
    }));
    assert_eq!(step(&runner).await.unwrap().1, Outcome::Succeeded);
    let (_, expired) = app.get(&path).await;
    assert_eq!(expired["status"], "expired");
    assert_eq!(expired["settlement"]["paid_to_provider"], 585);
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["status"], "available");
}

#[tokio::test]
async fn silent_gpus_go_offline_and_come_back_with_a_heartbeat() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let keeper = app.keeper(chain);
    let tracked = app.list_gpu(PROVIDER, "A10", 300).await;
    let untracked = app.list_gpu(PROVIDER, "L4", 200).await;
    let (status, gpu) = app.post(&format!("/gpus/{tracked}/heartbeat"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{gpu}");
    let now = bitfox_store::now_seconds();
    assert_eq!(keeper.run_once(0, now + 60).await.unwrap(), Report::default());
    assert_eq!(
        keeper.run_once(0, now + 121).await.unwrap(),
        Report { offline: 1, ..Report::default() }
    );
    assert_eq!(app.get(&format!("/gpus/{tracked}")).await.1["status"], "offline");
    assert_eq!(app.get(&format!("/gpus/{untracked}")).await.1["status"], "available");
    let (_, listed) = app.get("/gpus").await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "offline GPUs are not listed: {listed}");

    let (_, back) = app.post(&format!("/gpus/{tracked}/heartbeat"), json!({})).await;
    assert_eq!(back["status"], "available");
    let (status, missing) = app.post("/gpus/999/heartbeat", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
}

#[tokio::test]
async fn a_rent_never_signed_frees_its_gpu() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let runner = app.runner(chain.clone());
    let keeper = app.keeper(chain.clone());
    let id = app.list_on_chain(&runner, PROVIDER, "A10", 300).await;
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    chain.rents.lock().unwrap().push_back(Err(wallet_must_sign("T", RENTER)));
    assert_eq!(step(&runner).await.unwrap().1, Outcome::AwaitingSignature);
    // The renter never signs: the GPU is held for the checkout window only.
    let now = bitfox_store::now_seconds();
    assert_eq!(keeper.run_once(0, now + 110).await.unwrap(), Report::default());
    assert_eq!(
        keeper.run_once(0, now + 130).await.unwrap(),
        Report { cancelled: 1, ..Report::default() }
    );
    let (_, cancelled) = app.get(rental["links"]["self"].as_str().unwrap()).await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["status"], "available");
    let (_, job) = app.get(rental["links"]["job"].as_str().unwrap()).await;
    assert_eq!(job["state"], "cancelled");
    assert!(job["last_error"].as_str().unwrap().contains("checkout window"), "{job}");
    assert_eq!(keeper.run_once(0, now + 3_601).await.unwrap(), Report::default(), "done once");
}

#[tokio::test]
async fn a_rent_waiting_on_a_listing_never_signed_frees_its_gpu() {
    let app = spawn_app().await;
    let chain = Arc::new(ScriptedChain::default());
    let runner = app.runner(chain.clone());
    let keeper = app.keeper(chain.clone());
    // The provider's registration waits for its wallet; the rent waits for the listing.
    let id = app.list_gpu(PROVIDER, "A10", 300).await;
    chain.registers.lock().unwrap().push_back(Err(wallet_must_sign("R", PROVIDER)));
    assert_eq!(step(&runner).await.unwrap().1, Outcome::AwaitingSignature);
    let (_, listed) = app.get(&format!("/gpus/{id}")).await;
    assert_eq!(
        (&listed["listing_id"], &listed["on_chain"]),
        (&json!(null), &json!(false)),
        "{listed}"
    );
    let (_, rental) =
        app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    let (_, outcome) = step(&runner).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Requeued(ref r) if r.contains("to be listed")),
        "{outcome:?}"
    );
    let now = bitfox_store::now_seconds();
    assert_eq!(
        keeper.run_once(0, now + 130).await.unwrap(),
        Report { cancelled: 1, ..Report::default() }
    );
    assert_eq!(app.get(rental["links"]["self"].as_str().unwrap()).await.1["status"], "cancelled");
    assert_eq!(app.get(&format!("/gpus/{id}")).await.1["status"], "available");
}
