//! Enrolling turns an operator's one-time code into this appliance's device token
//! (api-v1 `POST /api/v1/device/enroll`). The token is shown once, so it goes straight
//! into `agent.json` and nowhere else.

use anyhow::{Context, bail};
use domain::device::DeviceId;
use serde::Deserialize;
use serde_json::json;

use crate::send::{describe, post_json};
use crate::state::{AgentState, Secret};

pub struct Request<'a> {
    pub url: &'a str,
    pub device_id: &'a DeviceId,
    pub code: &'a str,
    pub model: Option<&'a str>,
    pub firmware: Option<&'a str>,
}

/// Enrolls and returns the state to save; `url` must already be normalised.
pub fn enroll(http: &ureq::Agent, r: &Request<'_>) -> anyhow::Result<AgentState> {
    #[derive(Deserialize)]
    struct Enrolled {
        device_token: Secret,
        report_interval_s: u64,
    }
    let mut body = json!({"device_id": r.device_id, "enrollment_code": r.code});
    if let Some(model) = r.model {
        body["model"] = json!(model);
    }
    if let Some(firmware) = r.firmware {
        body["firmware"] = json!(firmware);
    }
    let url = format!("{}/api/v1/device/enroll", r.url);
    let answer = post_json(http, &url, None, body.to_string().as_bytes())
        .with_context(|| format!("cannot reach {url}"))?;
    if answer.status != 201 {
        bail!("enrollment refused: {}", describe(&answer));
    }
    let enrolled: Enrolled = serde_json::from_str(&answer.body)
        .context("the enrollment answer has no device_token and report_interval_s")?;
    Ok(AgentState {
        url: r.url.to_owned(),
        device_id: r.device_id.clone(),
        device_token: enrolled.device_token,
        report_interval_s: enrolled.report_interval_s.max(1),
        firmware: r.firmware.map(str::to_owned),
        model: r.model.map(str::to_owned),
    })
}
