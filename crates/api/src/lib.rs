//! The BitFox HTTP API.
//!
//! [`Application::build`] wires everything — settings, the store, the job runner and
//! the actix-web server — and is used both by the `bitfox` binary and by the
//! integration tests, so tests exercise the real wiring (on port 0, with a temporary
//! database).
//!
//! Requests never wait for the chain: rent and stop record intent and a durable job in
//! one transaction and answer 202; the [`runner::JobRunner`] carries jobs out through a
//! [`bitfox_domain::chain::ChainPort`].

pub mod auth;
pub mod cache;
pub mod config;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod keeper;
pub mod metrics;
pub mod routes;
pub mod runner;
pub mod service;
pub mod types;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::web::{self, Data, PayloadConfig};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use bitfox_domain::chain::ChainPort;
use bitfox_store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Settings;
use crate::error::ApiError;
use crate::extract::BodyLimit;
use crate::keeper::Keeper;
use crate::metrics::Metrics;
use crate::runner::JobRunner;

/// How often the database's write-ahead log is checkpointed (off the request path).
const CHECKPOINT_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// State shared by every request handler.
#[derive(Debug)]
pub struct AppState {
    /// The settings the server was built with.
    pub settings: Settings,
    /// The database.
    pub store: Store,
    /// Request metrics.
    pub metrics: Metrics,
    /// Rendered `GET /gpus` pages.
    pub pages: cache::PageCache,
    /// Notified when a job is queued, so the runner starts at once.
    pub wake: Arc<Notify>,
    /// The name of the chain backend.
    pub chain_name: String,
    /// The chain backend (it checks signed groups sent back by wallets).
    pub chain: ChainHandle,
}

/// The chain port, shown by name in debug output.
#[derive(Clone)]
pub struct ChainHandle(pub Arc<dyn ChainPort>);

impl std::fmt::Debug for ChainHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

impl std::ops::Deref for ChainHandle {
    type Target = dyn ChainPort;

    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// The document-level part of the OpenAPI description; paths and schemas are collected
/// from the handlers as they are registered.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "BitFox API",
        description = "GPU-rental marketplace settled on Algorand. Amounts are integer microAlgos. \
                       Errors are RFC 9457 problem+json documents.",
        license(name = "MIT OR Apache-2.0")
    ),
    tags(
        (name = "gpus", description = "Listings, rent and stop"),
        (name = "rentals", description = "Rentals and their settlement"),
        (name = "jobs", description = "Background chain work"),
        (name = "system", description = "Health and metrics"),
    ),
    components(schemas(error::Problem, error::FieldError)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A BitFox API key (`bfx_...`) bound to an Algorand address. Required on \
                         mutating routes in production mode.",
                    ))
                    .build(),
            ),
        );
    }
}

fn register(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    use routes::{clusters, gpus, jobs, rentals, system};
    cfg.service(gpus::create_gpu)
        .service(gpus::list_gpus)
        .service(gpus::get_gpu)
        .service(gpus::update_gpu)
        .service(gpus::delete_gpu)
        .service(gpus::heartbeat)
        .service(jobs::sign_job)
        .service(clusters::create_cluster)
        .service(clusters::list_clusters)
        .service(clusters::get_cluster)
        .service(clusters::list_holders)
        .service(clusters::attach_gpu)
        .service(clusters::buy_shares)
        .service(clusters::transfer_shares)
        .service(clusters::claim)
        .service(clusters::portfolio)
        .service(gpus::rent_gpu)
        .service(gpus::stop_gpu)
        .service(rentals::list_rentals)
        .service(rentals::get_rental)
        .service(jobs::get_job)
        .service(system::health)
        .service(system::metrics);
}

/// The OpenAPI document served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(register).split_for_parts().1
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("no route for {} {}", req.method(), req.path())))
}

async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let state = req.app_data::<Data<AppState>>().cloned();
    let method = req.method().to_string();
    let response = next.call(req).await?;
    if let Some(state) = state {
        let route = response.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        state.metrics.observe(&method, &route, response.status().as_u16(), start.elapsed());
    }
    Ok(response)
}

/// A running server and job runner.
pub struct Application {
    port: u16,
    server: Server,
    runner: Option<JobRunner>,
    keeper: Option<Keeper>,
    state: Data<AppState>,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and prepares the server and, if
    /// enabled, the job runner. Nothing runs until [`Application::run`].
    pub fn build(
        settings: Settings,
        store: Store,
        chain: Arc<dyn ChainPort>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((settings.http.host, settings.http.port))?;
        let port = listener.local_addr()?.port();
        let wake = Arc::new(Notify::new());
        let state = Data::new(AppState {
            settings: settings.clone(),
            store: store.clone(),
            metrics: Metrics::default(),
            pages: cache::PageCache::new(std::time::Duration::from_millis(
                settings.http.list_cache_ttl_ms,
            )),
            wake: wake.clone(),
            chain_name: chain.name().to_owned(),
            chain: ChainHandle(chain.clone()),
        });
        let limit = settings.http.body_limit_bytes;
        let app_state = state.clone();
        let mut server = HttpServer::new(move || {
            let (app, api) = App::new()
                .into_utoipa_app()
                .openapi(ApiDoc::openapi())
                .app_data(app_state.clone())
                .app_data(PayloadConfig::new(limit))
                .app_data(BodyLimit(limit))
                .configure(register)
                .split_for_parts();
            app.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api))
                .default_service(web::to(not_found))
                .wrap(from_fn(observe))
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(settings.http.shutdown_timeout_secs);
        if let Some(workers) = settings.http.workers {
            server = server.workers(workers.max(1));
        }
        let keeper = settings.jobs.enabled.then(|| {
            Keeper::new(store.clone(), chain.clone(), settings.jobs.clone(), wake.clone())
        });
        let runner = settings
            .jobs
            .enabled
            .then(|| JobRunner::new(store, chain, settings.jobs.clone(), wake));
        Ok(Self { port, server: server.run(), runner, keeper, state })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` fires, then stops accepting, lets in-flight requests
    /// finish (up to the shutdown timeout) and stops the job runner cleanly. If the
    /// server or the runner dies on its own, the other is stopped too and the error is
    /// returned.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let handle: ServerHandle = self.server.handle();
        let tracker = TaskTracker::new();
        let server = tracker.spawn(self.server);
        let runner = self.runner.map(|r| tracker.spawn(r.run(shutdown.child_token())));
        if let Some(keeper) = self.keeper {
            tracker.spawn(keeper.run(shutdown.child_token()));
        }
        let store = self.state.store.clone();
        let stop = shutdown.child_token();
        tracker.spawn(async move {
            store.checkpoint_every(CHECKPOINT_PERIOD, stop.cancelled_owned()).await
        });
        tracker.close();
        let stopper = {
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                shutdown.cancelled().await;
                handle.stop(true).await;
            })
        };
        let server_result = server.await;
        // The server ended (shutdown or failure): stop the runner too.
        shutdown.cancel();
        let runner_result = match runner {
            Some(r) => r.await.map_err(anyhow::Error::from).and_then(|r| r),
            None => Ok(()),
        };
        stopper.abort();
        tracker.wait().await;
        server_result??;
        runner_result
    }
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
