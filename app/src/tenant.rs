//! Whose data a portal request may read. Every portal query takes its customer id from
//! here and nowhere else, so tenant scoping lives in one place.
//!
//! Until sign-in exists the portal shows one configured customer (`PORTAL_DEMO_CUSTOMER`,
//! the demo seed's company in local development). An unset value shows nothing rather
//! than everything.

use worker::Env;

pub fn portal_customer(env: &Env) -> String {
    env.var("PORTAL_DEMO_CUSTOMER")
        .map(|v| v.to_string())
        .unwrap_or_default()
}
