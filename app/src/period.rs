//! The period a page shows (`domain::period`): its query values (`?days=7|30|90`, or
//! `?from=YYYY-MM-DD&to=YYYY-MM-DD`), read on the server with the Worker's "now" and the
//! kept days (`RETENTION_DAYS`); a refused period is the page's 400 with the domain's
//! Japanese message, never a 500. The picker offers the three presets as links and a
//! from–to form limited to the kept days, and keeps the page's other filters.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::get_form::GetForm;

/// A page's period query values, as the URL has them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeriodQuery {
    pub days: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl PeriodQuery {
    /// The period values of the current URL (reactive: a client-side navigation to a new
    /// query changes it).
    pub fn current() -> impl Fn() -> PeriodQuery + Send + Sync + Copy + 'static {
        let q = use_query_map();
        move || {
            q.with(|q| PeriodQuery {
                days: q.get("days"),
                from: q.get("from"),
                to: q.get("to"),
            })
        }
    }
}

/// The period a page shows, for the picker and the heading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownPeriod {
    /// `YYYY-MM-DD`.
    pub from: String,
    pub to: String,
    /// `2026/11/25〜2026/12/01`.
    pub label: String,
    /// 7, 30 or 90 when the period is that preset.
    pub preset: Option<u32>,
    /// The first and last day that may be chosen.
    pub earliest: String,
    pub today: String,
}

impl ShownPeriod {
    /// The query that asks for this period again (`days=30`, or `from=…&to=…`).
    pub fn query(&self) -> String {
        match self.preset {
            Some(days) => format!("days={days}"),
            None => format!("from={}&to={}", self.from, self.to),
        }
    }
}

/// A page whose period was refused: the message and what may be chosen instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    pub message: String,
    pub earliest: String,
    pub today: String,
}

#[cfg(feature = "ssr")]
pub mod server {
    //! Reading the period on the server.

    use domain::period::{Period, PeriodError, first_kept, today};
    use leptos::prelude::*;

    use super::{PeriodQuery, Refused, ShownPeriod};

    /// `query` as of the request's time, or the refusal the page shows (status 400).
    pub fn read(
        query: &PeriodQuery,
    ) -> Result<Result<(Period, ShownPeriod), Refused>, ServerFnError> {
        let now = crate::tenant::now()?;
        let kept = crate::tenant::config()
            .map_err(|e| ServerFnError::new(e.to_string()))?
            .retention
            .days;
        let today = today(now);
        let earliest = first_kept(today, kept).format("%Y-%m-%d").to_string();
        let today_s = today.format("%Y-%m-%d").to_string();
        match Period::requested(
            query.days.as_deref(),
            query.from.as_deref(),
            query.to.as_deref(),
            today,
            kept,
        ) {
            Ok(p) => Ok(Ok((
                p,
                ShownPeriod {
                    from: p.from_day(),
                    to: p.to_day(),
                    label: p.label(),
                    preset: p.preset_of(today, kept).map(|x| x.days()),
                    earliest,
                    today: today_s,
                },
            ))),
            Err(e) => {
                crate::tenant::status(400);
                Ok(Err(refused(&e, earliest, today_s)))
            }
        }
    }

    fn refused(e: &PeriodError, earliest: String, today: String) -> Refused {
        Refused {
            message: e.to_string(),
            earliest,
            today,
        }
    }
}

/// The period picker of `action` (the page's URL): presets as links, a from–to form.
/// `keep` are the page's other filters, carried along.
#[component]
pub fn PeriodPicker(
    action: String,
    /// The period shown, `None` when the asked one was refused.
    shown: Option<ShownPeriod>,
    earliest: String,
    today: String,
    #[prop(optional)] keep: Vec<(String, String)>,
) -> impl IntoView {
    let kept: String = keep
        .iter()
        .map(|(k, v)| format!("&{k}={}", urlencode(v)))
        .collect();
    let presets = domain::period::Preset::ALL
        .iter()
        .map(|p| {
            let days = p.days();
            let here = shown
                .as_ref()
                .is_some_and(|s| s.preset == Some(days))
                .then_some("page");
            view! {
                <li>
                    <a href=format!("{action}?days={days}{kept}") aria-current=here>
                        {p.label()}
                    </a>
                </li>
            }
        })
        .collect_view();
    let (from, to) = shown
        .as_ref()
        .map(|s| (s.from.clone(), s.to.clone()))
        .unwrap_or_default();
    let hidden = keep
        .into_iter()
        .map(|(k, v)| view! { <input type="hidden" name=k value=v /> })
        .collect_view();
    let label = shown.as_ref().map(|s| {
        view! {
            <p class="period-shown">"表示期間: " <strong>{s.label.clone()}</strong></p>
        }
    });
    view! {
        <section class="period" aria-label="表示期間">
            {label}
            <ul class="presets">{presets}</ul>
            <GetForm action class="filter period-range" label="期間を指定">
                {hidden}
                <label>
                    "開始日"
                    <input type="date" name="from" value=from min=earliest.clone() max=today.clone() />
                </label>
                <label>
                    "終了日"
                    <input type="date" name="to" value=to min=earliest max=today />
                </label>
                <button type="submit">"表示"</button>
            </GetForm>
        </section>
    }
}

/// A query value as a URL carries it.
pub fn urlencode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(urlencode("192.168.1.10"), "192.168.1.10");
        assert_eq!(urlencode("a b&c=ど"), "a%20b%26c%3D%E3%81%A9");
    }

    #[test]
    fn a_shown_period_asks_for_itself_again() {
        let mut p = ShownPeriod {
            from: "2026-11-02".into(),
            to: "2026-12-01".into(),
            label: String::new(),
            preset: Some(30),
            earliest: String::new(),
            today: String::new(),
        };
        assert_eq!(p.query(), "days=30");
        p.preset = None;
        assert_eq!(p.query(), "from=2026-11-02&to=2026-12-01");
    }
}
