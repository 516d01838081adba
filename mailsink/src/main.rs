//! `mimamori-mailsink`: parses the flags, binds, prints the address it listens on (the one
//! line on stdout, which scripts and tests wait for) and serves.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Parser;
use mailsink::{ApiKey, Config};

#[derive(Parser)]
#[command(
    name = "mimamori-mailsink",
    version,
    about = "A local sink for mimamori's mail: takes Resend-shaped POST /emails, keeps \
             every mail and shows them at /"
)]
struct Cli {
    /// Address to listen on; with port 0 the system picks a free port, printed at startup.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8025")]
    listen: String,
    /// Require `Authorization: Bearer KEY` on POST /emails (the Worker's MAIL_API_KEY).
    #[arg(long, value_name = "KEY", value_parser = ApiKey::parse)]
    api_key: Option<ApiKey>,
    /// Append each mail to this JSON Lines file and read it back at startup.
    #[arg(long, value_name = "FILE.jsonl")]
    store: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if cli.api_key.is_none() {
        eprintln!("mailsink: no --api-key given, POST /emails accepts any or no key");
    }
    let sink = mailsink::bind(Config {
        listen: cli.listen,
        api_key: cli.api_key,
        store: cli.store,
    })?;
    let addr = sink.local_addr()?;
    let mut stdout = io::stdout();
    writeln!(stdout, "mailsink: listening on http://{addr}")?;
    stdout.flush()?;
    sink.run();
    Ok(())
}
