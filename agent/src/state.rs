//! An enrolled appliance is a directory: `agent.json` holds who it is and how to reach the
//! cloud, `spool/` what it has not delivered yet. The token in `agent.json` is the only
//! credential the appliance has, so the file is written readable by its owner only and
//! the token is never printed.

use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use domain::device::DeviceId;
use serde::{Deserialize, Serialize};

/// A bearer secret (device or operator token). `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// `DIR/agent.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentState {
    /// The cloud's base URL, e.g. `http://127.0.0.1:8787`, without a trailing slash.
    pub url: String,
    pub device_id: DeviceId,
    pub device_token: Secret,
    pub report_interval_s: u64,
    /// What the appliance reports as its firmware version, when enrolled with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl AgentState {
    pub fn reports_url(&self) -> String {
        format!("{}/api/v1/device/reports", self.url)
    }
}

pub fn state_file(dir: &Path) -> PathBuf {
    dir.join("agent.json")
}

pub fn load(dir: &Path) -> anyhow::Result<AgentState> {
    let path = state_file(dir);
    let text = fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (enroll this appliance first)",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// Writes `agent.json` with mode 0600, replacing any earlier one atomically so a crash
/// never leaves a half-written identity behind.
pub fn save(dir: &Path, state: &AgentState) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = state_file(dir);
    let tmp = dir.join(".agent.json.tmp");
    let mut body = serde_json::to_vec_pretty(state)?;
    body.push(b'\n');
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(&body)?;
    file.sync_all()?;
    fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// `http://host:8787/` → `http://host:8787`; refuses anything that is not http(s).
pub fn normalize_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        anyhow::bail!("the url must start with http:// or https://, got {url:?}");
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_state_file_is_private_and_round_trips_without_showing_the_token() {
        let dir = tempfile::tempdir().unwrap();
        let state = AgentState {
            url: "http://127.0.0.1:8787".into(),
            device_id: DeviceId::parse("c025a28b0a41").unwrap(),
            device_token: Secret::new("s3cret"),
            report_interval_s: 60,
            firmware: Some("1.4.2".into()),
            model: None,
        };
        save(dir.path(), &state).unwrap();
        let mode = fs::metadata(state_file(dir.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let back = load(dir.path()).unwrap();
        assert_eq!(back.device_token.expose(), "s3cret");
        assert!(!format!("{back:?}").contains("s3cret"));
    }

    #[test]
    fn urls_lose_their_trailing_slash_and_must_be_http() {
        assert_eq!(
            normalize_url("http://127.0.0.1:8787/").unwrap(),
            "http://127.0.0.1:8787"
        );
        assert!(normalize_url("ftp://x").is_err());
    }
}
