//! Clusters: creation, GPUs joining, a creation that failed, and the jobs that buy,
//! transfer and claim shares.

use bitfox_domain::amount::TOTAL_SUPPLY;
use bitfox_domain::{
    Address, ClusterId, ClusterStatus, GpuId, GpuStatus, JobId, JobKind, JobState, MicroAlgos,
    Shares,
};
use bitfox_store::DbConnection;
use bitfox_store::models::{ClusterRow, GpuRow, JobRow, NewCluster as NewClusterRow};
use bitfox_store::repo::{cluster, gpu, job};

use crate::caller::{Caller, Mode};
use crate::check::finish;
use crate::error::{FieldError, MarketError, Result};
use crate::listings::find_gpu;
use crate::queue::{JobParams, cluster_job, new_job, new_job_after};

/// The cluster `id`, or 404.
pub fn find_cluster(conn: &mut DbConnection, id: ClusterId) -> Result<ClusterRow> {
    cluster::find(conn, id)?
        .ok_or_else(|| MarketError::NotFound(format!("cluster {id} does not exist")))
}

/// The URL given to a cluster's share ASA.
pub fn cluster_url(id: ClusterId) -> String {
    format!("bitfox://clusters/{id}")
}

/// Puts GPU `gpu_id` of `operator` in cluster `cluster_id`: its rentals' provider share
/// then goes to the cluster's holders. A listing already on chain is delisted and listed
/// again under the cluster (two jobs); a GPU not yet listed is listed under it directly.
pub fn attach(
    conn: &mut DbConnection,
    operator: &str,
    cluster_id: ClusterId,
    gpu_id: GpuId,
    now: i64,
) -> Result<GpuRow> {
    if find_cluster(conn, cluster_id)?.status == ClusterStatus::Failed {
        return Err(MarketError::Conflict(format!("cluster {cluster_id} failed to be created")));
    }
    let row = find_gpu(conn, gpu_id)?;
    if row.owner_address != operator {
        return Err(MarketError::Forbidden(format!(
            "GPU {gpu_id} belongs to {}, not to the cluster's operator",
            row.owner_address
        )));
    }
    match row.cluster_id {
        Some(current) if current == cluster_id => return Ok(row),
        Some(other) => {
            return Err(MarketError::Conflict(format!(
                "GPU {gpu_id} is in cluster {other} already"
            )));
        }
        None => {}
    }
    let status = row.status;
    if !matches!(status, GpuStatus::Available | GpuStatus::Offline) {
        return Err(MarketError::Conflict(format!(
            "GPU {gpu_id} cannot join a cluster while it is {status}"
        )));
    }
    gpu::set_cluster(conn, gpu_id, cluster_id, now)?;
    // A registration already signed or on its way was built outside the cluster: after
    // it, delist and list again under the cluster, in that order. One still to be built
    // reads the cluster when it runs.
    let in_flight: Vec<JobId> = job::unfinished_for_gpu(conn, gpu_id, JobKind::Register)?
        .into_iter()
        .filter(|j| j.state != JobState::Queued || j.signed_group.is_some())
        .map(|j| j.id)
        .collect();
    if row.listing_id.is_some() || !in_flight.is_empty() {
        let delist = new_job_after(conn, JobKind::Delist, gpu_id, None, in_flight, now)?;
        new_job_after(conn, JobKind::Register, gpu_id, None, vec![delist.id], now)?;
    }
    find_gpu(conn, gpu_id)
}

/// A cluster whose creation failed: marked failed, and its GPUs leave it and are listed
/// on their own (a registration still unfinished reads the GPU again when it runs).
pub fn release_cluster(
    conn: &mut DbConnection,
    cluster_id: ClusterId,
    reason: &str,
    now: i64,
) -> Result<()> {
    cluster::fail(conn, cluster_id, reason, now)?;
    for gpu_id in gpu::in_cluster(conn, cluster_id)? {
        gpu::clear_cluster(conn, gpu_id, now)?;
        let row = find_gpu(conn, gpu_id)?;
        let registering = !job::unfinished_for_gpu(conn, gpu_id, JobKind::Register)?.is_empty();
        if row.listing_id.is_none() && !registering && row.status != GpuStatus::Delisted {
            new_job(conn, JobKind::Register, gpu_id, None, now)?;
        }
    }
    Ok(())
}

/// Most shares a cluster may issue.
pub const MAX_SHARES: u64 = 1_000_000_000_000;

/// A cluster to create.
#[derive(Debug, Clone)]
pub struct NewCluster {
    /// The operator: pays the deposit, owns the unsold shares, is paid for those sold.
    pub operator_address: Address,
    /// 1–100 characters.
    pub name: String,
    /// Up to 1000 characters.
    pub description: String,
    /// Shares issued (1 to [`MAX_SHARES`]).
    pub total_shares: u64,
    /// microAlgos per share.
    pub price_per_share: u64,
    /// GPUs of the operator to put in the cluster.
    pub gpus: Vec<GpuId>,
}

/// Records a cluster (`pending`), the job that creates it and its share token on chain,
/// and puts its GPUs in it.
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    req: NewCluster,
    now: i64,
) -> Result<ClusterRow> {
    let mut errors = Vec::new();
    let name = req.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.push(FieldError::new("name", "must be 1 to 100 characters, no control characters"));
    }
    if req.description.chars().count() > 1000 {
        errors.push(FieldError::new("description", "must be at most 1000 characters"));
    }
    if req.total_shares == 0 || req.total_shares > MAX_SHARES {
        errors.push(FieldError::new("total_shares", "must be between 1 and 10^12"));
    }
    if req.price_per_share > TOTAL_SUPPLY {
        errors.push(FieldError::new("price_per_share", "must be at most the total Algo supply"));
    }
    finish(errors)?;
    let operator = req.operator_address.to_string();
    caller.ensure_is(&operator, "operator_address")?;
    let row = cluster::insert(
        conn,
        &NewClusterRow {
            operator_address: operator.clone(),
            name,
            description: req.description,
            total_shares: Shares(req.total_shares),
            price_per_share: MicroAlgos(req.price_per_share),
            status: ClusterStatus::Pending,
            created_at: now,
            updated_at: now,
        },
    )?;
    cluster_job(conn, JobKind::CreateCluster, row.id, &JobParams::default(), now)?;
    for gpu_id in &req.gpus {
        attach(conn, &operator, row.id, *gpu_id, now)?;
    }
    Ok(row)
}

/// A job to queue for a cluster: its kind and parameters.
pub type PlannedJob = (JobKind, JobParams);

/// Queues `jobs` for cluster `cluster_id`, each running only after the ones before it
/// have succeeded (a purchase after its holder record and opt-in); returns the last.
pub fn queue_in_order(
    conn: &mut DbConnection,
    cluster_id: ClusterId,
    jobs: Vec<PlannedJob>,
    now: i64,
) -> Result<JobRow> {
    let mut queued: Vec<JobRow> = Vec::new();
    for (kind, payload) in jobs {
        let after = queued.iter().map(|j| j.id).collect();
        let payload = JobParams { after, ..payload };
        queued.push(cluster_job(conn, kind, cluster_id, &payload, now)?);
    }
    queued.pop().ok_or_else(|| MarketError::corrupt("no job to queue"))
}

/// A purchase of `count` of the `unsold` shares at `price_per_share`: the buyer's holder
/// record and token opt-in, then the purchase.
pub fn purchase(
    operator: &str,
    price_per_share: u64,
    unsold: u64,
    buyer: &str,
    count: u64,
) -> Result<Vec<PlannedJob>> {
    if count == 0 || count > unsold {
        return Err(MarketError::field(
            "count",
            format!("must be between 1 and the {unsold} shares available"),
        ));
    }
    if count.checked_mul(price_per_share).is_none_or(|paid| paid > TOTAL_SUPPLY) {
        return Err(MarketError::field(
            "count",
            "the price of that many shares exceeds the Algo supply",
        ));
    }
    if buyer == operator {
        return Err(MarketError::field(
            "buyer_address",
            "the operator owns the unsold shares already",
        ));
    }
    let holder = JobParams { holder: Some(buyer.to_owned()), ..JobParams::default() };
    let buy = JobParams { count: Some(count), ..holder.clone() };
    Ok(vec![
        (JobKind::JoinCluster, holder.clone()),
        (JobKind::OptIn, holder),
        (JobKind::BuyShares, buy),
    ])
}

/// Checks a transfer's parties: the recipient is another holder, never the app (whose
/// record holds the unsold shares).
pub fn transfer_parties(from: &Address, to: &Address, app: &Address) -> Result<()> {
    if to == from || to == app {
        return Err(MarketError::field("to_address", "must be another holder"));
    }
    Ok(())
}

/// A transfer of `count` of the `held` shares. With API keys (production) the
/// recipient's record and opt-in are its own transactions — the sender cannot have the
/// server make them and spend the recipient's balance — so the recipient must have
/// joined (`recipient_joined`); in dev mode the server makes them for the dev accounts.
pub fn transfer(
    mode: Mode,
    cluster_id: ClusterId,
    from: &Address,
    to: &Address,
    recipient_joined: bool,
    held: u64,
    count: u64,
) -> Result<Vec<PlannedJob>> {
    if mode == Mode::Production && !recipient_joined {
        return Err(MarketError::field(
            "to_address",
            format!("{to} has not joined cluster {cluster_id}: it must buy shares first"),
        ));
    }
    if count == 0 || count > held {
        return Err(MarketError::field(
            "count",
            format!("must be between 1 and the {held} shares {from} holds"),
        ));
    }
    let recipient = JobParams { holder: Some(to.to_string()), ..JobParams::default() };
    let transfer = JobParams {
        after: Vec::new(),
        holder: Some(from.to_string()),
        to: Some(to.to_string()),
        count: Some(count),
    };
    Ok(match mode {
        Mode::Production => vec![(JobKind::TransferShares, transfer)],
        Mode::Dev => vec![
            (JobKind::JoinCluster, recipient.clone()),
            (JobKind::OptIn, recipient),
            (JobKind::TransferShares, transfer),
        ],
    })
}

/// A claim of what `who` is owed (`due`); the operator claims its unsold shares'
/// revenue.
pub fn claim(
    cluster_id: ClusterId,
    who: &Address,
    unsold: bool,
    due: u64,
) -> Result<Vec<PlannedJob>> {
    if due == 0 {
        return Err(MarketError::Conflict(format!(
            "{who} has nothing to claim from cluster {cluster_id} now"
        )));
    }
    let kind = if unsold { JobKind::ClaimUnsold } else { JobKind::Claim };
    Ok(vec![(kind, JobParams { holder: Some(who.to_string()), ..JobParams::default() })])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(byte: u8) -> Address {
        Address::from_public_key([byte; 32])
    }

    #[test]
    fn a_purchase_joins_opts_in_then_buys_within_the_unsold_shares() {
        let (operator, buyer) = (address(1).to_string(), address(2).to_string());
        let jobs = purchase(&operator, 5, 10, &buyer, 4).unwrap();
        let kinds: Vec<_> = jobs.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(kinds, [JobKind::JoinCluster, JobKind::OptIn, JobKind::BuyShares]);
        assert_eq!(jobs[2].1.count, Some(4));
        assert_eq!(jobs[2].1.holder.as_deref(), Some(buyer.as_str()));
        for count in [0, 11] {
            let err = purchase(&operator, 5, 10, &buyer, count).unwrap_err();
            assert!(err.to_string().contains("between 1 and the 10 shares"), "{err}");
        }
        let err = purchase(&operator, u64::MAX, 10, &buyer, 2).unwrap_err();
        assert!(err.to_string().contains("exceeds the Algo supply"), "{err}");
        assert!(purchase(&operator, 5, 10, &operator, 1).is_err(), "the operator owns them");
    }

    #[test]
    fn a_transfer_needs_a_joined_recipient_with_api_keys_only() {
        let (from, to, app) = (address(1), address(2), address(3));
        assert!(transfer_parties(&from, &from, &app).is_err());
        assert!(transfer_parties(&from, &app, &app).is_err());
        transfer_parties(&from, &to, &app).unwrap();

        let err = transfer(Mode::Production, ClusterId(7), &from, &to, false, 10, 1).unwrap_err();
        assert!(err.to_string().contains("has not joined cluster 7"), "{err}");
        let jobs = transfer(Mode::Production, ClusterId(7), &from, &to, true, 10, 10).unwrap();
        assert_eq!(jobs.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [JobKind::TransferShares]);
        let jobs = transfer(Mode::Dev, ClusterId(7), &from, &to, false, 10, 3).unwrap();
        assert_eq!(
            jobs.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            [JobKind::JoinCluster, JobKind::OptIn, JobKind::TransferShares]
        );
        assert!(transfer(Mode::Dev, ClusterId(7), &from, &to, true, 10, 11).is_err());
        assert!(transfer(Mode::Dev, ClusterId(7), &from, &to, true, 10, 0).is_err());
    }

    #[test]
    fn a_claim_needs_something_due() {
        let who = address(4);
        let id = ClusterId(1);
        assert!(matches!(claim(id, &who, false, 0), Err(MarketError::Conflict(_))));
        assert_eq!(claim(id, &who, false, 9).unwrap()[0].0, JobKind::Claim);
        assert_eq!(claim(id, &who, true, 9).unwrap()[0].0, JobKind::ClaimUnsold);
    }
}
