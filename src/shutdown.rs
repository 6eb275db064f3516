//! Stopping `serve` in order on SIGTERM or SIGINT, within `SHUTDOWN_GRACE_SECS`:
//!
//! 1. at once: `/ready` answers 503 and the dispatcher stops claiming; contacts
//!    it claimed but had not dialed are released (due now, lease dropped), so
//!    another instance dials them without waiting for the lease;
//! 2. dials already sent to Twilio are seen through and recorded, while the
//!    listener stays open for a short notice period (a quarter of the grace,
//!    at most 5 s) so a balancer polling `/ready` stops sending first;
//! 3. the listener closes and requests in flight finish (actix's graceful stop);
//! 4. whatever is still running when the grace ends is abandoned: leases and
//!    reconciliation cover it, as after a crash.

use std::time::Duration;

use futures_util::future::join_all;
use tokio::time::{sleep, timeout_at, Instant};
use tracing::{info, warn};

use crate::startup::Application;

/// The longest the listener stays open after the signal before closing.
const MAX_NOTICE: Duration = Duration::from_secs(5);

/// Runs the server until it stops or a signal arrives, then stops it in order.
pub async fn serve_until_signal(app: Application, grace: Duration) -> std::io::Result<()> {
    let handle = app.server.handle();
    let mut server = tokio::spawn(app.server);
    let signal = tokio::select! {
        ended = &mut server => return ended.unwrap_or_else(|e| Err(std::io::Error::other(e))),
        signal = signal() => signal?,
    };
    let deadline = Instant::now() + grace;
    info!(
        signal,
        grace_secs = grace.as_secs(),
        "shutting down: not ready, no new dials, finishing dials and requests under way"
    );
    let _ = app.stop.send(true);
    let notice = sleep((grace / 4).min(MAX_NOTICE));
    let (drained, ()) = tokio::join!(timeout_at(deadline, join_all(app.tasks)), notice);
    if drained.is_err() {
        warn!("shutdown grace ended before the dials under way finished; their leases cover them");
    }
    let stopped = async {
        handle.stop(true).await;
        let _ = server.await;
    };
    if timeout_at(deadline, stopped).await.is_err() {
        warn!("shutdown grace ended with requests still in flight");
    }
    info!("stopped");
    Ok(())
}

/// Waits for SIGTERM or SIGINT (Ctrl-C) and names it.
async fn signal() -> std::io::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        })
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok("Ctrl-C")
    }
}
