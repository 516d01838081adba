//! `mimamori-mailsink`: parses the flags, binds, prints the addresses it listens on (the
//! only lines on stdout: the main address first, which scripts and tests wait for, then
//! the `--sms-listen` one if asked for) and serves.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Parser;
use mailsink::{AccountSid, Config, Secret, SmsAccount};

#[derive(Parser)]
#[command(
    name = "mimamori-mailsink",
    version,
    about = "A local sink for mimamori's mail and SMS: takes Resend-shaped POST /emails and \
             Twilio-shaped POST /2010-04-01/Accounts/{SID}/Messages.json, keeps every mail \
             and text message and shows them at /"
)]
struct Cli {
    /// Address to listen on; with port 0 the system picks a free port, printed at startup.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8025")]
    listen: String,
    /// Also listen here, serving the same routes and mails and messages: for the Worker's
    /// SMS_API_URL (locally http://127.0.0.1:8026, while mail is on 8025).
    #[arg(long, value_name = "ADDR:PORT")]
    sms_listen: Option<String>,
    /// Require `Authorization: Bearer KEY` on POST /emails (the Worker's MAIL_API_KEY).
    #[arg(long, value_name = "KEY", value_parser = Secret::parse)]
    api_key: Option<Secret>,
    /// The account SID expected in the SMS path and as basic-auth user (SMS_ACCOUNT_SID).
    #[arg(
        long,
        value_name = "SID",
        default_value = "AC00000000000000000000000000000000",
        value_parser = AccountSid::parse
    )]
    sms_account_sid: AccountSid,
    /// The basic-auth password required on SMS sends (SMS_AUTH_TOKEN).
    #[arg(
        long,
        value_name = "TOKEN",
        default_value = "dev-sms-token",
        value_parser = Secret::parse
    )]
    sms_auth_token: Secret,
    /// Append each mail and text message to this JSON Lines file and read it back at
    /// startup.
    #[arg(long, value_name = "FILE.jsonl")]
    store: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.api_key.is_none() {
        eprintln!("mailsink: no --api-key given, POST /emails accepts any or no key");
    }
    eprintln!(
        "mailsink: SMS API at /2010-04-01/Accounts/{}/Messages.json",
        cli.sms_account_sid.as_str()
    );
    let sink = mailsink::bind(Config {
        listen: cli.listen,
        sms_listen: cli.sms_listen,
        api_key: cli.api_key,
        sms_account: SmsAccount {
            sid: cli.sms_account_sid,
            auth_token: cli.sms_auth_token,
        },
        store: cli.store,
    })?;
    let mut stdout = io::stdout();
    writeln!(
        stdout,
        "mailsink: listening on http://{}",
        sink.local_addr()?
    )?;
    if let Some(sms_addr) = sink.sms_local_addr()? {
        writeln!(
            stdout,
            "mailsink: also listening on http://{sms_addr} (--sms-listen)"
        )?;
    }
    stdout.flush()?;
    sink.run()
}
