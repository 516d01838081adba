//! The page gate of `domain::access` applied to a portal request before it renders.

use app::tenant::Caller;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{Method, Response, Uri};
use domain::access::{Gate, gate};

use super::answer::see_other;

/// What the page gate says for a portal request: `None` lets it through (possibly with
/// its path rewritten to a page that does not exist, for a 404), `Some` answers at once.
pub fn guard(parts: &mut Parts, caller: Option<&Caller>) -> Option<Response<Body>> {
    let path = parts.uri.path();
    let is_page = matches!(parts.method, Method::GET | Method::HEAD)
        && !path.starts_with(app::SERVER_FN_PREFIX)
        && !path.starts_with("/auth/")
        && !path.starts_with("/pkg/");
    if !is_page {
        return None;
    }
    match gate(path, caller.map(|c| (c.stage, c.scope()))) {
        Gate::Allow => None,
        Gate::Redirect(to) => Some(see_other(to)),
        Gate::NotFound => {
            // Rendered by the portal's not-found page with status 404, like any unknown
            // address: whether the page exists for somebody else is not told.
            if let Ok(uri) = Uri::builder().path_and_query("/__not_found").build() {
                parts.uri = uri;
            }
            None
        }
    }
}
