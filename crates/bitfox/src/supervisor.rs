//! One supervisor for a process's long-running tasks (the API server, the job runner,
//! the keeper, the watcher, the devnet, WAL checkpointing).
//!
//! Every task is started through [`Supervisor::spawn`]. The first task that fails —
//! returns an error, panics, or returns at all before shutdown was asked for — cancels
//! the shared token, so every other task stops, and [`Supervisor::wait`] returns that
//! task's error, naming it. A process is never left half-alive with a dead runner
//! behind a live API. Tasks only one process on a database may run (the keeper, the
//! watchers) run under [`led`].

use std::collections::HashMap;
use std::future::Future;

use anyhow::anyhow;
use bitfox_store::Store;
use tokio::task::{Id, JoinSet};
use tokio_util::sync::CancellationToken;

/// Runs named tasks until shutdown or the first failure.
#[derive(Debug)]
pub struct Supervisor {
    shutdown: CancellationToken,
    tasks: JoinSet<anyhow::Result<()>>,
    names: HashMap<Id, String>,
}

impl Supervisor {
    /// A supervisor whose tasks stop when `shutdown` fires (and which fires it when a
    /// task fails).
    pub fn new(shutdown: CancellationToken) -> Self {
        Self { shutdown, tasks: JoinSet::new(), names: HashMap::new() }
    }

    /// The token every task must stop on.
    pub fn shutdown(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Starts `task` under `name`.
    pub fn spawn<F>(&mut self, name: impl Into<String>, task: F)
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let handle = self.tasks.spawn(task);
        self.names.insert(handle.id(), name.into());
    }

    /// Waits for every task. Returns the first failure (the others were stopped because
    /// of it), or `Ok` when all ended after shutdown was asked for.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut first: Option<anyhow::Error> = None;
        while let Some(joined) = self.tasks.join_next_with_id().await {
            let (id, result) = match joined {
                Ok((id, result)) => (id, result),
                Err(e) => {
                    let cause = if e.is_panic() { "panicked" } else { "was aborted" };
                    (e.id(), Err(anyhow!("{cause}")))
                }
            };
            let name = self.names.get(&id).map_or("task", String::as_str);
            let failure = match result {
                Err(e) => Some(e.context(format!("{name} failed"))),
                Ok(()) if !self.shutdown.is_cancelled() => {
                    Some(anyhow!("{name} stopped before shutdown was asked for"))
                }
                Ok(()) => None,
            };
            if let Some(e) = failure {
                tracing::error!(task = name, error = format!("{e:#}"), "stopping the process");
                self.shutdown.cancel();
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// How often a role's lead is checked, and how often a process without it asks again.
const LEAD_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Runs the task `make` builds only while this process leads `role` on `store`'s
/// database ([`Store::lead`]): waits for the lead, runs the task, and if the lead is
/// lost stops the task and waits to win it again. So among several workers on one
/// PostgreSQL database exactly one runs the keeper (and each watcher), and another takes
/// over within a few seconds when that worker dies. On SQLite the lead is always
/// granted and the task simply runs. Returns when the task does (its result), or `Ok`
/// once `shutdown` fires. A leader cut off from the database notices within
/// [`LEAD_CHECK`], so for at most that long a new leader and the old one may both run;
/// the keeper's and the watchers' writes are idempotent (jobs are queued once per
/// rental, events recorded once), so the overlap changes nothing.
pub async fn led<F, Fut>(
    store: Store,
    role: String,
    shutdown: CancellationToken,
    mut make: F,
) -> anyhow::Result<()>
where
    F: FnMut(CancellationToken) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    loop {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        let (asking, name) = (store.clone(), role.clone());
        let won = tokio::task::spawn_blocking(move || asking.lead(&name)).await?;
        let mut leader = match won {
            Ok(Some(leader)) => leader,
            Ok(None) => {
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(LEAD_CHECK) => continue,
                }
            }
            Err(e) => {
                tracing::error!(role, error = %e, "cannot ask for the lead; retrying");
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(LEAD_CHECK) => continue,
                }
            }
        };
        if store.shared() {
            tracing::info!(role, "this process leads");
        }
        let token = shutdown.child_token();
        let mut task = tokio::spawn(make(token.clone()));
        loop {
            tokio::select! {
                done = &mut task => return done?,
                () = tokio::time::sleep(LEAD_CHECK) => {
                    let (holds, back) = tokio::task::spawn_blocking(move || {
                        let holds = leader.holds();
                        (holds, leader)
                    })
                    .await?;
                    leader = back;
                    if !holds {
                        tracing::warn!(role, "lost the lead (its database connection failed): stopping until it is won again");
                        token.cancel();
                        let _ = task.await;
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn until(token: CancellationToken) -> anyhow::Result<()> {
        token.cancelled().await;
        Ok(())
    }

    #[tokio::test]
    async fn a_failing_task_stops_the_others_and_is_named() {
        let shutdown = CancellationToken::new();
        let mut supervisor = Supervisor::new(shutdown.clone());
        supervisor.spawn("server", until(shutdown.clone()));
        supervisor.spawn("runner", async { Err(anyhow!("database gone")) });
        let err = supervisor.wait().await.unwrap_err();
        assert_eq!(format!("{err:#}"), "runner failed: database gone");
        assert!(shutdown.is_cancelled());
    }

    #[tokio::test]
    async fn a_panicking_task_stops_the_process() {
        let shutdown = CancellationToken::new();
        let mut supervisor = Supervisor::new(shutdown.clone());
        supervisor.spawn("server", until(shutdown.clone()));
        supervisor.spawn("keeper", async { panic!("bug") });
        let err = supervisor.wait().await.unwrap_err();
        assert_eq!(format!("{err:#}"), "keeper failed: panicked");
    }

    #[tokio::test]
    async fn a_task_ending_early_is_a_failure_and_shutdown_is_not() {
        let shutdown = CancellationToken::new();
        let mut supervisor = Supervisor::new(shutdown.clone());
        supervisor.spawn("watcher", async { Ok(()) });
        let err = supervisor.wait().await.unwrap_err();
        assert!(err.to_string().contains("watcher stopped before shutdown"), "{err}");

        let shutdown = CancellationToken::new();
        let mut supervisor = Supervisor::new(shutdown.clone());
        supervisor.spawn("server", until(shutdown.clone()));
        supervisor.spawn("runner", until(shutdown.clone()));
        shutdown.cancel();
        supervisor.wait().await.unwrap();
    }
}
