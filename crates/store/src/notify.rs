//! Wake-ups across processes: PostgreSQL's `LISTEN`/`NOTIFY`.
//!
//! A trigger notifies a channel when something other processes wait for is committed
//! ([`JOBS_CHANNEL`]: a job became claimable or ended). [`Store::notify_on`] keeps one
//! connection listening and turns each notification into a [`Notify`] wake-up, so a
//! worker claims a job queued by an API process at once rather than at its next poll.
//! Polling stays as the fallback: a notification lost while the connection was being
//! re-established costs at most one poll interval (and a reconnect wakes once anyway),
//! and a job whose `run_after` merely arrives (a backoff ending) notifies no one: the
//! poll picks it up.
//!
//! diesel reads notifications without blocking (it does not expose the socket to wait
//! on), so the listener checks its connection every [`CHECK_EVERY`]: a non-blocking
//! read of the socket, no query and no round trip.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use tokio::sync::Notify;

use crate::{DatabaseUrl, Store};

/// Notified when a job becomes claimable or ends (migration `job_wakeups`).
pub const JOBS_CHANNEL: &str = "bitfox_jobs";

/// How often the listening connection is checked for notifications.
const CHECK_EVERY: Duration = Duration::from_millis(5);
/// How often the listening connection is proven alive with a query.
const PING_EVERY: Duration = Duration::from_secs(10);
/// The first and the longest wait between attempts to reconnect.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long a connection must have stayed up for the backoff to start over.
const HEALTHY_AFTER: Duration = Duration::from_secs(30);

impl Store {
    /// Until `stop` resolves, notifies `wake` whenever channel `channel` is notified on
    /// this store's PostgreSQL database, by any process. On SQLite it returns at once:
    /// every writer is in this process, which wakes its own waiters.
    pub async fn notify_on(
        &self,
        channel: &'static str,
        wake: Arc<Notify>,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let DatabaseUrl::Postgres(url) = &self.url else { return };
        let stopped = Arc::new(AtomicBool::new(false));
        let (url, flag, label) = (url.clone(), stopped.clone(), self.url.redacted());
        let listener = tokio::task::spawn_blocking(move || {
            listen(&url, &label, channel, &wake, &flag);
        });
        stop.await;
        stopped.store(true, Ordering::Relaxed);
        let _ = listener.await;
    }
}

/// Listens on `channel` until `stopped`, reconnecting with backoff when the connection
/// fails (the backoff starts over only after a connection stayed up for a while, so a
/// server that accepts and drops connections is not hammered).
fn listen(url: &str, label: &str, channel: &str, wake: &Notify, stopped: &AtomicBool) {
    let url = listener_url(url);
    let mut backoff = MIN_BACKOFF;
    while !stopped.load(Ordering::Relaxed) {
        let connected =
            PgConnection::establish(&url).map_err(|e| e.to_string()).and_then(|mut conn| {
                conn.batch_execute(&format!("LISTEN {channel}")).map_err(|e| e.to_string())?;
                Ok(conn)
            });
        let failure = match connected {
            Ok(mut conn) => {
                tracing::debug!(channel, database = label, "listening");
                // Whatever was committed while no one listened.
                wake.notify_one();
                let since = Instant::now();
                let failure = forward(&mut conn, wake, stopped);
                if since.elapsed() >= HEALTHY_AFTER {
                    backoff = MIN_BACKOFF;
                }
                failure
            }
            Err(e) => e,
        };
        if stopped.load(Ordering::Relaxed) {
            break;
        }
        tracing::warn!(channel, database = label, error = %failure, "listening for wake-ups failed; retrying");
        pause(backoff, stopped);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Sleeps `how_long`, in short slices, returning early once `stopped`.
fn pause(how_long: Duration, stopped: &AtomicBool) {
    let until = Instant::now() + how_long;
    while !stopped.load(Ordering::Relaxed) && Instant::now() < until {
        std::thread::sleep(CHECK_EVERY.max(Duration::from_millis(20)));
    }
}

/// `url` with a connect timeout and TCP keepalives, where it does not set them: the
/// listener must neither hang on a server that does not answer (libpq waits
/// indefinitely by default) nor sit on a connection that died silently.
fn listener_url(url: &str) -> String {
    let mut out = url.to_owned();
    for (key, value) in [
        ("connect_timeout", "5"),
        ("keepalives_idle", "10"),
        ("keepalives_interval", "5"),
        ("keepalives_count", "3"),
    ] {
        if !url.contains(&format!("{key}=")) {
            let separator = if out.contains('?') { '&' } else { '?' };
            out = format!("{out}{separator}{key}={value}");
        }
    }
    out
}

/// Turns the notifications arriving on `conn` into wake-ups until `stopped` (`""`) or
/// the connection fails (its error).
fn forward(conn: &mut PgConnection, wake: &Notify, stopped: &AtomicBool) -> String {
    let mut pinged = Instant::now();
    while !stopped.load(Ordering::Relaxed) {
        let mut woken = false;
        for notification in conn.notifications_iter() {
            match notification {
                Ok(_) => woken = true,
                Err(e) => return e.to_string(),
            }
        }
        if woken {
            wake.notify_one();
        }
        if pinged.elapsed() >= PING_EVERY {
            if let Err(e) = conn.batch_execute("SELECT 1") {
                return e.to_string();
            }
            pinged = Instant::now();
        }
        std::thread::sleep(CHECK_EVERY);
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::listener_url;

    #[test]
    fn the_listener_url_gains_timeouts_it_does_not_set() {
        assert_eq!(
            listener_url("postgres://u@h/db"),
            "postgres://u@h/db?connect_timeout=5&keepalives_idle=10&keepalives_interval=5\
             &keepalives_count=3"
        );
        assert_eq!(
            listener_url("postgres://u@h/db?sslmode=disable&connect_timeout=1"),
            "postgres://u@h/db?sslmode=disable&connect_timeout=1&keepalives_idle=10\
             &keepalives_interval=5&keepalives_count=3"
        );
    }
}
