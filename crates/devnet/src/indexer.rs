//! The indexer v2 transaction search the watcher needs, served by the devnet next to its
//! algod API: `GET /v2/transactions` with `application-id`, `address`, `asset-id`,
//! `txid`, `min-round`, `max-round`, `limit` and `next` (an opaque continuation token),
//! oldest first, in the indexer's JSON shape.
//!
//! The devnet keeps every confirmed transaction in memory (it replays its chain at start),
//! so the search is a scan; a devnet's history is small.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD};
use serde_json::{Map, Value as Json, json};

use crate::ledger::apps;
use crate::node::{Confirmed, Node};
use crate::rest_error::{AlgodError, error};
use crate::txn::{Transaction, TxnKind};

/// The indexer's token header.
pub const TOKEN_HEADER: &str = "X-Indexer-API-Token";
/// Default and largest page size, as the indexer.
const DEFAULT_LIMIT: usize = 1_000;

/// A parsed search.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Search {
    pub application_id: Option<u64>,
    pub asset_id: Option<u64>,
    pub address: Option<String>,
    pub txid: Option<String>,
    pub min_round: Option<u64>,
    pub max_round: Option<u64>,
    pub limit: usize,
    /// Position (index into the node's history) to continue from.
    pub after: usize,
}

impl Search {
    /// Parses the query string; unknown parameters are refused, as the indexer does.
    pub fn parse(query: &str) -> Result<Self, AlgodError> {
        let mut search = Self { limit: DEFAULT_LIMIT, ..Self::default() };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let number = || {
                value.parse::<u64>().map_err(|_| {
                    error(StatusCode::BAD_REQUEST, format!("invalid {key}: {value:?}"))
                })
            };
            match key {
                "application-id" => search.application_id = Some(number()?),
                "asset-id" => search.asset_id = Some(number()?),
                "address" => search.address = Some(value.to_owned()),
                "txid" => search.txid = Some(value.to_owned()),
                "min-round" => search.min_round = Some(number()?),
                "max-round" => search.max_round = Some(number()?),
                "limit" => {
                    search.limit =
                        usize::try_from(number()?).unwrap_or(DEFAULT_LIMIT).clamp(1, DEFAULT_LIMIT);
                }
                "next" => {
                    search.after = URL_SAFE_NO_PAD
                        .decode(value)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| error(StatusCode::BAD_REQUEST, "invalid next token"))?;
                }
                other => {
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        format!("unknown parameter {other:?}"),
                    ));
                }
            }
        }
        Ok(search)
    }

    fn matches(&self, c: &Confirmed) -> bool {
        let txn = &c.stxn.txn;
        let round_ok = self.min_round.is_none_or(|r| c.round >= r)
            && self.max_round.is_none_or(|r| c.round <= r);
        let app_ok = self.application_id.is_none_or(|id| match &txn.kind {
            TxnKind::AppCall(app) => app.app_id == id || c.apply.application_id == id,
            _ => false,
        });
        let asset_ok = self.asset_id.is_none_or(|id| match &txn.kind {
            TxnKind::AssetConfig { asset_id, .. } => *asset_id == id || c.apply.config_asset == id,
            TxnKind::AssetTransfer { asset_id, .. } | TxnKind::AssetFreeze { asset_id, .. } => {
                *asset_id == id
            }
            _ => false,
        });
        let address_ok = self.address.as_ref().is_none_or(|a| involves(txn, a));
        let txid_ok = self.txid.as_ref().is_none_or(|id| *id == c.txid);
        round_ok && app_ok && asset_ok && address_ok && txid_ok
    }
}

fn involves(txn: &Transaction, address: &str) -> bool {
    let mut parties = vec![Some(txn.sender), txn.rekey_to];
    match &txn.kind {
        TxnKind::Payment { receiver, close_to, .. } => parties.extend([*receiver, *close_to]),
        TxnKind::AssetTransfer { asset_sender, receiver, close_to, .. } => {
            parties.extend([*asset_sender, *receiver, *close_to]);
        }
        TxnKind::AssetFreeze { account, .. } => parties.push(*account),
        TxnKind::AssetConfig { .. } => {}
        TxnKind::AppCall(app) => parties.extend(app.accounts.iter().copied().map(Some)),
    }
    parties.into_iter().flatten().any(|p| p.to_string() == address)
}

fn address_or_null(a: Option<bitfox_domain::Address>) -> Json {
    a.map_or(Json::Null, |a| json!(a.to_string()))
}

/// The indexer's JSON for one confirmed transaction, with its inner transactions.
pub fn transaction_json(node: &Node, c: &Confirmed) -> Json {
    let mut out = body_json(node, c, &c.stxn.txn);
    if !c.apply.inner.is_empty() {
        let inner: Vec<Json> = apps::inner_transactions(&c.apply.inner)
            .map(|(i, t)| {
                let mut entry = body_json(node, c, &t);
                if i.created_asset_id != 0 {
                    entry["created-asset-index"] = json!(i.created_asset_id);
                }
                entry
            })
            .collect();
        out["inner-txns"] = json!(inner);
    }
    out
}

/// The fields of `txn` (the confirmed transaction itself or one of its inner ones).
fn body_json(node: &Node, c: &Confirmed, txn: &Transaction) -> Json {
    let top_level = std::ptr::eq(txn, &c.stxn.txn);
    let mut out = Map::new();
    if top_level {
        out.insert("id".into(), json!(c.txid));
    }
    out.insert("confirmed-round".into(), json!(c.round));
    out.insert("round-time".into(), json!(node.header(c.round).map_or(0, |h| h.timestamp)));
    out.insert("intra-round-offset".into(), json!(c.index));
    out.insert("tx-type".into(), json!(txn.kind.type_name()));
    out.insert("sender".into(), json!(txn.sender.to_string()));
    out.insert("fee".into(), json!(txn.fee));
    out.insert("first-valid".into(), json!(txn.first_valid));
    out.insert("last-valid".into(), json!(txn.last_valid));
    out.insert("genesis-id".into(), json!(txn.genesis_id));
    if let Some(gh) = txn.genesis_hash {
        out.insert("genesis-hash".into(), json!(B64.encode(gh)));
    }
    if let Some(group) = txn.group {
        out.insert("group".into(), json!(B64.encode(group)));
    }
    if !txn.note.is_empty() {
        out.insert("note".into(), json!(B64.encode(&txn.note)));
    }
    if let Some(lease) = txn.lease {
        out.insert("lease".into(), json!(B64.encode(lease)));
    }
    if let Some(rekey) = txn.rekey_to {
        out.insert("rekey-to".into(), json!(rekey.to_string()));
    }
    if let Some(sig) = c.stxn.sig.filter(|_| top_level) {
        out.insert("signature".into(), json!({"sig": B64.encode(sig)}));
    }
    if top_level && !c.apply.logs.is_empty() {
        out.insert(
            "logs".into(),
            json!(c.apply.logs.iter().map(|l| B64.encode(l)).collect::<Vec<_>>()),
        );
    }
    if let Some(auth) = c.stxn.auth_addr.filter(|_| top_level) {
        out.insert("auth-addr".into(), json!(auth.to_string()));
    }
    match &txn.kind {
        TxnKind::Payment { receiver, amount, close_to } => {
            out.insert(
                "payment-transaction".into(),
                json!({"receiver": address_or_null(*receiver), "amount": amount,
                       "close-remainder-to": address_or_null(*close_to), "close-amount": if top_level { c.apply.closing_amount } else { 0 }}),
            );
        }
        TxnKind::AssetTransfer { asset_id, amount, asset_sender, receiver, close_to } => {
            out.insert(
                "asset-transfer-transaction".into(),
                json!({"asset-id": asset_id, "amount": amount, "sender": address_or_null(*asset_sender),
                       "receiver": address_or_null(*receiver), "close-to": address_or_null(*close_to),
                       "close-amount": if top_level { c.apply.asset_closing_amount } else { 0 }}),
            );
        }
        TxnKind::AssetConfig { asset_id, params } => {
            let params = params.as_ref().map_or(Json::Null, |p| {
                json!({"total": p.total, "decimals": p.decimals, "default-frozen": p.default_frozen,
                       "unit-name": p.unit_name, "name": p.asset_name, "url": p.url,
                       "manager": address_or_null(p.manager), "reserve": address_or_null(p.reserve),
                       "freeze": address_or_null(p.freeze), "clawback": address_or_null(p.clawback)})
            });
            out.insert(
                "asset-config-transaction".into(),
                json!({"asset-id": asset_id, "params": params}),
            );
            if top_level && c.apply.config_asset != 0 {
                out.insert("created-asset-index".into(), json!(c.apply.config_asset));
            }
        }
        TxnKind::AssetFreeze { account, asset_id, frozen } => {
            out.insert(
                "asset-freeze-transaction".into(),
                json!({"address": address_or_null(*account), "asset-id": asset_id, "new-freeze-status": frozen}),
            );
        }
        TxnKind::AppCall(app) => {
            out.insert(
                "application-transaction".into(),
                json!({"application-id": app.app_id, "on-completion": format!("{:?}", app.on_complete).to_lowercase(),
                       "application-args": app.args.iter().map(|a| B64.encode(a)).collect::<Vec<_>>(),
                       "accounts": app.accounts.iter().map(ToString::to_string).collect::<Vec<_>>(),
                       "foreign-apps": app.foreign_apps, "foreign-assets": app.foreign_assets}),
            );
            if top_level && c.apply.application_id != 0 {
                out.insert("created-application-index".into(), json!(c.apply.application_id));
            }
        }
    }
    Json::Object(out)
}

/// Runs `search` over the node's history.
pub fn search(node: &Node, search: &Search) -> HttpResponse {
    let all = node.transactions();
    let mut page = Vec::new();
    let mut last = None;
    for (position, confirmed) in all.iter().enumerate().skip(search.after) {
        if !search.matches(confirmed) {
            continue;
        }
        if page.len() == search.limit {
            break;
        }
        page.push(transaction_json(node, confirmed));
        last = Some(position);
    }
    let mut body = json!({"current-round": node.round(), "transactions": page});
    if let Some(position) = last
        && body["transactions"].as_array().is_some_and(|t| t.len() == search.limit)
    {
        body["next-token"] = json!(URL_SAFE_NO_PAD.encode((position + 1).to_string()));
    }
    HttpResponse::Ok().json(body)
}
