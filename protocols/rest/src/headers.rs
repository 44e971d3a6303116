//! The security headers every answer carries, as one tower layer over the router:
//! answers are never sniffed as another type, framed, sent with a referrer or
//! kept in a cache (they are a user's mail and tokens), and what the browser
//! would render of one (an HTML attachment, the docs page) runs no script and
//! loads nothing. A handler that sets one of these headers itself keeps its own.

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// Inline styles only (the docs page has one): no script, no fetch, no frame, no
/// form; `sandbox` makes what is rendered an opaque origin.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; \
                   form-action 'none'; base-uri 'none'; sandbox";

const HEADERS: [(HeaderName, &str); 5] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CONTENT_SECURITY_POLICY, CSP),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::CACHE_CONTROL, "no-store"),
];

/// `router` with a layer per header of [`HEADERS`], each added to every answer
/// (fallback and errors included) that lacks it.
pub fn secure<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    HEADERS.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}
