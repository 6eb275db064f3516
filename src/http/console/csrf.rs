//! Cross-site request forgery: a state-changing console request must carry
//! this session's CSRF token (form field `csrf` or header `X-CSRF-Token`) AND
//! come from this site, told by its `Origin` header (or, when a browser sends
//! none, its `Referer`): the origin of `PUBLIC_BASE_URL`, or the origin of
//! the `Host` the request was sent to. A request with neither header is
//! refused. The login form (no session yet) gets the origin check alone.

use actix_web::http::header;
use actix_web::HttpRequest;
use subtle::ConstantTimeEq;

use super::ConsoleError;
use crate::app::AppState;

/// The header a script may send the token in.
pub const HEADER: &str = "X-CSRF-Token";

/// Refuses a request whose `Origin` (else `Referer`) is not this site's.
pub fn check_origin(req: &HttpRequest, app: &AppState) -> Result<(), ConsoleError> {
    let headers = req.headers();
    let claimed = match headers.get(header::ORIGIN) {
        Some(origin) => origin.to_str().ok().map(str::to_string),
        None => headers
            .get(header::REFERER)
            .and_then(|r| r.to_str().ok())
            .and_then(origin_of),
    };
    let Some(claimed) = claimed else {
        return Err(ConsoleError::Forbidden(
            "refused: the request does not say where it comes from (no Origin or Referer)",
        ));
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let ours = origin_of(&app.settings.public_base_url);
    let from_us = ours.as_deref() == Some(claimed.as_str())
        || host.is_some_and(|h| {
            claimed.eq_ignore_ascii_case(&format!("http://{h}"))
                || claimed.eq_ignore_ascii_case(&format!("https://{h}"))
        });
    if from_us {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden(
            "refused: the request comes from another site",
        ))
    }
}

/// Refuses a request without this session's token, in constant time.
pub fn check_token(expected: &str, given: Option<&str>) -> Result<(), ConsoleError> {
    let given = given.unwrap_or("");
    if !given.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden(
            "refused: the form has expired or did not come from this console; reload the page and try again",
        ))
    }
}

/// `scheme://host[:port]` of a URL, as a browser writes it in `Origin`.
fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.origin() {
        o @ url::Origin::Tuple(..) => Some(o.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_host_and_port_as_browsers_send_it() {
        assert_eq!(
            origin_of("https://calls.example.com/console/x?y").as_deref(),
            Some("https://calls.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        // The default port is left out, as in a browser's Origin.
        assert_eq!(
            origin_of("https://a.example:443/").as_deref(),
            Some("https://a.example")
        );
        assert_eq!(origin_of("null"), None);
    }

    #[test]
    fn a_token_must_match_exactly() {
        assert!(check_token("abc", Some("abc")).is_ok());
        assert!(check_token("abc", Some("abd")).is_err());
        assert!(check_token("abc", Some("")).is_err());
        assert!(check_token("abc", None).is_err());
    }
}
