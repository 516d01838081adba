//! The one place that reads the Worker's environment. Every setting and secret is parsed
//! once per isolate into `domain::config::Config` (names, defaults and bounds live
//! there); a value that does not parse is logged and replaced by its default, and a
//! required setting that is missing or unusable (`Config::problems`) is logged as an error.

use std::cell::OnceCell;
use std::sync::Arc;

pub use domain::config::Config;
use worker::Env;

thread_local! {
    static CONFIG: OnceCell<Arc<Config>> = const { OnceCell::new() };
}

/// The isolate's configuration, read from `env` the first time.
pub fn get(env: &Env) -> Arc<Config> {
    CONFIG.with(|cell| {
        cell.get_or_init(|| {
            let (config, warnings) = Config::parse(|key| {
                let secret = env.secret(key).map(|s| s.to_string());
                if domain::config::SECRET_ONLY.contains(&key) {
                    return secret.ok();
                }
                secret.or_else(|_| env.var(key).map(|v| v.to_string())).ok()
            });
            for w in warnings {
                worker::console_warn!("config: {w}");
            }
            // Checked once, at the isolate's first request: named here, in
            // /api/v1/health and on the portal's pages until fixed.
            for p in config.problems() {
                worker::console_error!("config: {} is {}", p.key, p.problem);
            }
            Arc::new(config)
        })
        .clone()
    })
}
