//! The cluster jobs: creation, joining, opt-in, purchases, transfers and claims.

use bitfox_domain::chain::{ClusterCall, ClusterReceipt};
use bitfox_domain::{ChainId, ClusterId, ClusterStatus, JobKind};
use bitfox_market::MarketError;
use bitfox_market::clusters::{cluster_url, find_cluster, release_cluster};
use bitfox_market::queue::JobParams;
use bitfox_store::models::{ClusterRow, JobRow};
use bitfox_store::now_seconds;
use bitfox_store::repo::cluster;
use tokio_util::sync::CancellationToken;

use crate::journal::StoreJournal;
use crate::queue::{address, chain_id};
use crate::runner::JobRunner;
use crate::{Outcome, Result};

impl JobRunner {
    /// The cluster `cluster` once it is on chain; `Err` carries the outcome otherwise
    /// (waiting while it is being created, failed if its creation failed).
    pub(crate) async fn active_cluster(
        &self,
        job: &JobRow,
        cluster: ClusterId,
    ) -> Result<Result<ClusterRow, Outcome>, MarketError> {
        let row = self.store.read(move |c| find_cluster(c, cluster)).await?;
        match row.status {
            ClusterStatus::Active => Ok(Ok(row)),
            ClusterStatus::Failed => Ok(Err(Outcome::Failed(format!(
                "cluster {cluster} could not be created on chain: {}",
                row.failure_reason.unwrap_or_default()
            )))),
            ClusterStatus::Pending => {
                let reason = format!("waiting for cluster {cluster} to be created on chain");
                let retry = self.settings.poll_interval_ms.div_ceil(1000).max(1);
                Ok(Err(self.requeue(job, &reason, retry).await?))
            }
        }
    }

    pub(crate) async fn cluster_job(
        &self,
        job: JobRow,
        cancel: &CancellationToken,
    ) -> Result<Outcome> {
        let cluster = job
            .cluster_id
            .ok_or_else(|| MarketError::Corrupt(format!("job {} has no cluster", job.id)))?;
        let payload: JobParams = serde_json::from_str(job.payload.as_deref().unwrap_or("{}"))
            .map_err(MarketError::corrupt)?;
        let party = |text: &Option<String>, what: &str| match text {
            Some(text) => address(text, what),
            None => Err(MarketError::corrupt(format!("job {} names no {what}", job.id))),
        };
        let count = || {
            payload
                .count
                .ok_or_else(|| MarketError::corrupt(format!("job {} has no count", job.id)))
        };
        let journal = StoreJournal::new(self, &job);
        let (app_id, call) = if job.kind == JobKind::CreateCluster {
            let row = self.store.read(move |c| find_cluster(c, cluster)).await?;
            // A new cluster goes to the newest app, recorded before its group is built.
            let app_id = match row.app_id {
                Some(app) => app.get(),
                None => match self.chain.newest_app() {
                    Some(app) => {
                        self.write_held(&job, move |c| {
                            Ok(cluster::set_app(c, cluster, ChainId(app))?)
                        })
                        .await?;
                        app
                    }
                    None => return self.wait_for_chain(&job).await,
                },
            };
            let call = ClusterCall::Create {
                operator: address(&row.operator_address, "operator")?,
                total_shares: row.total_shares.0,
                price_per_share: row.price_per_share.get(),
                url: cluster_url(row.id),
            };
            (app_id, call)
        } else {
            let row = match self.active_cluster(&job, cluster).await? {
                Ok(row) => row,
                Err(Outcome::Failed(reason)) => return self.finish(&job, Err(reason)).await,
                Err(outcome) => return Ok(outcome),
            };
            let cluster_id = chain_id(row.chain_cluster_id)?;
            let asset_id = chain_id(row.asset_id)?;
            let app_id = chain_id(row.app_id)?;
            let call = match job.kind {
                JobKind::JoinCluster => {
                    ClusterCall::Join { holder: party(&payload.holder, "holder")?, cluster_id }
                }
                JobKind::OptIn => {
                    ClusterCall::OptIn { holder: party(&payload.holder, "holder")?, asset_id }
                }
                JobKind::BuyShares => ClusterCall::Buy {
                    buyer: party(&payload.holder, "buyer")?,
                    cluster_id,
                    asset_id,
                    operator: address(&row.operator_address, "operator")?,
                    count: count()?,
                    price_per_share: row.price_per_share.get(),
                },
                JobKind::TransferShares => ClusterCall::Transfer {
                    from: party(&payload.holder, "sender")?,
                    to: party(&payload.to, "recipient")?,
                    cluster_id,
                    asset_id,
                    count: count()?,
                },
                JobKind::Claim | JobKind::ClaimUnsold => ClusterCall::Claim {
                    holder: party(&payload.holder, "holder")?,
                    cluster_id,
                    unsold: job.kind == JobKind::ClaimUnsold,
                },
                other => {
                    return self.finish(&job, Err(format!("{other} is not a cluster job"))).await;
                }
            };
            (app_id, call)
        };
        let result = tokio::select! {
            () = cancel.cancelled() => return self.abandon(&job).await,
            result = self.chain.cluster(app_id, &call, &journal) => result,
        };
        if job.kind == JobKind::CreateCluster {
            return self
                .conclude(
                    &job,
                    result,
                    move |c, receipt: ClusterReceipt| {
                        let (chain_cluster, asset) = receipt.created.ok_or_else(|| {
                            MarketError::corrupt("a cluster creation without its ids")
                        })?;
                        Ok(cluster::activate(
                            c,
                            cluster,
                            ChainId(chain_cluster),
                            ChainId(asset),
                            &receipt.txid,
                            now_seconds(),
                        )?)
                    },
                    move |c, reason| release_cluster(c, cluster, reason, now_seconds()),
                )
                .await;
        }
        self.conclude(&job, result, |_, _| Ok(()), |_, _| Ok(())).await
    }
}
