//! The commands called in-process, as a library (no process spawned).

use std::time::Duration;

use bitfox::commands::{migrate, serve};
use bitfox::config::{Network, Settings};
use tokio_util::sync::CancellationToken;

fn settings(dir: &std::path::Path) -> Settings {
    let mut settings = Settings { data_dir: dir.to_path_buf(), ..Settings::default() };
    settings.chain.network = Network::None;
    settings.http.port = 0;
    settings
}

#[tokio::test]
async fn api_and_worker_refuse_an_unmigrated_database_then_run_until_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(dir.path());
    let never = CancellationToken::new();
    let err = serve::worker(settings.clone(), never.clone()).await.unwrap_err();
    assert!(err.to_string().contains("bitfox migrate"), "{err}");
    let err = serve::api(settings.clone(), None, never).await.unwrap_err();
    assert!(err.to_string().contains("bitfox migrate"), "{err}");

    assert_eq!(migrate::migrate(&settings).unwrap().len(), 9);
    assert!(migrate::migrate(&settings).unwrap().is_empty(), "nothing left to apply");

    // A worker runs until it is told to stop, then stops cleanly.
    let shutdown = CancellationToken::new();
    let worker = tokio::spawn(serve::worker(settings.clone(), shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!worker.is_finished(), "the worker keeps running");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), worker).await.unwrap().unwrap().unwrap();
}
