//! `bitfox clusters …` and `bitfox portfolio`: the cluster routes from the command line,
//! against a running server. Request bodies are the API's own types, serialised.

use anyhow::{Context, bail};
use bitfox_api::routes::clusters::{AttachGpu, BuyShares, Claim, CreateCluster, TransferShares};
use bitfox_domain::Address;
use reqwest::Method;

use crate::config::Settings;

/// What to do with clusters.
#[derive(Debug, clap::Subcommand)]
pub enum ClustersCommand {
    /// Create a cluster and its share token (the operator pays the deposit).
    Create {
        #[arg(long)]
        operator: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Shares issued.
        #[arg(long)]
        shares: u64,
        /// microAlgos per share.
        #[arg(long)]
        price: u64,
        /// GPUs of the operator to put in the cluster (repeatable).
        #[arg(long = "gpu")]
        gpus: Vec<i64>,
    },
    /// List the clusters.
    List,
    /// One cluster with its on-chain figures.
    Show { id: i64 },
    /// A cluster's holders, shares and claimable revenue.
    Holders { id: i64 },
    /// Put a GPU of the operator in the cluster.
    Attach {
        id: i64,
        #[arg(long)]
        gpu: i64,
    },
    /// Buy unsold shares.
    Buy {
        id: i64,
        #[arg(long)]
        buyer: String,
        #[arg(long)]
        count: u64,
    },
    /// Transfer shares.
    Transfer {
        id: i64,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        #[arg(long)]
        count: u64,
    },
    /// Claim the revenue owed (the operator: its unsold shares').
    Claim {
        id: i64,
        #[arg(long)]
        holder: String,
    },
}

/// An HTTP request to the API: method, path and JSON body.
pub type ApiRequest = (Method, String, Option<serde_json::Value>);

fn address(text: &str, flag: &str) -> anyhow::Result<Address> {
    text.parse().map_err(|e| anyhow::anyhow!("--{flag} is not an Algorand address: {e}"))
}

fn body(value: impl serde::Serialize) -> anyhow::Result<Option<serde_json::Value>> {
    Ok(Some(serde_json::to_value(value)?))
}

/// The HTTP request of a `bitfox clusters` command.
pub fn request(command: ClustersCommand) -> anyhow::Result<ApiRequest> {
    Ok(match command {
        ClustersCommand::Create { operator, name, description, shares, price, gpus } => (
            Method::POST,
            "/clusters".into(),
            body(CreateCluster {
                operator_address: address(&operator, "operator")?,
                name,
                description,
                total_shares: shares,
                price_per_share: price,
                gpus,
            })?,
        ),
        ClustersCommand::List => (Method::GET, "/clusters".into(), None),
        ClustersCommand::Show { id } => (Method::GET, format!("/clusters/{id}"), None),
        ClustersCommand::Holders { id } => (Method::GET, format!("/clusters/{id}/holders"), None),
        ClustersCommand::Attach { id, gpu } => {
            (Method::POST, format!("/clusters/{id}/gpus"), body(AttachGpu { gpu_id: gpu })?)
        }
        ClustersCommand::Buy { id, buyer, count } => (
            Method::POST,
            format!("/clusters/{id}/shares"),
            body(BuyShares { buyer_address: address(&buyer, "buyer")?, count })?,
        ),
        ClustersCommand::Transfer { id, from, to, count } => (
            Method::POST,
            format!("/clusters/{id}/transfers"),
            body(TransferShares {
                from_address: address(&from, "from")?,
                to_address: address(&to, "to")?,
                count,
            })?,
        ),
        ClustersCommand::Claim { id, holder } => (
            Method::POST,
            format!("/clusters/{id}/claims"),
            body(Claim { holder_address: address(&holder, "holder")? })?,
        ),
    })
}

/// The request of `bitfox portfolio ADDRESS`.
pub fn portfolio(address: &str) -> ApiRequest {
    (Method::GET, format!("/accounts/{address}/portfolio"), None)
}

/// Calls the API (`api`, or this configuration's), prints the JSON answer; an error
/// answer fails with its detail. The API key comes from `BITFOX_API_KEY`.
pub async fn call(
    settings: &Settings,
    api: Option<String>,
    (method, path, body): ApiRequest,
) -> anyhow::Result<()> {
    let base =
        api.unwrap_or_else(|| format!("http://{}:{}", settings.http.host, settings.http.port));
    let mut request = reqwest::Client::new().request(method, format!("{base}{path}"));
    if let Ok(key) = std::env::var("BITFOX_API_KEY") {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.with_context(|| format!("calling {base}"))?;
    let status = response.status();
    let answer: serde_json::Value = response.json().await.context("reading the answer")?;
    if !status.is_success() {
        bail!("{status}: {}", answer["detail"].as_str().unwrap_or("request refused"));
    }
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATOR: &str = "GD64YIY3TWGDMCNPP553DZPPR6LDUSFQOIJVFDPPXWEG3FVOJCCDBBHU5A";

    #[test]
    fn requests_carry_the_api_bodies() {
        let (method, path, body) = request(ClustersCommand::Create {
            operator: OPERATOR.into(),
            name: "rack".into(),
            description: String::new(),
            shares: 100,
            price: 5,
            gpus: vec![1, 2],
        })
        .unwrap();
        assert_eq!((method, path.as_str()), (Method::POST, "/clusters"));
        assert_eq!(
            body.unwrap(),
            serde_json::json!({"operator_address": OPERATOR, "name": "rack", "description": "",
                               "total_shares": 100, "price_per_share": 5, "gpus": [1, 2]})
        );
        let (_, path, body) =
            request(ClustersCommand::Claim { id: 3, holder: OPERATOR.into() }).unwrap();
        assert_eq!(path, "/clusters/3/claims");
        assert_eq!(body.unwrap(), serde_json::json!({"holder_address": OPERATOR}));
        let err =
            request(ClustersCommand::Buy { id: 3, buyer: "nope".into(), count: 1 }).unwrap_err();
        assert!(err.to_string().contains("--buyer is not an Algorand address"), "{err}");
    }
}
