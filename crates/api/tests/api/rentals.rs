//! `/rentals` and `/jobs`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn rentals_are_found_by_id_and_filtered() {
    let app = spawn_app().await;
    let other = stranger();
    let mut rentals = Vec::new();
    for n in 0..5 {
        let id = app.list_gpu(PROVIDER, "A10", 100 + n).await;
        let renter = if n % 2 == 0 { RENTER } else { other.as_str() };
        let (_, rental) =
            app.post(&format!("/gpus/{id}/rent"), json!({"renter_address": renter})).await;
        rentals.push(rental);
    }
    let (status, one) = app.get(&format!("/rentals/{}", rentals[2]["id"])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["id"], rentals[2]["id"]);
    assert_eq!(one["links"]["job"], rentals[2]["links"]["job"]);

    let ids = |v: &serde_json::Value| {
        v.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    let id = |n: usize| rentals[n]["id"].as_i64().unwrap();
    assert_eq!(
        ids(&app.get(&format!("/rentals?renter={RENTER}")).await.1),
        vec![id(4), id(2), id(0)]
    );
    assert_eq!(ids(&app.get(&format!("/rentals?renter={other}")).await.1), vec![id(3), id(1)]);
    assert_eq!(
        ids(&app.get(&format!("/rentals?provider={PROVIDER}&status=pending")).await.1).len(),
        5
    );
    assert_eq!(ids(&app.get("/rentals?status=settled").await.1), Vec::<i64>::new());

    // Pages, newest first.
    let response = app.request(reqwest::Method::GET, "/rentals?limit=2", None, &[]).await;
    let cursor = response.headers()["x-next-cursor"].to_str().unwrap().to_owned();
    let (_, first) = json_of(response).await;
    assert_eq!(ids(&first), vec![id(4), id(3)]);
    assert_eq!(
        ids(&app.get(&format!("/rentals?limit=2&cursor={cursor}")).await.1),
        vec![id(2), id(1)]
    );

    for (query, field) in [
        ("renter=bob", "renter"),
        ("status=done", "status"),
        ("limit=x", "limit"),
        ("cursor=eA", "cursor"),
    ] {
        let (status, problem) = app.get(&format!("/rentals?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(problem["errors"][0]["field"], field);
    }
}

#[tokio::test]
async fn unknown_rentals_and_jobs_are_404() {
    let app = spawn_app().await;
    for path in
        ["/rentals/1", "/rentals/0", "/rentals/abc", "/jobs/9", "/jobs/-1", "/gpus/1", "/gpus/1.5"]
    {
        let (status, problem) = app.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(problem["type"], "/problems/not-found");
    }
}
