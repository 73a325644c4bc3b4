//! The algod v2 REST shapes the project and algonaut use, served over a [`Node`].
//!
//! Responses follow algod's JSON (kebab-case keys, base64 bytes, base32 addresses) and
//! its error body `{"message": ...}`. Every request must carry the API token in
//! `X-Algo-API-Token` (as algod requires), unless the server was built without one.

use std::net::TcpListener;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes, Data, Path};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bitfox_domain::Address;
use serde_json::{Map, Value as Json, json};
use tokio::sync::watch;

use crate::indexer;
use crate::ledger::apps::{self, App as LedgerApp};
use crate::ledger::{Account, EvalError};
use crate::msgpack::Value;
use crate::node::{Confirmed, Node};
pub use crate::rest_error::AlgodError;
use crate::rest_error::error;
use crate::txn::AssetParams;

/// The token header algod uses.
pub const TOKEN_HEADER: &str = "X-Algo-API-Token";
/// The consensus version the devnet reports (go-algorand v3.17's "future").
pub const CONSENSUS_VERSION: &str = "future";
/// Longest `wait-for-block-after` wait, as algod.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Shared server state.
#[derive(Debug)]
pub struct Shared {
    /// Reads share the node; a submission (or another change) has it alone, only while
    /// it applies its group and stores its block.
    node: RwLock<Node>,
    token: Option<String>,
    rounds: watch::Sender<u64>,
}

impl Shared {
    /// Wraps `node`; requests must present `token` when it is `Some`.
    pub fn new(node: Node, token: Option<String>) -> Arc<Self> {
        let (rounds, _) = watch::channel(node.round());
        Arc::new(Self { node: RwLock::new(node), token, rounds })
    }

    /// The node, to read (held briefly; many readers at once).
    pub fn node(&self) -> RwLockReadGuard<'_, Node> {
        self.node.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The node, to change (held briefly; alone).
    pub fn node_mut(&self) -> RwLockWriteGuard<'_, Node> {
        self.node.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Submits a group as `POST /v2/transactions` does, announcing the new round. The
    /// bytes are decoded before the node is locked.
    pub fn submit(&self, raw: &[u8]) -> Result<String, EvalError> {
        let group = crate::txn::SignedTxn::decode_group(raw)?;
        let (txid, round) = {
            let mut node = self.node_mut();
            let txid = node.submit_decoded(group, raw)?;
            (txid, node.round())
        };
        self.rounds.send_replace(round);
        Ok(txid)
    }
}

type Reply = Result<HttpResponse, AlgodError>;

fn authorised(req: &HttpRequest, shared: &Shared) -> Result<(), AlgodError> {
    let Some(token) = &shared.token else { return Ok(()) };
    // The same token opens the algod and the indexer API.
    let given = [TOKEN_HEADER, indexer::TOKEN_HEADER]
        .iter()
        .find_map(|h| req.headers().get(*h).and_then(|v| v.to_str().ok()));
    if given == Some(token.as_str()) {
        Ok(())
    } else {
        Err(error(StatusCode::UNAUTHORIZED, "Invalid API Token"))
    }
}

/// Builds the server on `listener`.
pub fn build(
    shared: Arc<Shared>,
    listener: TcpListener,
    workers: usize,
) -> std::io::Result<Server> {
    let data = Data::from(shared);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::PayloadConfig::new(5 * 1024 * 1024))
            .route("/health", web::get().to(health))
            .route("/versions", web::get().to(versions))
            .route("/v2/status", web::get().to(status))
            .route("/v2/status/wait-for-block-after/{round}", web::get().to(wait_for_block))
            .route("/v2/transactions/params", web::get().to(params))
            .route("/v2/blocks/{round}", web::get().to(block))
            .route("/v2/transactions", web::post().to(submit))
            .route("/v2/transactions", web::get().to(search_transactions))
            .route("/v2/transactions/pending/{txid}", web::get().to(pending))
            .route("/v2/accounts/{address}", web::get().to(account))
            .route("/v2/assets/{id}", web::get().to(asset))
            .route("/v2/applications/{id}", web::get().to(application))
            .route("/v2/applications/{id}/boxes", web::get().to(boxes))
            .route("/v2/applications/{id}/box", web::get().to(app_box))
            .route("/v2/devnet/fund", web::post().to(fund))
            .route("/v2/teal/compile", web::post().to(compile))
            .route("/v2/devmode/blocks/offset", web::get().to(get_offset))
            .route("/v2/devmode/blocks/offset/{offset}", web::post().to(set_offset))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(error(StatusCode::NOT_FOUND, "not found"))
            }))
    })
    .workers(workers.max(1))
    .disable_signals()
    .listen(listener)?
    .run())
}

async fn health(req: HttpRequest, shared: Data<Shared>) -> Reply {
    authorised(&req, &shared)?;
    Ok(HttpResponse::Ok().json(Json::Null))
}

async fn versions(shared: Data<Shared>) -> Reply {
    // algod serves /versions without a token.
    let node = shared.node();
    Ok(HttpResponse::Ok().json(json!({
        "versions": ["v2"],
        "genesis_id": node.network().genesis_id,
        "genesis_hash_b64": B64.encode(node.network().genesis_hash),
        "build": {"major": 0, "minor": 1, "build_number": 0, "commit_hash": "bitfox-devnet",
                  "branch": "devnet", "channel": "dev"},
    })))
}

fn status_json(node: &Node) -> Json {
    json!({
        "last-round": node.round(),
        "last-version": CONSENSUS_VERSION,
        "next-version": CONSENSUS_VERSION,
        "next-version-round": node.round() + 1,
        "next-version-supported": true,
        "time-since-last-round": 0,
        "catchup-time": 0,
        "stopped-at-unsupported-round": false,
    })
}

async fn status(req: HttpRequest, shared: Data<Shared>) -> Reply {
    authorised(&req, &shared)?;
    Ok(HttpResponse::Ok().json(status_json(&shared.node())))
}

async fn wait_for_block(req: HttpRequest, shared: Data<Shared>, round: Path<String>) -> Reply {
    authorised(&req, &shared)?;
    let Ok(round) = round.parse::<u64>() else {
        return Err(error(StatusCode::BAD_REQUEST, "round must be an unsigned integer"));
    };
    let mut rounds = shared.rounds.subscribe();
    let _ = tokio::time::timeout(WAIT_LIMIT, rounds.wait_for(|r| *r > round)).await;
    Ok(HttpResponse::Ok().json(status_json(&shared.node())))
}

/// A block's header in algod's JSON shape (`{"block": {"rnd", "ts", "gen", ...}}`); the
/// devnet's blocks carry no payset here (the indexer search serves the transactions).
async fn block(req: HttpRequest, shared: Data<Shared>, round: Path<String>) -> Reply {
    authorised(&req, &shared)?;
    let Ok(round) = round.parse::<u64>() else {
        return Err(error(StatusCode::BAD_REQUEST, "round must be an unsigned integer"));
    };
    let node = shared.node();
    let header = node
        .header(round)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no block for round {round}")))?;
    Ok(HttpResponse::Ok().json(json!({"block": {
        "gen": node.network().genesis_id,
        "rnd": header.round,
        "ts": header.timestamp,
    }})))
}

async fn params(req: HttpRequest, shared: Data<Shared>) -> Reply {
    authorised(&req, &shared)?;
    let node = shared.node();
    Ok(HttpResponse::Ok().json(json!({
        "consensus-version": CONSENSUS_VERSION,
        "fee": 0,
        "min-fee": node.consensus().min_txn_fee,
        "genesis-hash": B64.encode(node.network().genesis_hash),
        "genesis-id": node.network().genesis_id,
        "last-round": node.round(),
    })))
}

async fn submit(req: HttpRequest, shared: Data<Shared>, body: Bytes) -> Reply {
    authorised(&req, &shared)?;
    match shared.submit(&body) {
        Ok(txid) => Ok(HttpResponse::Ok().json(json!({ "txId": txid }))),
        Err(e) => Err(error(StatusCode::BAD_REQUEST, e.to_string())),
    }
}

async fn pending(req: HttpRequest, shared: Data<Shared>, txid: Path<String>) -> Reply {
    authorised(&req, &shared)?;
    let node = shared.node();
    match node.confirmed(&txid) {
        Some(confirmed) => Ok(HttpResponse::Ok().json(pending_json(confirmed))),
        None => Err(error(StatusCode::NOT_FOUND, "txn does not exist")),
    }
}

/// algod's `PendingTransactionResponse` for a confirmed transaction.
pub fn pending_json(c: &Confirmed) -> Json {
    let mut out = Map::new();
    out.insert("confirmed-round".into(), json!(c.round));
    out.insert("pool-error".into(), json!(""));
    out.insert("txn".into(), to_json(&c.stxn.to_value(), None));
    if c.apply.config_asset != 0 {
        out.insert("asset-index".into(), json!(c.apply.config_asset));
    }
    if c.apply.application_id != 0 {
        out.insert("application-index".into(), json!(c.apply.application_id));
    }
    if c.apply.closing_amount != 0 {
        out.insert("closing-amount".into(), json!(c.apply.closing_amount));
    }
    if c.apply.asset_closing_amount != 0 {
        out.insert("asset-closing-amount".into(), json!(c.apply.asset_closing_amount));
    }
    if !c.apply.logs.is_empty() {
        out.insert(
            "logs".into(),
            json!(c.apply.logs.iter().map(|l| B64.encode(l)).collect::<Vec<_>>()),
        );
    }
    if !c.apply.inner.is_empty() {
        let inner: Vec<Json> = apps::inner_transactions(&c.apply.inner)
            .map(|(i, t)| {
                let mut entry = json!({"pool-error": "", "confirmed-round": c.round,
                                       "txn": {"txn": to_json(&t.to_value(), None)}});
                if i.created_asset_id != 0 {
                    entry["asset-index"] = json!(i.created_asset_id);
                }
                entry
            })
            .collect();
        out.insert("inner-txns".into(), json!(inner));
    }
    Json::Object(out)
}

/// Fields whose 32-byte values algod shows as addresses.
const ADDRESS_KEYS: &[&str] = &[
    "snd", "rcv", "close", "asnd", "arcv", "aclose", "fadd", "rekey", "sgnr", "m", "r", "f", "c",
    "apat",
];

/// Converts a msgpack value to algod's JSON: addresses as base32, other bytes as base64.
fn to_json(value: &Value, key: Option<&str>) -> Json {
    match value {
        Value::Nil => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Uint(n) => json!(n),
        Value::Int(n) => json!(n),
        Value::Str(s) => json!(s),
        Value::Bytes(b) => match (key, <[u8; 32]>::try_from(b.as_slice())) {
            (Some(k), Ok(array)) if ADDRESS_KEYS.contains(&k) => {
                json!(Address::from_public_key(array).to_string())
            }
            _ => json!(B64.encode(b)),
        },
        Value::Array(items) => Json::Array(items.iter().map(|v| to_json(v, key)).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let name = match k {
                        Value::Str(s) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    let converted = to_json(v, Some(&name));
                    (name, converted)
                })
                .collect(),
        ),
    }
}

fn parse_address(text: &str) -> Result<Address, AlgodError> {
    text.parse()
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("failed to parse the address: {e}")))
}

fn asset_params_json(creator: &Address, p: &AssetParams) -> Json {
    let mut params = Map::new();
    params.insert("creator".into(), json!(creator.to_string()));
    params.insert("total".into(), json!(p.total));
    params.insert("decimals".into(), json!(p.decimals));
    params.insert("default-frozen".into(), json!(p.default_frozen));
    for (key, text) in [("unit-name", &p.unit_name), ("name", &p.asset_name), ("url", &p.url)] {
        if !text.is_empty() {
            params.insert(key.into(), json!(text));
        }
    }
    if let Some(hash) = p.metadata_hash {
        params.insert("metadata-hash".into(), json!(B64.encode(hash)));
    }
    for (key, address) in [
        ("manager", p.manager),
        ("reserve", p.reserve),
        ("freeze", p.freeze),
        ("clawback", p.clawback),
    ] {
        if let Some(address) = address {
            params.insert(key.into(), json!(address.to_string()));
        }
    }
    Json::Object(params)
}

/// algod's `Account` object.
pub fn account_json(node: &Node, address: &Address, account: &Account) -> Json {
    let state = node.state();
    let assets: Vec<Json> = account
        .holdings
        .iter()
        .map(|(id, h)| json!({"asset-id": id, "amount": h.amount, "is-frozen": h.frozen}))
        .collect();
    let created: Vec<Json> = account
        .created_assets
        .iter()
        .filter_map(|id| {
            state
                .assets
                .get(id)
                .map(|a| json!({"index": id, "params": asset_params_json(&a.creator, &a.params)}))
        })
        .collect();
    let mut out = json!({
        "address": address.to_string(),
        "amount": account.balance,
        "amount-without-pending-rewards": account.balance,
        "min-balance": if account.is_empty() { 0 } else { account.min_balance(node.consensus()) },
        "pending-rewards": 0,
        "rewards": 0,
        "reward-base": 0,
        "round": node.round(),
        "status": "Offline",
        "total-apps-opted-in": account.opted_in_apps.len(),
        "total-assets-opted-in": account.holdings.len(),
        "total-created-apps": account.created_apps.len(),
        "total-created-assets": account.created_assets.len(),
        "total-box-bytes": account.total_box_bytes,
        "total-boxes": account.total_boxes,
        "total-extra-app-pages": account.total_extra_pages,
        "assets": assets,
        "created-assets": created,
    });
    if let Some(auth) = account.auth_addr {
        out["auth-addr"] = json!(auth.to_string());
    }
    let created_apps: Vec<Json> = account
        .created_apps
        .iter()
        .filter_map(|id| {
            state.apps.get(id).map(|app| json!({"id": id, "params": app_params_json(app)}))
        })
        .collect();
    out["created-apps"] = json!(created_apps);
    let local: Vec<Json> = account
        .opted_in_apps
        .iter()
        .map(|(id, kv)| {
            let schema = state.apps.get(id).map(|a| a.local_schema).unwrap_or_default();
            json!({"id": id, "key-value": teal_kv(kv),
                   "schema": {"num-uint": schema.num_uint, "num-byte-slice": schema.num_byte_slice}})
        })
        .collect();
    out["apps-local-state"] = json!(local);
    out
}

/// Key-value state as algod shows it (type 1 = bytes, 2 = uint).
fn teal_kv(kv: &std::collections::BTreeMap<Vec<u8>, bitfox_avm::eval::Value>) -> Json {
    use bitfox_avm::eval::Value as V;
    Json::Array(
        kv.iter()
            .map(|(k, v)| {
                let value = match v {
                    V::Bytes(b) => json!({"type": 1, "bytes": B64.encode(b), "uint": 0}),
                    V::Uint(n) => json!({"type": 2, "bytes": "", "uint": n}),
                };
                json!({"key": B64.encode(k), "value": value})
            })
            .collect(),
    )
}

fn app_params_json(app: &LedgerApp) -> Json {
    json!({
        "creator": app.creator.to_string(),
        "approval-program": B64.encode(&app.approval),
        "clear-state-program": B64.encode(&app.clear),
        "extra-program-pages": app.extra_pages,
        "global-state": teal_kv(&app.global),
        "global-state-schema": {"num-uint": app.global_schema.num_uint, "num-byte-slice": app.global_schema.num_byte_slice},
        "local-state-schema": {"num-uint": app.local_schema.num_uint, "num-byte-slice": app.local_schema.num_byte_slice},
    })
}

fn app_id(text: &str) -> Result<u64, AlgodError> {
    text.parse()
        .map_err(|_| error(StatusCode::BAD_REQUEST, "application id must be an unsigned integer"))
}

async fn application(req: HttpRequest, shared: Data<Shared>, id: Path<String>) -> Reply {
    authorised(&req, &shared)?;
    let id = app_id(&id)?;
    let node = shared.node();
    let app = node
        .state()
        .apps
        .get(&id)
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "application does not exist"))?;
    Ok(HttpResponse::Ok().json(json!({"id": id, "params": app_params_json(app)})))
}

async fn boxes(req: HttpRequest, shared: Data<Shared>, id: Path<String>) -> Reply {
    authorised(&req, &shared)?;
    let id = app_id(&id)?;
    let node = shared.node();
    let names: Vec<Json> = node
        .state()
        .boxes
        .keys()
        .filter(|(app, _)| *app == id)
        .map(|(_, name)| json!({"name": B64.encode(name)}))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"boxes": names})))
}

/// Parses algod's box name forms: `b64:`, `str:`, `int:` (uint64) and `addr:`.
fn box_name(text: &str) -> Result<Vec<u8>, AlgodError> {
    let bad = |what: &str| error(StatusCode::BAD_REQUEST, format!("invalid box name: {what}"));
    let (encoding, value) = text.split_once(':').ok_or_else(|| bad("expected encoding:value"))?;
    match encoding {
        "b64" => B64.decode(value).map_err(|_| bad("bad base64")),
        "str" => Ok(value.as_bytes().to_vec()),
        "int" => {
            value.parse::<u64>().map(|n| n.to_be_bytes().to_vec()).map_err(|_| bad("bad integer"))
        }
        "addr" => value
            .parse::<Address>()
            .map(|a| a.public_key().to_vec())
            .map_err(|_| bad("bad address")),
        other => Err(bad(&format!("unknown encoding {other}"))),
    }
}

async fn app_box(req: HttpRequest, shared: Data<Shared>, id: Path<String>) -> Reply {
    authorised(&req, &shared)?;
    let id = app_id(&id)?;
    let name = req
        .query_string()
        .split('&')
        .find_map(|p| p.strip_prefix("name="))
        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "name is required"))?;
    let name = box_name(&percent_decode(name))?;
    let node = shared.node();
    let value = node
        .state()
        .boxes
        .get(&(id, name.clone()))
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "box not found"))?;
    Ok(HttpResponse::Ok().json(
        json!({"name": B64.encode(&name), "round": node.round(), "value": B64.encode(value)}),
    ))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Most a single dispenser request may hand out: 1,000,000 Algo.
const MAX_DISPENSE: u64 = 1_000_000_000_000;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FundRequest {
    address: String,
    amount: u64,
}

/// The devnet's dispenser: pays `amount` microAlgos to `address` from the dispenser
/// account (devnet only; not an algod endpoint).
async fn fund(req: HttpRequest, shared: Data<Shared>, body: Bytes) -> Reply {
    authorised(&req, &shared)?;
    let request: FundRequest = serde_json::from_slice(&body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("invalid request: {e}")))?;
    let receiver = parse_address(&request.address)?;
    if request.amount == 0 || request.amount > MAX_DISPENSE {
        return Err(error(
            StatusCode::BAD_REQUEST,
            format!("amount must be 1 to {MAX_DISPENSE} microAlgos"),
        ));
    }
    let raw = shared.node_mut().dispense(receiver, request.amount);
    match shared.submit(&raw) {
        Ok(txid) => Ok(HttpResponse::Ok().json(json!({ "txId": txid }))),
        Err(e) => Err(error(StatusCode::BAD_REQUEST, e.to_string())),
    }
}

async fn account(req: HttpRequest, shared: Data<Shared>, address: Path<String>) -> Reply {
    authorised(&req, &shared)?;
    let address = parse_address(&address)?;
    let node = shared.node();
    let account = node.state().account(&address);
    Ok(HttpResponse::Ok().json(account_json(&node, &address, &account)))
}

async fn asset(req: HttpRequest, shared: Data<Shared>, id: Path<String>) -> Reply {
    authorised(&req, &shared)?;
    let Ok(id) = id.parse::<u64>() else {
        return Err(error(StatusCode::BAD_REQUEST, "asset id must be an unsigned integer"));
    };
    let node = shared.node();
    match node.state().assets.get(&id) {
        Some(asset) => Ok(HttpResponse::Ok().json(
            json!({"index": id, "params": asset_params_json(&asset.creator, &asset.params)}),
        )),
        None => Err(error(StatusCode::NOT_FOUND, "asset does not exist")),
    }
}

async fn get_offset(req: HttpRequest, shared: Data<Shared>) -> Reply {
    authorised(&req, &shared)?;
    Ok(HttpResponse::Ok().json(json!({ "offset": shared.node().offset() })))
}

async fn set_offset(req: HttpRequest, shared: Data<Shared>, offset: Path<String>) -> Reply {
    authorised(&req, &shared)?;
    match offset.parse::<u64>() {
        Ok(seconds) => {
            shared.node_mut().set_offset(seconds);
            Ok(HttpResponse::Ok().json(Json::Null))
        }
        Err(_) => Err(error(StatusCode::BAD_REQUEST, "offset must be a number of seconds")),
    }
}

/// The address of a program (what algod returns as a compiled program's `hash`):
/// SHA-512/256 of `"Program"` followed by the bytecode.
pub fn program_address(bytecode: &[u8]) -> Address {
    use sha2::{Digest, Sha512_256};
    let mut hasher = Sha512_256::new();
    hasher.update(b"Program");
    hasher.update(bytecode);
    Address::from_public_key(hasher.finalize().into())
}

async fn compile(req: HttpRequest, shared: Data<Shared>, body: Bytes) -> Reply {
    authorised(&req, &shared)?;
    if req.query_string().split('&').any(|p| p == "sourcemap=true") {
        return Err(error(StatusCode::BAD_REQUEST, "source maps are not supported on devnet"));
    }
    let source = std::str::from_utf8(&body)
        .map_err(|_| error(StatusCode::BAD_REQUEST, "source is not UTF-8"))?;
    match bitfox_avm::assemble(source) {
        Ok(program) => Ok(HttpResponse::Ok().json(json!({
            "hash": program_address(&program.bytecode).to_string(),
            "result": B64.encode(&program.bytecode),
        }))),
        Err(e) => Err(error(StatusCode::BAD_REQUEST, e.to_string())),
    }
}

async fn search_transactions(req: HttpRequest, shared: Data<Shared>) -> Reply {
    authorised(&req, &shared)?;
    let search = indexer::Search::parse(req.query_string())?;
    Ok(indexer::search(&shared.node(), &search))
}
