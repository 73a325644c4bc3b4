//! The BitFox HTTP API: routes, authentication, idempotency, problem+json errors,
//! metrics and the OpenAPI document — HTTP only.
//!
//! [`Application::build`] binds the actix-web server over a store and a chain port and
//! is used both by the `bitfox` binary and by the integration tests, so tests exercise
//! the real wiring (on port 0, with a temporary database).
//!
//! Requests never wait for the chain: rent and stop record intent and a durable job in
//! one transaction (the rules are `bitfox-market`'s) and answer 202; a worker
//! (`bitfox-jobs`, in this process or another) carries the jobs out.

pub mod auth;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod listings;
pub mod metrics;
pub mod routes;
pub mod spec;
pub mod types;

use std::net::{IpAddr, TcpListener};
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServerHandle, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::web::{self, Data, PayloadConfig};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use bitfox_domain::chain::{ChainHandle, ChainPort};
use bitfox_market::Mode;
use bitfox_store::Store;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::extract::BodyLimit;
use crate::metrics::Metrics;

/// HTTP server settings (the `[http]` configuration section).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Address to listen on.
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one.
    pub port: u16,
    /// Largest accepted request body, in bytes.
    pub body_limit_bytes: usize,
    /// Worker threads; defaults to the number of cores.
    pub workers: Option<usize>,
    /// Seconds to let in-flight requests finish on shutdown.
    pub shutdown_timeout_secs: u64,
    /// How often the listing read model catches up with writes made by other processes
    /// on the same database, in milliseconds (writes through this process are in it
    /// before they are answered).
    pub listing_poll_ms: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            body_limit_bytes: 64 * 1024,
            workers: None,
            shutdown_timeout_secs: 10,
            listing_poll_ms: 250,
        }
    }
}

/// State shared by every request handler.
#[derive(Debug)]
pub struct AppState {
    /// `dev` (open) or `production` (API keys required).
    pub mode: Mode,
    /// The HTTP settings the server was built with.
    pub http: HttpSettings,
    /// The database.
    pub store: Store,
    /// Request metrics.
    pub metrics: Metrics,
    /// Every listing, in memory, in the orders `GET /gpus` serves.
    pub listings: Arc<listings::Listings>,
    /// Notified when a job is queued, so the runner starts at once.
    pub wake: Arc<Notify>,
    /// The name of the chain backend.
    pub chain_name: String,
    /// The chain backend (it checks signed groups sent back by wallets).
    pub chain: ChainHandle,
}

/// The document-level part of the OpenAPI description; paths and schemas are collected
/// from the handlers as they are registered.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "BitFox API",
        description = "GPU-rental marketplace settled on Algorand. Amounts are integer microAlgos \
                       (a JSON number with a zero fraction, `1000.0`, is read as the integer). \
                       Errors are RFC 9457 problem+json documents. A documented path asked with \
                       a method it does not have answers 405 with an `Allow` header.",
        license(name = "MIT OR Apache-2.0")
    ),
    tags(
        (name = "gpus", description = "Listings, rent and stop"),
        (name = "rentals", description = "Rentals and their settlement"),
        (name = "clusters", description = "GPU clusters, share tokens, revenue claims and portfolios"),
        (name = "jobs", description = "Background chain work"),
        (name = "system", description = "Health and metrics"),
    ),
    components(schemas(
        error::Problem,
        error::FieldError,
        spec::AlgorandAddress,
        spec::DisplayName,
        spec::RegionName,
        spec::SignedTransaction,
        spec::GpuCursor,
        spec::RentalCursor,
        spec::IdempotencyKey,
        spec::GpuSort,
        spec::GpuStatusFilter,
        spec::GpuStatusName,
        spec::RentalStatusName,
        spec::JobStateName,
        spec::JobKindName,
        spec::ClusterStatusName,
    )),
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
        .service(gpus::announce_retirement)
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

/// The OpenAPI document served at `/openapi.json`: derived from the handlers as they are
/// registered, then finished by [`spec::finish`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(register)
        .split_for_parts()
        .1;
    spec::finish(&mut doc);
    doc
}

/// Answers what no route took: 405 with `Allow` for a documented path asked with another
/// method, 404 otherwise.
async fn unrouted(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let allowed = req.app_data::<Data<spec::MethodTable>>().and_then(|t| t.allowed(req.path()));
    match allowed {
        Some(methods) => Err(ApiError::MethodNotAllowed {
            method: req.method().to_string(),
            allow: methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "),
        }),
        None => Err(ApiError::NotFound(format!("no route for {} {}", req.method(), req.path()))),
    }
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

/// The API server, bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    store: Store,
    listings: Arc<listings::Listings>,
    poll: std::time::Duration,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and prepares the server over
    /// `store`, reading the chain through `chain`; `wake` is notified whenever a request
    /// queues a job (a worker in this process listens to it). Nothing runs until
    /// [`Application::run`].
    pub fn build(
        mode: Mode,
        http: HttpSettings,
        store: Store,
        chain: Arc<dyn ChainPort>,
        wake: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((http.host, http.port))?;
        let port = listener.local_addr()?.port();
        let listings = listings::Listings::load(&store)?;
        let poll = std::time::Duration::from_millis(http.listing_poll_ms);
        let state = Data::new(AppState {
            mode,
            http: http.clone(),
            store: store.clone(),
            metrics: Metrics::default(),
            listings: listings.clone(),
            wake,
            chain_name: chain.name().to_owned(),
            chain: ChainHandle(chain),
        });
        let limit = http.body_limit_bytes;
        let doc = openapi();
        let methods = Data::new(spec::MethodTable::new(&doc));
        let mut server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .openapi(ApiDoc::openapi())
                .app_data(state.clone())
                .app_data(methods.clone())
                .app_data(PayloadConfig::new(limit))
                .app_data(BodyLimit(limit))
                .configure(register)
                .split_for_parts();
            app.service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc.clone()))
                .default_service(web::to(unrouted))
                .wrap(from_fn(observe))
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(http.shutdown_timeout_secs);
        if let Some(workers) = http.workers {
            server = server.workers(workers.max(1));
        }
        Ok(Self { port, server: server.run(), store, listings, poll })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until `shutdown` fires, then stops accepting and lets in-flight requests
    /// finish (up to the shutdown timeout). Meanwhile the listing read model follows
    /// writes made by other processes.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let follow = tokio::spawn(self.listings.follow(self.store, self.poll, shutdown.clone()));
        let handle: ServerHandle = self.server.handle();
        let stopper = tokio::spawn(async move {
            shutdown.cancelled().await;
            handle.stop(true).await;
        });
        let result = self.server.await;
        stopper.abort();
        follow.abort();
        Ok(result?)
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
