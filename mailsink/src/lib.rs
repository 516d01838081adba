//! `mimamori-mailsink`: a local stand-in for the Resend-shaped email API and the
//! Twilio-shaped SMS API that mimamori's Worker sends its mail and its one-time codes
//! through (`shared/protocol/api-v1.md`, "Outbound: mail and SMS providers"). It keeps
//! every mail and text message instead of delivering it, shows them on a page, and lets
//! end-to-end tests read them back and inject failures.

mod fault;
mod http;
mod mail;
mod mailbox;
mod page;
mod routes;
mod sms;

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;

use anyhow::Context;

use crate::mailbox::Mailbox;

#[derive(Debug)]
pub struct Config {
    /// Where to listen, e.g. `127.0.0.1:8025`; port 0 lets the system choose.
    pub listen: String,
    /// A second address serving the same sink, for the SMS API's base URL.
    pub sms_listen: Option<String>,
    /// Required as `Authorization: Bearer` on `POST /emails` when set.
    pub api_key: Option<Secret>,
    /// The SMS API's account: always required, as Twilio requires it.
    pub sms_account: SmsAccount,
    /// The JSON Lines file that keeps mails and messages across restarts; memory only
    /// without it.
    pub store: Option<PathBuf>,
}

/// What a sender of text messages must present: the account SID in the path and as the
/// basic-auth user, the auth token as the password.
#[derive(Debug, Clone)]
pub struct SmsAccount {
    pub sid: AccountSid,
    pub auth_token: Secret,
}

/// A key or token senders must present. `Debug` does not show it.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn parse(secret: &str) -> Result<Secret, String> {
        if secret.is_empty() || secret.contains(char::is_whitespace) {
            return Err("a key or token must be non-empty and without spaces".to_owned());
        }
        Ok(Secret(secret.to_owned()))
    }

    fn matches(&self, given: &str) -> bool {
        self.0 == given
    }
}

/// A Twilio account SID such as `AC` and 32 hex digits. Letters and digits only: it goes
/// into a URL path as it is, and a basic-auth user cannot hold a colon.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountSid(String);

impl AccountSid {
    pub fn parse(sid: &str) -> Result<AccountSid, String> {
        if sid.is_empty() || !sid.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(
                "an account SID must be letters and digits, like AC and 32 hex digits".to_owned(),
            );
        }
        Ok(AccountSid(sid.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A bound, not yet serving sink.
#[derive(Debug)]
pub struct Sink {
    listener: TcpListener,
    sms_listener: Option<TcpListener>,
    shared: Arc<routes::Shared>,
}

/// Loads the store (if any) and binds the listening sockets; reports what it loaded and
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
            let (mails, messages) = (mailbox.mails().len(), mailbox.messages().len());
            eprintln!(
                "mailsink: {mails} mails and {messages} text messages loaded from {}",
                path.display()
            );
            mailbox
        }
    };
    let bind = |address: &str| {
        TcpListener::bind(address).with_context(|| format!("cannot listen on {address}"))
    };
    let listener = bind(&config.listen)?;
    let sms_listener = config.sms_listen.as_deref().map(bind).transpose()?;
    Ok(Sink {
        listener,
        sms_listener,
        shared: Arc::new(routes::Shared::new(
            config.api_key,
            config.sms_account,
            mailbox,
        )),
    })
}

impl Sink {
    /// The address actually bound (with the chosen port when asked for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The second address actually bound, when one was asked for.
    pub fn sms_local_addr(&self) -> io::Result<Option<SocketAddr>> {
        self.sms_listener
            .as_ref()
            .map(TcpListener::local_addr)
            .transpose()
    }

    /// Serves on every address until the process ends. Both serve every route with one
    /// state: a mail or message sent to either shows on both.
    pub fn run(self) -> anyhow::Result<()> {
        let Sink {
            listener,
            sms_listener,
            shared,
        } = self;
        if let Some(sms_listener) = sms_listener {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("sms-listener".to_owned())
                .spawn(move || {
                    http::serve(sms_listener, move |request| {
                        routes::handle(&shared, request)
                    });
                })
                .context("cannot start the second listener")?;
        }
        http::serve(listener, move |request| routes::handle(&shared, request));
        Ok(())
    }
}
