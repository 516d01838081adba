//! Signing a customer up and registering its appliances (api-v1 "Operator and reseller
//! API"). A customer has a name, a service start date, optionally the date billing starts,
//! and at most three addresses that receive alert mail (seed §4.3). Bodies become
//! [`NewCustomer`] / [`NewDevice`] here or are refused with the first field at fault.

use chrono::NaiveDate;
use serde_json::Value;

use crate::access::Scope;
use crate::device::DeviceId;
use crate::fields::{BodyError, Obj, json_body};
use crate::id::Id;

/// Alert mail goes to at most this many addresses per customer.
pub const MAX_ALERT_RECIPIENTS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    pub name: String,
    pub reseller_id: Option<Id>,
    pub service_start: NaiveDate,
    pub paid_from: Option<NaiveDate>,
    pub alert_recipients: Vec<Email>,
    /// The contact person and address, when given (`domain::profile`'s rules).
    pub contact: crate::profile::Contact,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDevice {
    pub device_id: DeviceId,
    pub name: String,
}

/// A mail address as people type it: `local@example.co.jp`. Compared without regard to
/// case, since no real mail system distinguishes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Email, &'static str> {
        const BAD: &str = "must be a mail address such as admin@example.jp";
        let (local, domain) = s.rsplit_once('@').ok_or(BAD)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_graphic() && !"@<>()[]\\,;:\"".contains(c));
        let domain_ok = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if local_ok && domain_ok && s.len() <= 254 {
            Ok(Email(s.to_owned()))
        } else {
            Err(BAD)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn same_mailbox(&self, other: &Email) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

pub fn parse_new_customer(body: &[u8]) -> Result<NewCustomer, BodyError> {
    let value = json_body(body)?;
    let obj = Obj::new("$", &value)?;
    let service_start = obj.date("service_start")?;
    let paid_from = obj.opt_date("paid_from")?;
    if paid_from.is_some_and(|p| p < service_start) {
        return Err(obj
            .invalid("paid_from", "must not be before service_start")
            .into());
    }
    let items = obj.array("alert_recipients")?;
    if items.len() > MAX_ALERT_RECIPIENTS {
        let message = format!("at most {MAX_ALERT_RECIPIENTS} addresses");
        return Err(obj.invalid("alert_recipients", &message).into());
    }
    let mut alert_recipients: Vec<Email> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let key = format!("alert_recipients[{i}]");
        let email = match item {
            Value::String(s) => Email::parse(s).map_err(|m| obj.invalid(&key, m))?,
            _ => return Err(obj.invalid(&key, "must be a string").into()),
        };
        if alert_recipients.iter().any(|e| e.same_mailbox(&email)) {
            return Err(obj.invalid(&key, "is listed twice").into());
        }
        alert_recipients.push(email);
    }
    let (contact, address) = crate::profile::given(&obj)?;
    Ok(NewCustomer {
        contact,
        address,
        name: obj.label("name", 100)?,
        reseller_id: match obj.opt_str("reseller_id")? {
            None => None,
            Some(_) => Some(obj.parsed("reseller_id", Id::parse)?),
        },
        service_start,
        paid_from,
        alert_recipients,
    })
}

pub fn parse_new_device(body: &[u8]) -> Result<NewDevice, BodyError> {
    let value = json_body(body)?;
    let obj = Obj::new("$", &value)?;
    Ok(NewDevice {
        device_id: obj.parsed("device_id", DeviceId::parse_field)?,
        name: obj.label("name", 64)?,
    })
}

/// A reseller's caller asked to sign a customer up for another reseller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a reseller signs customers up for itself only")]
pub struct NotOwnReseller;

/// The reseller a new customer is signed up for, as asked by a caller of `scope`: a
/// reseller signs customers up for itself only (naming none means itself, naming another
/// is refused); the operator names any reseller, or none.
pub fn signing_reseller(
    scope: &Scope,
    requested: Option<Id>,
) -> Result<Option<Id>, NotOwnReseller> {
    let Scope::Reseller(own) = scope else {
        return Ok(requested);
    };
    match requested {
        Some(r) if r.as_str() != own => Err(NotOwnReseller),
        _ => Id::parse(own).map(Some).map_err(|_| NotOwnReseller),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn customer(v: &Value) -> Result<NewCustomer, BodyError> {
        parse_new_customer(v.to_string().as_bytes())
    }

    fn example() -> Value {
        json!({"name": "株式会社サンプル", "reseller_id": "rsl_demo", "service_start": "2026-12-01",
               "paid_from": "2027-01-01", "alert_recipients": ["a@example.jp", "b@example.co.jp"]})
    }

    #[track_caller]
    fn check_rejected(pointer: &str, new: Value, path: &str) {
        let mut v = example();
        *v.pointer_mut(pointer).unwrap() = new;
        match customer(&v) {
            Err(BodyError::InvalidField(e)) => assert_eq!(e.path, path, "{e}"),
            other => panic!("expected invalid_field at {path}, got {other:?}"),
        }
    }

    #[test]
    fn the_api_v1_example_is_accepted() {
        let c = customer(&example()).unwrap();
        assert_eq!(c.name, "株式会社サンプル");
        assert_eq!(c.reseller_id.unwrap().as_str(), "rsl_demo");
        assert_eq!(c.service_start.to_string(), "2026-12-01");
        assert_eq!(c.alert_recipients.len(), 2);
    }

    #[test]
    fn reseller_and_paid_from_are_optional_and_recipients_may_be_empty() {
        let c =
            customer(&json!({"name": "A", "service_start": "2026-12-01", "alert_recipients": []}));
        assert_eq!(c.unwrap().paid_from, None);
    }

    #[test]
    fn more_than_three_alert_recipients_are_refused_at_the_list() {
        check_rejected(
            "/alert_recipients",
            json!(["a@x.jp", "b@x.jp", "c@x.jp", "d@x.jp"]),
            "$.alert_recipients",
        );
    }

    #[test]
    fn a_bad_or_repeated_address_is_refused_at_its_position() {
        check_rejected(
            "/alert_recipients",
            json!(["a@x.jp", "not-an-address"]),
            "$.alert_recipients[1]",
        );
        check_rejected(
            "/alert_recipients",
            json!(["a@x.jp", "A@X.JP"]),
            "$.alert_recipients[1]",
        );
        check_rejected("/alert_recipients", json!([3]), "$.alert_recipients[0]");
    }

    #[test]
    fn dates_must_be_calendar_dates_and_billing_cannot_start_before_service() {
        check_rejected("/service_start", json!("2026-02-30"), "$.service_start");
        check_rejected("/service_start", json!("12/01/2026"), "$.service_start");
        check_rejected("/paid_from", json!("2026-11-30"), "$.paid_from");
    }

    #[test]
    fn the_name_is_required_and_bounded() {
        check_rejected("/name", json!(""), "$.name");
        check_rejected("/name", json!("社".repeat(101)), "$.name");
        check_rejected("/reseller_id", json!("rsl demo"), "$.reseller_id");
    }

    #[test]
    fn a_body_that_is_not_json_is_invalid_json() {
        assert_eq!(parse_new_customer(b"name=x"), Err(BodyError::InvalidJson));
        assert_eq!(parse_new_device(b""), Err(BodyError::InvalidJson));
    }

    #[track_caller]
    fn check_email(s: &str, ok: bool) {
        assert_eq!(Email::parse(s).is_ok(), ok, "{s}");
    }

    #[test]
    fn ordinary_addresses_are_accepted() {
        check_email("admin@example.jp", true);
        check_email("taro.yamada+alerts@mail.example.co.jp", true);
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for s in [
            "",
            "@example.jp",
            "admin@",
            "admin@localhost",
            "a b@example.jp",
            "admin@exa_mple.jp",
            "admin@-example.jp",
            "<admin@example.jp>",
            "admin@example..jp",
            "山田@example.jp",
        ] {
            check_email(s, false);
        }
    }

    #[test]
    fn a_device_needs_a_mac_id_and_a_name() {
        let d = parse_new_device(br#"{"device_id": "c025a28b0a41", "name": "utm1"}"#).unwrap();
        assert_eq!(
            (d.device_id.as_str(), d.name.as_str()),
            ("c025a28b0a41", "utm1")
        );
        let bad = parse_new_device(br#"{"device_id": "C0:25:A2:8B:0A:41", "name": "utm1"}"#);
        assert!(matches!(bad, Err(BodyError::InvalidField(e)) if e.path == "$.device_id"));
        let unnamed = parse_new_device(br#"{"device_id": "c025a28b0a41"}"#);
        assert!(matches!(unnamed, Err(BodyError::InvalidField(e)) if e.path == "$.name"));
    }

    #[track_caller]
    fn check_reseller(
        scope: Scope,
        requested: Option<&str>,
        expected: Result<Option<&str>, NotOwnReseller>,
    ) {
        let requested = requested.map(|r| Id::parse(r).expect("an id"));
        let got = signing_reseller(&scope, requested);
        assert_eq!(
            got.as_ref().map(|r| r.as_ref().map(Id::as_str)),
            expected.as_ref().map(|r| *r)
        );
    }

    #[test]
    fn a_reseller_signs_customers_up_for_itself_only() {
        let own = || Scope::Reseller("r-a".into());
        check_reseller(own(), None, Ok(Some("r-a")));
        check_reseller(own(), Some("r-a"), Ok(Some("r-a")));
        check_reseller(own(), Some("r-b"), Err(NotOwnReseller));
    }

    #[test]
    fn the_operator_names_any_reseller_or_none() {
        check_reseller(Scope::Operator, None, Ok(None));
        check_reseller(Scope::Operator, Some("r-b"), Ok(Some("r-b")));
    }
}
