//! `GET /gpus`: filters, sorts and cursor pages.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn seed(app: &TestApp) -> Vec<i64> {
    // (model, price, vram, region)
    let specs = [
        ("RTX 4090", 1000, Some(24), Some("eu-west")),
        ("RTX 3090", 700, Some(24), Some("us-east")),
        ("A100 80GB", 3000, Some(80), Some("eu-west")),
        ("H100", 5000, Some(80), None),
        ("T4", 100, Some(16), Some("EU-WEST")),
        ("Mystery card", 400, None, None),
        ("rtx 4080", 900, Some(16), Some("ap-south")),
    ];
    let mut ids = Vec::new();
    for (model, price, vram, region) in specs {
        let mut body =
            json!({"owner_address": PROVIDER, "gpu_model": model, "price_per_minute": price});
        if let Some(v) = vram {
            body["vram_gb"] = json!(v);
        }
        if let Some(r) = region {
            body["region"] = json!(r);
        }
        let (status, gpu) = app.post("/gpus", body).await;
        assert_eq!(status, StatusCode::CREATED, "{gpu}");
        ids.push(gpu["id"].as_i64().unwrap());
    }
    ids
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array().unwrap().iter().map(|g| g["id"].as_i64().unwrap()).collect()
}

/// Follows `X-Next-Cursor` through every page of `path` (which must have a query).
async fn all_pages(app: &TestApp, path: &str) -> Vec<i64> {
    let mut out = Vec::new();
    let mut next = path.to_owned();
    for _ in 0..20 {
        let response = app.request(Method::GET, &next, None, &[]).await;
        assert_eq!(response.status(), StatusCode::OK);
        let cursor =
            response.headers().get("x-next-cursor").map(|c| c.to_str().unwrap().to_owned());
        let link = response.headers().get("link").map(|c| c.to_str().unwrap().to_owned());
        let (_, page) = json_of(response).await;
        out.extend(ids(&page));
        match cursor {
            Some(cursor) => {
                let link = link.expect("Link header with the cursor");
                assert!(
                    link.contains(&format!("cursor={cursor}")) && link.ends_with("rel=\"next\""),
                    "{link}"
                );
                next = format!("{path}&cursor={cursor}");
            }
            None => return out,
        }
    }
    panic!("too many pages");
}

#[tokio::test]
async fn filters_narrow_the_listing() {
    let app = spawn_app().await;
    let ids_ = seed(&app).await;
    let get = |q: &str| {
        let path = format!("/gpus?{q}");
        let app = &app;
        async move { ids(&app.get(&path).await.1) }
    };
    assert_eq!(
        get("model=rtx").await,
        vec![ids_[0], ids_[1], ids_[6]],
        "case-insensitive substring"
    );
    assert_eq!(get("model=%25").await, Vec::<i64>::new(), "% is a literal, not a wildcard");
    assert_eq!(get("min_vram=80").await, vec![ids_[2], ids_[3]]);
    assert_eq!(get("max_price=700").await, vec![ids_[1], ids_[4], ids_[5]]);
    assert_eq!(
        get("region=eu-west").await,
        vec![ids_[0], ids_[2], ids_[4]],
        "case-insensitive region"
    );
    assert_eq!(get("model=rtx&max_price=950&min_vram=16").await, vec![ids_[1], ids_[6]]);
    assert_eq!(get(&format!("owner={PROVIDER}")).await, ids_);
    assert_eq!(get(&format!("owner={RENTER}")).await, Vec::<i64>::new());
}

#[tokio::test]
async fn status_filter_defaults_to_available() {
    let app = spawn_app().await;
    let ids_ = seed(&app).await;
    app.post(&format!("/gpus/{}/rent", ids_[0]), json!({"renter_address": RENTER})).await;
    app.request(Method::DELETE, &format!("/gpus/{}", ids_[1]), None, &[]).await;
    let available = ids(&app.get("/gpus").await.1);
    assert_eq!(available.len(), 5);
    assert!(!available.contains(&ids_[0]) && !available.contains(&ids_[1]));
    assert_eq!(ids(&app.get("/gpus?status=renting").await.1), vec![ids_[0]]);
    assert_eq!(ids(&app.get("/gpus?status=delisted").await.1), vec![ids_[1]]);
    assert_eq!(ids(&app.get("/gpus?status=all").await.1), ids_);
}

#[tokio::test]
async fn sorts_page_exactly_with_cursors() {
    let app = spawn_app().await;
    let i = seed(&app).await;
    assert_eq!(all_pages(&app, "/gpus?limit=3").await, i, "oldest first by default");
    let newest: Vec<i64> = i.iter().rev().copied().collect();
    assert_eq!(all_pages(&app, "/gpus?sort=newest&limit=2").await, newest);
    // Prices: T4 100, Mystery 400, 3090 700, 4080 900, 4090 1000, A100 3000, H100 5000.
    assert_eq!(
        all_pages(&app, "/gpus?sort=price&limit=3").await,
        vec![i[4], i[5], i[1], i[6], i[0], i[2], i[3]]
    );
    // VRAM desc, ties by id, unknown VRAM last.
    assert_eq!(
        all_pages(&app, "/gpus?sort=vram&limit=2").await,
        vec![i[2], i[3], i[0], i[1], i[4], i[6], i[5]]
    );
    assert_eq!(all_pages(&app, "/gpus?sort=vram&limit=6").await.len(), 7);
    assert_eq!(
        all_pages(&app, "/gpus?sort=price&max_price=900&limit=1").await,
        vec![i[4], i[5], i[1], i[6]]
    );
}

#[tokio::test]
async fn a_full_last_page_has_no_next_cursor() {
    let app = spawn_app().await;
    seed(&app).await;
    let response = app.request(Method::GET, "/gpus?limit=7", None, &[]).await;
    assert!(response.headers().get("x-next-cursor").is_none());
    assert!(response.headers().get("link").is_none());
}

#[tokio::test]
async fn bad_list_parameters_are_named() {
    let app = spawn_app().await;
    for (query, field) in [
        ("min_vram=lots", "min_vram"),
        ("max_price=-1", "max_price"),
        ("sort=cheapest", "sort"),
        ("status=busy", "status"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=%21%21", "cursor"),
        ("cursor=1.2", "cursor"),
        ("cursor=%2B1.2.3", "cursor"),
        ("cursor=1.2.1234567890", "cursor"),
        ("min_vram=%2B5", "min_vram"),
        ("limit=", "limit"),
        ("owner=NOTANADDRESS", "owner"),
        ("colour=red", "colour"),
        ("sort=price&sort=vram", "sort"),
    ] {
        let (status, problem) = app.get(&format!("/gpus?{query}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{query}: {problem}");
    }
}

#[tokio::test]
async fn a_cursor_names_its_gpu_in_every_order() {
    let app = spawn_app().await;
    let ids_ = seed(&app).await;
    // The cheapest is the T4 (ids_[4]); its cursor continues a newest-first listing too,
    // from that GPU on.
    let response = app.request(Method::GET, "/gpus?sort=price&limit=1", None, &[]).await;
    let cursor = response.headers()["x-next-cursor"].to_str().unwrap().to_owned();
    assert_eq!(cursor, format!("{}.100.16", ids_[4]));
    let (status, page) = app.get(&format!("/gpus?sort=newest&cursor={cursor}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), vec![ids_[3], ids_[2], ids_[1], ids_[0]]);
}
