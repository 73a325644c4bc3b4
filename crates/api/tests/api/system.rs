//! `/health`, `/metrics` and shutdown.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_reports_mode_and_chain() {
    let app = spawn_app().await;
    let (status, health) = app.get("/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["mode"], "dev");
    assert_eq!(health["chain"], "unconfigured");
}

#[tokio::test]
async fn metrics_count_requests_and_report_gauges() {
    let app = spawn_app().await;
    let id = app.list_gpu(PROVIDER, "A10", 5).await;
    app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": RENTER})).await;
    app.get("/gpus/999").await;
    let response = app.request(reqwest::Method::GET, "/metrics", None, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    for line in [
        "bitfox_http_requests_total{method=\"POST\",route=\"/gpus\",status=\"201\"} 1",
        "bitfox_http_requests_total{method=\"POST\",route=\"/gpus/{id}/rent\",status=\"202\"} 1",
        "bitfox_http_requests_total{method=\"GET\",route=\"/gpus/{id}\",status=\"404\"} 1",
        "bitfox_gpus{status=\"renting\"} 1",
        "bitfox_rentals{status=\"pending\"} 1",
        "bitfox_jobs{state=\"queued\"} 2",
        "# TYPE bitfox_http_request_duration_seconds histogram",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn shutdown_stops_the_server_and_the_runner() {
    let app = spawn_with(Options { runner: true, ..Options::default() }).await;
    let base = app.base.clone();
    tokio::time::timeout(std::time::Duration::from_secs(10), app.stop())
        .await
        .expect("stopped in time");
    assert!(reqwest::get(format!("{base}/health")).await.is_err(), "no longer listening");
}

#[tokio::test]
async fn metrics_count_the_watchers_anomalies_by_app() {
    use bitfox_store::mirror::{Origin, record_anomaly};
    let app = spawn_app().await;
    app.store
        .write_unlisted(|c| {
            let origin = Origin { app_id: 1001, round: 7, txid: "TX", log_index: 0 };
            record_anomaly(c, origin, "malformed ClusterCreated event", &[1, 2], 1)
                .map_err(bitfox_store::StoreError::from)
        })
        .await
        .unwrap();
    let response = app.request(reqwest::Method::GET, "/metrics", None, &[]).await;
    let text = response.text().await.unwrap();
    assert!(text.contains("bitfox_chain_anomalies{app=\"1001\"} 1"), "{text}");
}
