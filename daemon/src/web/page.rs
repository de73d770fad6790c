//! The operator page: static files compiled into the binary, served only when
//! `[web] operator_page = true`, with headers that keep it to itself.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Web;

const INDEX: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/app.js");
const STYLE: &str = include_str!("page/style.css");

/// Scripts, styles and connections only from the page's own origin; images also as
/// `data:` (the face comes in the answer).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn file(web: &Web, content_type: &'static str, body: &'static str) -> Response {
    if !web.page {
        return not_found();
    }
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        "not found\n",
    )
        .into_response()
}

/// `GET /`.
pub(super) async fn index(State(web): State<Web>) -> Response {
    file(&web, "text/html; charset=utf-8", INDEX)
}

/// `GET /app.js`.
pub(super) async fn script(State(web): State<Web>) -> Response {
    file(&web, "text/javascript; charset=utf-8", SCRIPT)
}

/// `GET /style.css`.
pub(super) async fn style(State(web): State<Web>) -> Response {
    file(&web, "text/css; charset=utf-8", STYLE)
}

/// Anything else.
pub(super) async fn fallback() -> Response {
    not_found()
}
