//! 検知履歴's filters (`/alerts?severity=…&function=…&action=…&device=…&host=…&after=…`):
//! the values as the URL has them, read on the server by `domain::alert_filter`, and the
//! GET form that chooses them; the period rides along as hidden fields, and every link of
//! the list keeps the filters given.

use domain::report::{Action, Function};
use domain::severity::Severity;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::get_form::GetForm;
use crate::period::{ShownPeriod, urlencode};

/// The list's filters as the URL has them (`None`: not given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FilterQuery {
    pub severity: Option<String>,
    pub function: Option<String>,
    pub action: Option<String>,
    pub device: Option<String>,
    pub host: Option<String>,
    pub after: Option<String>,
}

impl FilterQuery {
    /// The filters of the current URL (reactive).
    pub fn current() -> impl Fn() -> FilterQuery + Send + Sync + Copy + 'static {
        let q = use_query_map();
        move || {
            q.with(|q| FilterQuery {
                severity: q.get("severity"),
                function: q.get("function"),
                action: q.get("action"),
                device: q.get("device"),
                host: q.get("host"),
                after: q.get("after"),
            })
        }
    }

    /// The filters given, without the page cursor: what every link of the page keeps.
    pub fn kept(&self) -> Vec<(String, String)> {
        [
            ("severity", &self.severity),
            ("function", &self.function),
            ("action", &self.action),
            ("device", &self.device),
            ("host", &self.host),
        ]
        .into_iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| (k.to_owned(), v.clone()))
        })
        .collect()
    }

    /// The query of `period` with these filters (no page cursor).
    pub fn query_with(&self, period: &ShownPeriod) -> String {
        let mut q = period.query();
        for (k, v) in self.kept() {
            q.push_str(&format!("&{k}={}", urlencode(&v)));
        }
        q
    }
}

/// The filter form: the period rides along as hidden fields.
#[component]
pub fn Filters(
    action: String,
    filter: FilterQuery,
    period: ShownPeriod,
    devices: Vec<(String, String)>,
) -> impl IntoView {
    let period_fields = match period.preset {
        Some(days) => {
            view! { <input type="hidden" name="days" value=days.to_string() /> }.into_any()
        }
        None => view! {
            <input type="hidden" name="from" value=period.from.clone() />
            <input type="hidden" name="to" value=period.to.clone() />
        }
        .into_any(),
    };
    let chosen = |v: &Option<String>| v.clone().unwrap_or_default();
    let severity = chosen(&filter.severity);
    let function = chosen(&filter.function);
    let act = chosen(&filter.action);
    let device = chosen(&filter.device);
    let tiers = options(
        Severity::ALL
            .iter()
            .map(|t| (t.as_str().to_owned(), t.stars().to_owned())),
        severity,
    );
    let functions = options(
        Function::ALL.iter().map(|f| {
            (
                f.as_str().to_owned(),
                domain::wording::function(*f).to_owned(),
            )
        }),
        function,
    );
    let actions = options(
        Action::ALL.iter().map(|a| {
            (
                a.as_str().to_owned(),
                domain::wording::action(*a).to_owned(),
            )
        }),
        act,
    );
    let appliances = options(devices.into_iter(), device);
    view! {
        <GetForm action class="filter alert-filter" label="検知の絞り込み">
            {period_fields}
            <label>
                "重要度"
                <select name="severity">
                    <option value="">"すべて"</option>
                    {tiers}
                </select>
            </label>
            <label>
                "機能"
                <select name="function">
                    <option value="">"すべて"</option>
                    {functions}
                </select>
            </label>
            <label>
                "UTM装置の対応"
                <select name="action">
                    <option value="">"すべて"</option>
                    {actions}
                </select>
            </label>
            <label>
                "UTM装置"
                <select name="device">
                    <option value="">"すべて"</option>
                    {appliances}
                </select>
            </label>
            <label>
                "端末（IPまたはMACアドレス）"
                <input
                    type="text"
                    name="host"
                    value=chosen(&filter.host)
                    maxlength="64"
                    inputmode="url"
                    autocomplete="off"
                />
            </label>
            <button type="submit">"絞り込む"</button>
        </GetForm>
    }
}

/// A select's choices (value, text), the one whose value is `chosen` selected.
fn options(choices: impl Iterator<Item = (String, String)>, chosen: String) -> impl IntoView {
    choices
        .map(|(value, text)| {
            let selected = value == chosen;
            view! { <option value=value selected=selected>{text}</option> }
        })
        .collect_view()
}
