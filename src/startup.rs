//! Builds the application: store, flows, services and the HTTP server.
//! Tests and the demo start it on port 0 and read the port back. Signals are
//! not the server's business: `serve` stops it in order (see `shutdown`).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};

use crate::app::AppState;
use crate::config::Settings;
use crate::flow::{FlowError, FlowRegistry};
use crate::http;
use crate::store::{Store, StoreError};
use crate::tenant::Tenants;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("flow {0}")]
    Flow(#[from] FlowError),
    #[error("configuration: DEFAULT_FLOW: flow '{0}' does not exist in FLOWS_DIR")]
    DefaultFlow(String),
    #[error("cannot reach Redis: {0}")]
    Store(#[from] StoreError),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error("compliance data: {0}")]
    ComplianceData(#[from] crate::compliance::DataError),
    #[error("flow {0}: follow_up_sms: template '{1}' does not exist in FLOWS_DIR/sms")]
    FollowUp(String, String),
    #[error("text template {0}")]
    Templates(#[from] crate::messaging::TemplateError),
    #[error("{0}")]
    Tenants(#[from] crate::tenant::bootstrap::BootstrapError),
}

pub struct Application {
    pub port: u16,
    pub server: Server,
    /// The configured tenant's application (`TENANT_ID`).
    pub service: Arc<AppState>,
    /// Every tenant and its view of the application.
    pub tenants: Arc<Tenants>,
    /// Stops the background tasks (dispatcher, webhook delivery) when set or
    /// dropped; once set, `/ready` answers 503.
    pub stop: tokio::sync::watch::Sender<bool>,
    /// The background tasks, done once they have stopped (the dispatcher after
    /// the dials it had started).
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Loads and checks every flow; the server refuses to start with an invalid one.
pub fn load_flows(settings: &Settings) -> Result<FlowRegistry, StartupError> {
    let flows = FlowRegistry::load_dir(&settings.flows_dir)?;
    if flows.current(&settings.default_flow).is_none() {
        return Err(StartupError::DefaultFlow(settings.default_flow.clone()));
    }
    Ok(flows)
}

impl Application {
    /// Builds the server on `listener`; run it with `tokio::spawn(app.server)` or `.await`.
    pub async fn build(
        settings: Settings,
        redis_url: &str,
        listener: TcpListener,
    ) -> Result<Application, StartupError> {
        crate::compliance::check_data()?;
        // Before the store opens: its connections keep handles on the recorder.
        crate::observe::install();
        let flows = load_flows(&settings)?;
        let templates = crate::messaging::Templates::load_dir(&settings.flows_dir.join("sms"))?;
        for flow in flows.ids().iter().filter_map(|id| flows.current(id)) {
            if let Some(id) = flow.follow_up_sms.as_deref() {
                if templates.get(id).is_none() {
                    return Err(StartupError::FollowUp(flow.id.clone(), id.to_string()));
                }
            }
        }
        let store = Store::connect(redis_url, &settings.tenant).await?;
        store.ping().await?;
        let listeners: Vec<Arc<dyn crate::app::CallListener>> = vec![
            Arc::new(crate::campaign::settle::CampaignListener),
            Arc::new(crate::sms::follow_up::FollowUpListener),
        ];
        let root = AppState::new(settings, store, flows, templates, Some(Arc::new(listeners)));
        // Inbound call events: logged, and their texts and the tenant's
        // events queued (never in the webhook's reply path).
        root.inbound_listeners
            .add(Arc::new(crate::app::inbound::LogListener));
        root.inbound_listeners
            .add(Arc::new(crate::sms::inbound_calls::InboundCallOutcomes));
        let tenants = Arc::new(Tenants::new(root.clone()));
        crate::tenant::bootstrap::run(&tenants).await?;
        let service = tenants
            .get(&root.settings.tenant)
            .map_or(root, |view| view.app.clone());
        let port = listener.local_addr()?.port();
        let data = web::Data::from(service.clone());
        let tenants_data = web::Data::from(tenants.clone());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let lifecycle = web::Data::new(http::Lifecycle(stopped.clone()));
        let grace = service.settings.shutdown_grace.as_secs();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(tenants_data.clone())
                .app_data(lifecycle.clone())
                .configure(http::routes)
                .default_service(web::to(http::not_found))
                .wrap(actix_web::middleware::from_fn(http::tag_request))
        })
        .disable_signals()
        .shutdown_timeout(grace)
        .listen(listener)?
        .run();
        let tasks = vec![tokio::spawn(crate::tenant::tasks::supervise(
            tenants.clone(),
            service.settings.dispatcher,
            stopped,
        ))];
        Ok(Application {
            port,
            server,
            service,
            tenants,
            stop,
            tasks,
        })
    }
}
