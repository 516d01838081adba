//! `mimamori-mailsink`: a local stand-in for the Resend-shaped email API that mimamori's
//! Worker sends its mail through (`shared/protocol/api-v1.md`, "Outbound: mail and SMS
//! providers"). It keeps every mail instead of delivering it, shows them on a page, and
//! lets end-to-end tests read them back and inject failures.

mod fault;
mod http;
mod mail;
mod mailbox;
mod page;
mod routes;

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use anyhow::Context;

use crate::mailbox::Mailbox;

#[derive(Debug)]
pub struct Config {
    /// Where to listen, e.g. `127.0.0.1:8025`; port 0 lets the system choose.
    pub listen: String,
    /// Required as `Authorization: Bearer` on `POST /emails` when set.
    pub api_key: Option<ApiKey>,
    /// The JSON Lines file that keeps the mails across restarts; memory only without it.
    pub store: Option<PathBuf>,
}

/// The key senders must present. `Debug` does not show it.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn parse(key: &str) -> Result<ApiKey, String> {
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err("an API key must be non-empty and without spaces".to_owned());
        }
        Ok(ApiKey(key.to_owned()))
    }

    fn matches(&self, given: &str) -> bool {
        self.0 == given
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A bound, not yet serving sink.
#[derive(Debug)]
pub struct Sink {
    listener: TcpListener,
    shared: routes::Shared,
}

/// Loads the store (if any) and binds the listening socket; reports what it loaded and
/// skipped on stderr.
pub fn bind(config: Config) -> anyhow::Result<Sink> {
    let mailbox = match &config.store {
        None => Mailbox::in_memory(),
        Some(path) => {
            let (mailbox, skipped) = Mailbox::open(path)
                .with_context(|| format!("cannot open the store {}", path.display()))?;
            for problem in skipped {
                eprintln!("mailsink: skipped {} {problem}", path.display());
            }
            let count = mailbox.mails().len();
            eprintln!("mailsink: {count} mails loaded from {}", path.display());
            mailbox
        }
    };
    let listener = TcpListener::bind(&config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    Ok(Sink {
        listener,
        shared: routes::Shared::new(config.api_key, mailbox),
    })
}

impl Sink {
    /// The address actually bound (with the chosen port when asked for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the process ends.
    pub fn run(self) {
        let Sink { listener, shared } = self;
        http::serve(listener, move |request| routes::handle(&shared, request));
    }
}
