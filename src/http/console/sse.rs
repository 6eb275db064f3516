//! Server-sent events (`text/event-stream`) for the console's live parts.
//! A stream renders its fragment every tick and sends it when it changed
//! (`event: update`, the HTML on `data:` lines), else a heartbeat comment
//! every [`HEARTBEAT`]. Every stream is bounded: it ends after
//! [`MAX_LIFETIME`] (the browser's `EventSource` reconnects by itself) or
//! when the server begins to shut down, and one session holds at most
//! [`MAX_PER_SESSION`] at once on an instance.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use tokio::sync::watch;
use tokio::time::Instant;

use super::ConsoleError;
use crate::http::Lifecycle;

/// A comment line at least this often, so proxies keep the connection.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// A stream ends after this long; the browser reconnects.
pub const MAX_LIFETIME: Duration = Duration::from_secs(300);
/// Streams one session may hold open at once (per instance).
pub const MAX_PER_SESSION: usize = 4;
/// How long the browser waits before reconnecting (ms).
const RETRY_MS: u64 = 2_000;

/// Open streams by session id.
static OPEN: LazyLock<Mutex<HashMap<String, usize>>> = LazyLock::new(Default::default);

/// One open stream of a session; dropping it (the stream ended or the
/// browser went away) frees its place.
pub struct Slot {
    session: String,
}

impl Slot {
    pub fn claim(session: &str) -> Result<Slot, ConsoleError> {
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(session.to_string()).or_default();
        if *n >= MAX_PER_SESSION {
            return Err(ConsoleError::TooManyStreams);
        }
        *n += 1;
        Ok(Slot {
            session: session.to_string(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = OPEN.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.session) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.session);
            }
        }
    }
}

/// One `update` event carrying `html` (each line its own `data:` line).
pub fn event(html: &str) -> String {
    let mut out = String::from("event: update\n");
    for line in html.lines() {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

struct State<F> {
    _slot: Slot,
    render: F,
    every: Duration,
    stopping: Option<watch::Receiver<bool>>,
    started: Instant,
    last_write: Instant,
    last_sent: Option<String>,
    first: bool,
    rendered: bool,
}

/// The response: an event stream that calls `render` every `every`.
pub fn stream<F, Fut>(req: &HttpRequest, slot: Slot, every: Duration, render: F) -> HttpResponse
where
    F: FnMut() -> Fut + 'static,
    Fut: Future<Output = Result<String, ConsoleError>> + 'static,
{
    let now = Instant::now();
    let state = State {
        _slot: slot,
        render,
        every,
        stopping: req.app_data::<web::Data<Lifecycle>>().map(|l| l.0.clone()),
        started: now,
        last_write: now,
        last_sent: None,
        first: true,
        rendered: false,
    };
    let body = futures_util::stream::unfold(state, |mut s| async move {
        let chunk = next_chunk(&mut s).await?;
        Some((
            Ok::<_, std::convert::Infallible>(web::Bytes::from(chunk)),
            s,
        ))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
}

/// What to write next; `None` ends the stream.
async fn next_chunk<F, Fut>(s: &mut State<F>) -> Option<String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<String, ConsoleError>>,
{
    if s.first {
        s.first = false;
        s.last_write = Instant::now();
        return Some(format!("retry: {RETRY_MS}\n\n"));
    }
    loop {
        if s.started.elapsed() >= MAX_LIFETIME || s.stopping.as_ref().is_some_and(|r| *r.borrow()) {
            return None;
        }
        if s.rendered {
            tokio::time::sleep(s.every).await;
        }
        s.rendered = true;
        let chunk = match (s.render)().await {
            Ok(html) if s.last_sent.as_ref() != Some(&html) => {
                let chunk = event(&html);
                s.last_sent = Some(html);
                Some(chunk)
            }
            Ok(_) => None,
            // Gone (e.g. past retention) or lost the session: stop; the page says why on reload.
            Err(ConsoleError::NotFound | ConsoleError::LoggedOut) => return None,
            Err(_) => Some(": storage unavailable, retrying\n\n".to_string()),
        };
        let chunk = chunk.or_else(|| {
            (s.last_write.elapsed() >= HEARTBEAT).then(|| ": heartbeat\n\n".to_string())
        });
        if let Some(chunk) = chunk {
            s.last_write = Instant::now();
            return Some(chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_puts_each_line_on_its_own_data_line() {
        assert_eq!(
            event("<p>a</p>\n<p>b</p>"),
            "event: update\ndata: <p>a</p>\ndata: <p>b</p>\n\n"
        );
    }

    #[test]
    fn a_session_holds_a_bounded_number_of_streams() {
        let slots: Vec<Slot> = (0..MAX_PER_SESSION)
            .map(|_| Slot::claim("s-test").unwrap())
            .collect();
        assert!(matches!(
            Slot::claim("s-test"),
            Err(ConsoleError::TooManyStreams)
        ));
        assert!(Slot::claim("other-session").is_ok());
        drop(slots);
        assert!(Slot::claim("s-test").is_ok());
    }
}
