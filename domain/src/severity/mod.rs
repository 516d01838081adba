//! mimamori's own rating of a threat event: ★★★ / ★★☆ / ★☆☆ / 調査中 (seed §4.3).
//!
//! - ★★★ infection likely (e.g. outbound C2 traffic from an internal host),
//! - ★★☆ infection possible (malware downloaded but stopped, a malware or phishing site
//!   reached),
//! - ★☆☆ worth attention (blocked inbound scans and attacks, unwanted software, policy),
//! - 調査中 when the rules cannot decide: a person looks at it and reports back.
//!
//! The rules are data ([`RuleSet`], JSON, versioned): the first rule whose conditions all
//! hold decides, and the rating records which rule fired and why, so every alert can be
//! explained and a changed table can be told apart from the old one. [`RuleSet::current`]
//! is the built-in table in force (`rules-v2.json`, which reads what appliances really
//! send: Suricata classtypes, priorities and signature families, next to the seed's own
//! categories); `rules-v1.json` stays so that alerts rated by it keep their reasons.
//!
//! A rule also says whether its alerts are news ([`Notice`]): most are mailed; noise such
//! as protocol anomalies is recorded and shown in the portal only; attacks and scans that
//! hit every address on the internet are mailed only while they look aimed at this
//! customer (`crate::noise` judges that when the mail is due).

use serde::{Deserialize, Serialize};

use crate::report::{Action, Direction, Function, ThreatEvent, VendorSeverity};

/// The four tiers, most urgent first (`as u8` is the stored rank, 0 = ★★★).
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    High,
    Medium,
    Low,
    Investigating,
}

impl Severity {
    /// Every tier, most urgent first.
    pub const ALL: [Severity; 4] = [
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Investigating,
    ];

    /// The tier of its stored form (`high`, …); `None` for anything else.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The stored form: `high`, `medium`, `low`, `investigating`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Investigating => "investigating",
        }
    }

    /// The tier of a stored rank (`severity as u8`); anything past 調査中 is 調査中.
    pub fn from_rank(rank: u8) -> Severity {
        match rank {
            0 => Severity::High,
            1 => Severity::Medium,
            2 => Severity::Low,
            _ => Severity::Investigating,
        }
    }

    /// How the tier is written in mail subjects and the portal.
    pub fn stars(self) -> &'static str {
        match self {
            Severity::High => "★★★",
            Severity::Medium => "★★☆",
            Severity::Low => "★☆☆",
            Severity::Investigating => "調査中",
        }
    }

    /// What the tier means, in the words of the service description.
    pub fn meaning(self) -> &'static str {
        match self {
            Severity::High => "マルウェアに感染している可能性が高い状態です",
            Severity::Medium => "マルウェアに感染している可能性があります",
            Severity::Low => "マルウェアに感染している可能性は低いですが、注意が必要です",
            Severity::Investigating => "マルウェアに感染しているかどうかを調査中です",
        }
    }

    /// What the customer's administrator should do, for someone who is not a security
    /// expert.
    pub fn guidance(self) -> &'static str {
        match self {
            Severity::High => {
                "該当の機器をネットワークから外し(LANケーブルを抜く、Wi-Fiを切る)、ウイルス対策ソフトでフルスキャンを実行してください。結果にかかわらず、このメールを受け取ったことを相談窓口へご連絡ください。"
            }
            Severity::Medium => {
                "該当の機器でウイルス対策ソフトのフルスキャンを実行してください。心当たりのないメールの添付ファイルやリンクを開いていないか、利用者に確認してください。"
            }
            Severity::Low => {
                "UTM装置が防御しているため、すぐの対応は不要です。同じ通知が続く場合は、機器のソフトウェアを最新の状態に保ってください。"
            }
            Severity::Investigating => {
                "現在、担当者が調査しています。調査が終わりしだい、結果をメールでお知らせします。"
            }
        }
    }

    /// The most urgent of several tiers; 調査中 ranks below ★☆☆ (it carries no ★).
    pub fn most_urgent(tiers: impl IntoIterator<Item = Severity>) -> Option<Severity> {
        tiers.into_iter().min()
    }
}

/// Whether a rule's alerts are mailed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// Mailed, batched per tier (`crate::outbox`).
    #[default]
    Mail,
    /// Mailed unless, when the mail is due, the same signature has come from many sources
    /// or gone to many of the customer's hosts: untargeted mass activity (`crate::noise`).
    MailUnlessMass,
    /// Recorded and shown in the portal, never mailed.
    Record,
}

impl Notice {
    /// The stored form: `mail`, `mail_unless_mass`, `record`.
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::Mail => "mail",
            Notice::MailUnlessMass => "mail_unless_mass",
            Notice::Record => "record",
        }
    }
}

/// A rule's conditions. Every listed field must hold; a list holds when the event's value
/// is one of it. `category`, `name_contains` and `family` together describe what the
/// threat is: any one of them matching is enough (appliances differ in which they fill
/// in: a Suricata classtype, a signature family, a vendor's own category).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub function: Vec<Function>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub action: Vec<Action>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub direction: Vec<Direction>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vendor_severity: Vec<VendorSeverity>,
    /// Lowercase categories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category: Vec<String>,
    /// Lowercase fragments of the threat name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub name_contains: Vec<String>,
    /// Lowercase signature families: the words a name starts with (`et malware` for
    /// "ET MALWARE FormBook CnC Checkin (GET)", `suricata` for decoder events).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub family: Vec<String>,
}

/// Whether a lowercase `name` starts with the words of `family`.
fn in_family(name: &str, family: &str) -> bool {
    name.strip_prefix(family)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
}

/// An empty list allows everything; otherwise the value must be in it.
fn listed<T: PartialEq>(list: &[T], value: T) -> bool {
    list.is_empty() || list.contains(&value)
}

impl When {
    fn holds(&self, e: &ThreatEvent) -> bool {
        let kind = if self.category.is_empty()
            && self.name_contains.is_empty()
            && self.family.is_empty()
        {
            true
        } else {
            let category = e.threat.category.as_deref();
            let name = e.threat.name.to_lowercase();
            category.is_some_and(|c| self.category.iter().any(|x| x == c))
                || self.name_contains.iter().any(|f| name.contains(f.as_str()))
                || self.family.iter().any(|f| in_family(&name, f))
        };
        listed(&self.function, e.function)
            && listed(&self.action, e.action)
            && listed(&self.direction, e.direction)
            && listed(&self.vendor_severity, e.threat.vendor_severity)
            && kind
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    #[serde(default)]
    pub when: When,
    pub severity: Severity,
    #[serde(default, skip_serializing_if = "is_mail")]
    pub notice: Notice,
    /// Why, in Japanese, as shown with the alert.
    pub reason: String,
}

fn is_mail(n: &Notice) -> bool {
    *n == Notice::Mail
}

/// What applies when no rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Otherwise {
    pub id: String,
    pub severity: Severity,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub version: u32,
    pub rules: Vec<Rule>,
    pub otherwise: Otherwise,
}

/// A rated event: the tier, and which rule of which table gave it, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rating {
    pub severity: Severity,
    pub notice: Notice,
    pub rules_version: u32,
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleSetError {
    #[error("the rule table is not valid: {0}")]
    Invalid(#[from] serde_json::Error),
    #[error("rule ids must be unique; {0} appears twice")]
    DuplicateId(String),
    #[error("rule {0}: categories and name fragments must be lowercase")]
    NotLowercase(String),
}

impl RuleSet {
    /// The built-in table in force: what new alerts are rated by.
    pub fn current() -> RuleSet {
        RuleSet::v2()
    }

    /// The first table: the simulator's vocabulary only (`c2`, `scan`, `malware`, …).
    pub fn v1() -> RuleSet {
        RuleSet::parse(include_str!("rules-v1.json")).expect("the built-in rule table is valid")
    }

    /// The table for real appliances: Suricata classtypes, priorities and signature
    /// families as well as the seed's categories.
    pub fn v2() -> RuleSet {
        RuleSet::parse(include_str!("rules-v2.json")).expect("the built-in rule table is valid")
    }

    /// The built-in table of `version`, for explaining alerts it rated.
    pub fn built_in(version: u32) -> Option<RuleSet> {
        match version {
            1 => Some(RuleSet::v1()),
            2 => Some(RuleSet::v2()),
            _ => None,
        }
    }

    /// Why rule `id` of this table rates as it does; the fallback's reason for an id the
    /// table does not have.
    pub fn reason(&self, id: &str) -> &str {
        self.rules
            .iter()
            .find(|r| r.id == id)
            .map_or(self.otherwise.reason.as_str(), |r| r.reason.as_str())
    }

    /// A table from its JSON form, checked.
    pub fn parse(json: &str) -> Result<RuleSet, RuleSetError> {
        let set: RuleSet = serde_json::from_str(json)?;
        let mut seen = std::collections::HashSet::new();
        for rule in &set.rules {
            if !seen.insert(rule.id.as_str()) || rule.id == set.otherwise.id {
                return Err(RuleSetError::DuplicateId(rule.id.clone()));
            }
            let lower = |xs: &[String]| xs.iter().all(|x| *x == x.to_lowercase());
            if !lower(&rule.when.category)
                || !lower(&rule.when.name_contains)
                || !lower(&rule.when.family)
            {
                return Err(RuleSetError::NotLowercase(rule.id.clone()));
            }
        }
        Ok(set)
    }

    /// Rates one event: the first rule that holds, else the fallback.
    pub fn rate(&self, e: &ThreatEvent) -> Rating {
        let (id, severity, notice, reason) = self
            .rules
            .iter()
            .find(|r| r.when.holds(e))
            .map(|r| (&r.id, r.severity, r.notice, &r.reason))
            .unwrap_or((
                &self.otherwise.id,
                self.otherwise.severity,
                Notice::Mail,
                &self.otherwise.reason,
            ));
        Rating {
            severity,
            notice,
            rules_version: self.version,
            rule: id.clone(),
            reason: reason.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
