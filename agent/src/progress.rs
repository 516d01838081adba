//! What a person watching the agent sees. On a terminal each appliance gets a spinner line
//! with its counters and sender state; when stderr is a file or pipe (CI, `systemd`,
//! `2>log`) the same facts come out as timestamped log lines instead, because redrawn
//! bars are unreadable there. `--quiet` keeps only warnings. Results meant for scripts
//! (summaries, bench figures) go to stdout, never here.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Bars,
    Plain,
    Quiet,
}

/// Where progress and log lines go; cheap to clone into every thread.
#[derive(Clone)]
pub struct Ui {
    mode: Mode,
    multi: MultiProgress,
}

impl Ui {
    /// Bars on a terminal, plain log lines otherwise, warnings only with `quiet`.
    pub fn for_stderr(quiet: bool) -> Ui {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Plain
        };
        Ui::with_mode(mode)
    }

    /// Warnings only: for tests and scripts.
    pub fn quiet() -> Ui {
        Ui::with_mode(Mode::Quiet)
    }

    fn with_mode(mode: Mode) -> Ui {
        let target = match mode {
            Mode::Bars => ProgressDrawTarget::stderr(),
            Mode::Plain | Mode::Quiet => ProgressDrawTarget::hidden(),
        };
        Ui {
            mode,
            multi: MultiProgress::with_draw_target(target),
        }
    }

    /// A log line for the plain mode; bars already show the same thing.
    pub fn info(&self, msg: &str) {
        if self.mode == Mode::Plain {
            self.print("INFO", msg);
        }
    }

    /// Shown in every mode, above the bars on a terminal.
    pub fn warn(&self, msg: &str) {
        self.print("WARN", msg);
    }

    fn print(&self, level: &str, msg: &str) {
        let at = Utc::now()
            .with_timezone(&domain::jst::tokyo())
            .format("%Y-%m-%dT%H:%M:%S%.3f%:z");
        let line = format!("{at} {level} {msg}");
        if self.mode == Mode::Bars {
            // Printed above the bars so they are not torn apart.
            if self.multi.println(&line).is_ok() {
                return;
            }
        }
        eprintln!("{line}");
    }

    /// A line of progress for one appliance (or one bench run).
    pub fn line(&self, name: &str) -> Line {
        let bar = (self.mode == Mode::Bars).then(|| {
            let bar = self.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix:.bold} {msg}")
                    .expect("the template is valid"),
            );
            bar.set_prefix(name.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Line {
            name: Arc::from(name),
            ui: self.clone(),
            bar,
            counters: Arc::new(Counters::default()),
            state: Arc::new(Mutex::new(String::from("starting"))),
        }
    }
}

/// Running totals for one appliance's sender.
#[derive(Debug, Default)]
pub struct Counters {
    /// Reports written to the spool by this run.
    pub spooled: AtomicU64,
    /// Reports the cloud answered 202 to.
    pub delivered: AtomicU64,
    /// Events the cloud stored / already had, from the 202 answers.
    pub accepted: AtomicU64,
    pub duplicates: AtomicU64,
    /// Reports moved to `rejected/`.
    pub rejected: AtomicU64,
    /// Attempts that failed and were retried.
    pub retries: AtomicU64,
    /// Reports waiting in the spool, as last seen by the sender.
    pub waiting: AtomicU64,
}

impl Counters {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// One appliance's progress: counters, the sender's state, and its spinner if any.
#[derive(Clone)]
pub struct Line {
    name: Arc<str>,
    ui: Ui,
    bar: Option<ProgressBar>,
    pub counters: Arc<Counters>,
    state: Arc<Mutex<String>>,
}

impl Line {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the sender is doing now (`idle`, `sending`, `retrying in 4s (503)` …).
    pub fn set_state(&self, state: impl Into<String>) {
        if let Ok(mut s) = self.state.lock() {
            *s = state.into();
        }
        self.redraw();
    }

    pub fn redraw(&self) {
        let Some(bar) = &self.bar else { return };
        let c = &self.counters;
        let state = self.state.lock().map(|s| s.clone()).unwrap_or_default();
        bar.set_message(format!(
            "sent {} · accepted {} · duplicates {} · rejected {} · spooled {} · {state}",
            Counters::get(&c.delivered),
            Counters::get(&c.accepted),
            Counters::get(&c.duplicates),
            Counters::get(&c.rejected),
            Counters::get(&c.waiting),
        ));
    }

    pub fn info(&self, msg: &str) {
        self.ui.info(&format!("{}: {msg}", self.name));
    }

    pub fn warn(&self, msg: &str) {
        self.ui.warn(&format!("{}: {msg}", self.name));
    }

    /// Leaves the spinner's last state on screen.
    pub fn finish(&self, state: &str) {
        self.set_state(state);
        if let Some(bar) = &self.bar {
            bar.abandon();
        }
    }
}
