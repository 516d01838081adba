//! `mimamori-agent`: the command line. Each subcommand parses its flags into the options
//! of one module and runs it; exit status 1 means something needs a person's attention
//! (rejected reports, a refused token, a failed bench).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use agent::progress::Ui;
use agent::send::Backoff;
use agent::state::{self, Secret};
use agent::{bench, enroll, eve, send, simulate, triage};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use domain::device::DeviceId;

#[derive(Parser)]
#[command(
    name = "mimamori-agent",
    version,
    about = "Speaks mimamori's api-v1 as a UTM appliance would"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Only warnings on stderr (no progress bars or log lines).
    #[arg(long, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Enroll an appliance with an operator's code and keep its token in DIR/agent.json.
    Enroll {
        /// The cloud, e.g. http://127.0.0.1:8787
        #[arg(long)]
        url: String,
        /// The appliance's 12-digit lowercase hex MAC, e.g. c025a28b0a41.
        #[arg(long, value_parser = parse_device_id)]
        device_id: DeviceId,
        /// The enrollment code from the operator.
        #[arg(long)]
        code: String,
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        firmware: Option<String>,
        /// The appliance's state directory.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
    },
    /// Simulate enrolled appliances: heartbeats, threats and hourly usage.
    Simulate {
        /// A state directory of an enrolled appliance; repeat for more appliances.
        #[arg(long = "state", value_name = "DIR", required = true)]
        states: Vec<PathBuf>,
        /// How much faster than real time (reports every report_interval_s / speed).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Stop producing after this many real seconds, then deliver what is spooled.
        #[arg(long, value_name = "SECS", conflicts_with = "reports")]
        duration: Option<f64>,
        /// Stop after this many reports per appliance, then deliver what is spooled.
        #[arg(long, value_name = "N")]
        reports: Option<u64>,
        /// Seed for the simulated offices (the same seed gives the same events).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[command(flatten)]
        backoff: BackoffArgs,
    },
    /// Forward a Suricata eve.json as an enrolled appliance.
    ForwardEve {
        /// The eve.json file (JSON lines).
        file: PathBuf,
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// Keep following the file like `tail -F` (rotation and truncation included).
        #[arg(long)]
        follow: bool,
        /// Move every timestamp by whole hours so the newest event lands in the last hour
        /// (old files; a file spanning more than the 7-day window is compressed at its
        /// quiet gaps, then its oldest part is left out and named).
        #[arg(long)]
        replay: bool,
        #[command(flatten)]
        home: HomeNetArgs,
        #[command(flatten)]
        backoff: BackoffArgs,
    },
    /// Rate the threats of eve.json files as forwarding them with --replay would, and
    /// print per file the tiers, the rules that fired, what was skipped and why.
    Triage {
        /// eve.json files (JSON lines).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// A rule table to judge instead of the built-in one (JSON, as rules-v2.json).
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        #[command(flatten)]
        home: HomeNetArgs,
    },
    /// Provision a customer and appliances via the operator API and time many reports.
    Bench {
        #[arg(long)]
        url: String,
        /// The operator API token (or set OPERATOR_TOKEN, which keeps it out of `ps`).
        #[arg(long, env = "OPERATOR_TOKEN", hide_env_values = true)]
        operator_token: String,
        #[arg(long, default_value_t = 4)]
        appliances: usize,
        /// Reports per appliance.
        #[arg(long, default_value_t = 50)]
        reports: usize,
        /// Threat events per report (api-v1 allows at most 1000).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(0..=1000))]
        events: u16,
        /// Write every sent body as `{"device_id": …, "report": …}`, one a line.
        #[arg(long, value_name = "FILE")]
        dump: Option<PathBuf>,
        /// Print the figures as one JSON object on the last line too.
        #[arg(long)]
        json: bool,
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Args)]
struct HomeNetArgs {
    /// The customer's networks, as Suricata's HOME_NET (default: RFC 1918, IPv6
    /// unique-local and link-local, loopback), e.g. "192.168.1.0/24,fd00::/8".
    #[arg(long, value_name = "CIDRS", value_parser = parse_home_net)]
    home_net: Option<eve::HomeNet>,
}

impl HomeNetArgs {
    fn home(self) -> eve::HomeNet {
        self.home_net.unwrap_or_default()
    }
}

fn parse_home_net(s: &str) -> Result<eve::HomeNet, String> {
    eve::HomeNet::parse(s)
}

#[derive(Args)]
struct BackoffArgs {
    /// The longest wait between retries of an undelivered report, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    max_backoff: f64,
}

impl BackoffArgs {
    fn backoff(&self) -> anyhow::Result<Backoff> {
        let max = Duration::try_from_secs_f64(self.max_backoff)
            .ok()
            .filter(|d| !d.is_zero())
            .context("--max-backoff must be a positive number of seconds")?;
        Ok(Backoff::capped_at(max))
    }
}

fn parse_device_id(s: &str) -> Result<DeviceId, String> {
    DeviceId::parse(s).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::for_stderr(cli.quiet);
    match run(cli.command, &ui) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            ui.warn(&format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

/// Runs one command; false when it finished but something needs attention.
fn run(command: Command, ui: &Ui) -> anyhow::Result<bool> {
    match command {
        Command::Enroll {
            url,
            device_id,
            code,
            model,
            firmware,
            state: dir,
        } => {
            let url = state::normalize_url(&url)?;
            let enrolled = enroll::enroll(
                &send::http_client(),
                &enroll::Request {
                    url: &url,
                    device_id: &device_id,
                    code: &code,
                    model: model.as_deref(),
                    firmware: firmware.as_deref(),
                },
            )?;
            state::save(&dir, &enrolled)?;
            println!(
                "enrolled {device_id} at {url}: report every {} s; token saved in {}",
                enrolled.report_interval_s,
                state::state_file(&dir).display()
            );
            Ok(true)
        }
        Command::Simulate {
            states,
            speed,
            duration,
            reports,
            seed,
            backoff,
        } => {
            if !(speed.is_finite() && speed > 0.0) {
                anyhow::bail!("--speed must be a positive number");
            }
            let limit = match (duration, reports) {
                (Some(secs), _) => simulate::Limit::For(
                    Duration::try_from_secs_f64(secs).context("--duration must be positive")?,
                ),
                (None, Some(n)) => simulate::Limit::Reports(n),
                (None, None) => simulate::Limit::Forever,
            };
            simulate::run(
                &simulate::Options {
                    states,
                    speed,
                    limit,
                    seed,
                    backoff: backoff.backoff()?,
                },
                ui,
            )
        }
        Command::ForwardEve {
            file,
            state: dir,
            follow,
            replay,
            home,
            backoff,
        } => {
            let summary = eve::run(
                &eve::Options {
                    file,
                    state: dir,
                    reading: if follow {
                        eve::Reading::Follow
                    } else {
                        eve::Reading::ToEnd
                    },
                    timing: if replay {
                        eve::Timing::Replay
                    } else {
                        eve::Timing::AsLogged
                    },
                    home: home.home(),
                    backoff: backoff.backoff()?,
                },
                ui,
            )?;
            println!("{summary}");
            Ok(summary.rejected == 0 && summary.refused.is_none())
        }
        Command::Triage { files, rules, home } => {
            let rules = match rules {
                Some(path) => {
                    let json = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    domain::severity::RuleSet::parse(&json)
                        .with_context(|| format!("{} is not a rule table", path.display()))?
                }
                None => domain::severity::RuleSet::current(),
            };
            print!(
                "{}",
                triage::run(&triage::Options {
                    files,
                    rules,
                    home: home.home(),
                })?
            );
            Ok(true)
        }
        Command::Bench {
            url,
            operator_token,
            appliances,
            reports,
            events,
            dump,
            json,
            seed,
        } => {
            let figures = bench::run(
                &bench::Options {
                    url: state::normalize_url(&url)?,
                    operator_token: Secret::new(operator_token),
                    appliances,
                    reports,
                    events: usize::from(events),
                    dump,
                    seed,
                },
                ui,
            )?;
            println!("{figures}");
            if json {
                println!("{}", serde_json::to_string(&figures)?);
            }
            Ok(figures.non_202 == 0)
        }
    }
}
