//! The background work of every tenant: each tenant known to the registry
//! gets its own campaign dispatcher, scheduled-call task and outbox delivery,
//! running with its view of the application (so every key they touch is the
//! tenant's). Each looks only at its tenant's own index keys (live campaigns,
//! scheduled calls, outbox), never scans keys. The registry is read again
//! from Redis every [`REFRESH`]; a new tenant's tasks start then, a deleted
//! tenant's stop, and a changed tenant's are restarted with its new view.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::warn;

use super::registry::Tenants;
use crate::app::AppState;

/// How often this instance reads every tenant again.
pub const REFRESH: Duration = Duration::from_secs(5);

struct Running {
    app: Arc<AppState>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Runs until `stop` fires, then stops every tenant's tasks and waits for
/// them (the dispatchers finish the dials they started). With `dispatch`
/// off it only keeps the registry fresh.
pub async fn supervise(tenants: Arc<Tenants>, dispatch: bool, mut stop: watch::Receiver<bool>) {
    let mut running: HashMap<String, Running> = HashMap::new();
    let mut draining = JoinSet::new();
    loop {
        if dispatch {
            sync(&tenants, &mut running, &mut draining);
        }
        while draining.try_join_next().is_some() {}
        tokio::select! {
            _ = tokio::time::sleep(REFRESH) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        if let Err(e) = tenants.refresh().await {
            warn!(error = %e, "tenants could not be read again; keeping this instance's copy");
        }
    }
    for (_, r) in running.drain() {
        let _ = r.stop.send(true);
        for t in r.tasks {
            let _ = t.await;
        }
    }
    while draining.join_next().await.is_some() {}
}

/// Starts, restarts and stops tenants' tasks to match the registry.
fn sync(tenants: &Tenants, running: &mut HashMap<String, Running>, draining: &mut JoinSet<()>) {
    let current = tenants.all();
    let mut stop_one = |r: Running| {
        let _ = r.stop.send(true);
        // Another instance may run the same tenant's dispatcher at the same
        // time: that is safe (claims are leased in Redis), so the old tasks
        // finish their dials in the background while the new ones start.
        draining.spawn(async move {
            for t in r.tasks {
                let _ = t.await;
            }
        });
    };
    let gone: Vec<String> = running
        .keys()
        .filter(|id| !current.iter().any(|v| v.tenant.id == **id))
        .cloned()
        .collect();
    for id in gone {
        if let Some(r) = running.remove(&id) {
            stop_one(r);
        }
    }
    for view in current {
        if let Some(r) = running.get(&view.tenant.id) {
            if Arc::ptr_eq(&r.app, &view.app) {
                continue;
            }
        }
        if let Some(old) = running.remove(&view.tenant.id) {
            stop_one(old);
        }
        running.insert(view.tenant.id.clone(), start(view.app.clone()));
    }
}

fn start(app: Arc<AppState>) -> Running {
    let (stop, stopped) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(crate::campaign::dispatcher::run(
            app.clone(),
            stopped.clone(),
        )),
        tokio::spawn(crate::app::single::run_scheduled(
            app.clone(),
            stopped.clone(),
        )),
        tokio::spawn(crate::app::effects::run_reaper(
            app.clone(),
            stopped.clone(),
        )),
        tokio::spawn(crate::outbox::deliver_loop(app.clone(), stopped)),
    ];
    Running { app, stop, tasks }
}
