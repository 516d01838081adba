//! What a customer may change about its contract (seed §7.6; api-v1 `PATCH
//! /api/v1/admin/customers/{id}`): the company name, the contact person (name, department,
//! title, mail address), the address, the phone number and the alert recipients (1–3).
//! A change names only the fields it changes; applied to the current [`Profile`] it
//! yields the new profile and, for the history, each field that really changed with its
//! old and new value. Department and title may be cleared; the other fields, once given,
//! may only be replaced.

use serde_json::Value;

use crate::customer::{Email, MAX_ALERT_RECIPIENTS};
use crate::fields::{BodyError, FieldError, Obj, is_bidi_control, json_body};

/// The contact person of a customer, as the application gave it. Empty: not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub department: String,
    pub title: String,
    pub email: String,
    pub phone: String,
}

/// A customer's changeable record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub contact: Contact,
    pub address: String,
    pub alert_recipients: Vec<String>,
}

/// One changeable field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    ContactName,
    Department,
    Title,
    Email,
    Phone,
    Address,
    AlertRecipients,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Name,
        Field::ContactName,
        Field::Department,
        Field::Title,
        Field::Email,
        Field::Phone,
        Field::Address,
        Field::AlertRecipients,
    ];

    /// The field's name in api-v1's record (`contact.email`), also its name in the
    /// history.
    pub fn key(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::ContactName => "contact.name",
            Field::Department => "contact.department",
            Field::Title => "contact.title",
            Field::Email => "contact.email",
            Field::Phone => "contact.phone",
            Field::Address => "address",
            Field::AlertRecipients => "alert_recipients",
        }
    }

    pub fn parse_key(key: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key() == key)
    }

    /// The longest value, in characters (a recipient list: per address).
    fn max_chars(self) -> usize {
        match self {
            Field::Name => 100,
            Field::Address => 200,
            Field::Phone => 20,
            Field::Email | Field::AlertRecipients => 254,
            Field::ContactName | Field::Department | Field::Title => 64,
        }
    }

    /// Whether the field may be emptied.
    fn may_be_empty(self) -> bool {
        matches!(self, Field::Department | Field::Title)
    }

    /// `raw` as the field's value (trimmed), or the rule it breaks.
    pub fn parse(self, raw: &str) -> Result<String, &'static str> {
        let s = raw.trim();
        if s.is_empty() {
            return if self.may_be_empty() {
                Ok(String::new())
            } else {
                Err("must not be empty")
            };
        }
        if s.chars().count() > self.max_chars() {
            return Err("is too long");
        }
        if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return Err("must not contain control or bidirectional formatting characters");
        }
        match self {
            Field::Email | Field::AlertRecipients => Email::parse(s).map(|e| e.as_str().to_owned()),
            Field::Phone => phone(s).map(|()| s.to_owned()),
            _ => Ok(s.to_owned()),
        }
    }

    fn current(self, p: &Profile) -> String {
        match self {
            Field::Name => p.name.clone(),
            Field::ContactName => p.contact.name.clone(),
            Field::Department => p.contact.department.clone(),
            Field::Title => p.contact.title.clone(),
            Field::Email => p.contact.email.clone(),
            Field::Phone => p.contact.phone.clone(),
            Field::Address => p.address.clone(),
            Field::AlertRecipients => p.alert_recipients.join(", "),
        }
    }

    fn set(self, p: &mut Profile, value: &str) {
        let slot = match self {
            Field::Name => &mut p.name,
            Field::ContactName => &mut p.contact.name,
            Field::Department => &mut p.contact.department,
            Field::Title => &mut p.contact.title,
            Field::Email => &mut p.contact.email,
            Field::Phone => &mut p.contact.phone,
            Field::Address => &mut p.address,
            Field::AlertRecipients => {
                p.alert_recipients = value.split(", ").map(str::to_owned).collect();
                return;
            }
        };
        *slot = value.to_owned();
    }
}

/// A phone number as people write it: digits with optional hyphens, spaces and
/// parentheses, an optional leading `+`, 10 to 15 digits (a Japanese landline has 10).
fn phone(s: &str) -> Result<(), &'static str> {
    const BAD: &str = "must be a phone number such as 03-1234-5678";
    let body = s.strip_prefix('+').unwrap_or(s);
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')'))
    {
        return Err(BAD);
    }
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if (10..=15).contains(&digits) {
        Ok(())
    } else {
        Err(BAD)
    }
}

/// The alert recipients as given: 1–3 distinct addresses (`Err`: the position at fault,
/// `None` for the list, and the rule).
pub fn recipients(items: &[&str]) -> Result<Vec<String>, (Option<usize>, &'static str)> {
    if items.is_empty() {
        return Err((None, "must list 1-3 addresses"));
    }
    if items.len() > MAX_ALERT_RECIPIENTS {
        return Err((None, "must list 1-3 addresses"));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let email = Field::AlertRecipients
            .parse(item)
            .map_err(|m| (Some(i), m))?;
        if out.iter().any(|e| e.eq_ignore_ascii_case(&email)) {
            return Err((Some(i), "is listed twice"));
        }
        out.push(email);
    }
    Ok(out)
}

/// A change: the new value of each field it names, already valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    values: Vec<(Field, String)>,
}

/// One field that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: Field,
    pub old: String,
    pub new: String,
}

impl Change {
    /// Sets `field` to `value`, which `Field::parse` (or [`recipients`], joined by ", ")
    /// accepted.
    pub fn set(&mut self, field: Field, value: String) {
        self.values.retain(|(f, _)| *f != field);
        self.values.push((field, value));
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `current` with the change made, and the fields whose value it changed, in
    /// [`Field::ALL`]'s order. A field that may not be emptied and is empty now stays so
    /// when the change leaves it empty (a form posts every field).
    pub fn apply(&self, current: &Profile) -> (Profile, Vec<FieldChange>) {
        let mut next = current.clone();
        let mut changes = Vec::new();
        for field in Field::ALL {
            let Some((_, new)) = self.values.iter().find(|(f, _)| *f == field) else {
                continue;
            };
            let old = field.current(current);
            if *new != old {
                field.set(&mut next, new);
                changes.push(FieldChange {
                    field,
                    old,
                    new: new.clone(),
                });
            }
        }
        (next, changes)
    }
}

/// The contact person and address a sign-up gives (each optional, empty when not given).
pub(crate) fn given(obj: &Obj) -> Result<(Contact, String), FieldError> {
    let read = |obj: &Obj, key: &str, f: Field| -> Result<String, FieldError> {
        match obj.opt_str(key)? {
            Some(s) => f.parse(s).map_err(|m| obj.invalid(key, m)),
            None => Ok(String::new()),
        }
    };
    let mut contact = Contact::default();
    if let Some(c) = obj.opt_obj("contact")? {
        contact = Contact {
            name: read(&c, "name", Field::ContactName)?,
            department: read(&c, "department", Field::Department)?,
            title: read(&c, "title", Field::Title)?,
            email: read(&c, "email", Field::Email)?,
            phone: read(&c, "phone", Field::Phone)?,
        };
    }
    Ok((contact, read(obj, "address", Field::Address)?))
}

/// The body of `PATCH /api/v1/admin/customers/{id}`: any of `name`, `contact` (any of
/// `name`, `department`, `title`, `email`, `phone`), `address`, `alert_recipients`.
pub fn parse_patch(body: &[u8]) -> Result<Change, BodyError> {
    let value = json_body(body)?;
    let obj = Obj::new("$", &value)?;
    let mut change = Change::default();
    let mut field = |obj: &Obj, key: &str, f: Field| -> Result<(), FieldError> {
        if let Some(s) = obj.opt_str(key)? {
            let v = f.parse(s).map_err(|m| obj.invalid(key, m))?;
            change.set(f, v);
        }
        Ok(())
    };
    field(&obj, "name", Field::Name)?;
    field(&obj, "address", Field::Address)?;
    if let Some(contact) = obj.opt_obj("contact")? {
        field(&contact, "name", Field::ContactName)?;
        field(&contact, "department", Field::Department)?;
        field(&contact, "title", Field::Title)?;
        field(&contact, "email", Field::Email)?;
        field(&contact, "phone", Field::Phone)?;
    }
    if obj.get("alert_recipients").is_some() {
        let items = obj.array("alert_recipients")?;
        let mut texts = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => texts.push(s.as_str()),
                _ => {
                    return Err(obj
                        .invalid(&format!("alert_recipients[{i}]"), "must be a string")
                        .into());
                }
            }
        }
        let list = recipients(&texts).map_err(|(at, m)| match at {
            Some(i) => obj.invalid(&format!("alert_recipients[{i}]"), m),
            None => obj.invalid("alert_recipients", m),
        })?;
        change.set(Field::AlertRecipients, list.join(", "));
    }
    if change.is_empty() {
        return Err(obj.invalid("name", "no changeable field is given").into());
    }
    Ok(change)
}

/// The change form's fields as posted (the console's お客様情報の変更): every field,
/// the recipients as three boxes of which empty ones are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormValues {
    pub name: String,
    pub contact_name: String,
    pub department: String,
    pub title: String,
    pub email: String,
    pub phone: String,
    pub address: String,
    pub recipients: [String; MAX_ALERT_RECIPIENTS],
}

impl Field {
    /// The field's name in the console's form (`recipient1`…`recipient3` for the list).
    pub fn form_name(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::ContactName => "contact_name",
            Field::Department => "department",
            Field::Title => "title",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Address => "address",
            Field::AlertRecipients => "recipients",
        }
    }
}

/// The change a posted form asks of `current`, or every field at fault. A field left
/// empty that is empty now (never given) is no change; one that must not be emptied and
/// is emptied is at fault.
pub fn parse_form(current: &Profile, form: &FormValues) -> Result<Change, Vec<Field>> {
    let mut change = Change::default();
    let mut faults = Vec::new();
    let texts = [
        (Field::Name, &form.name),
        (Field::ContactName, &form.contact_name),
        (Field::Department, &form.department),
        (Field::Title, &form.title),
        (Field::Email, &form.email),
        (Field::Phone, &form.phone),
        (Field::Address, &form.address),
    ];
    for (field, raw) in texts {
        if raw.trim().is_empty() && field.current(current).is_empty() {
            continue;
        }
        match field.parse(raw) {
            Ok(v) => change.set(field, v),
            Err(_) => faults.push(field),
        }
    }
    let given: Vec<&str> = form
        .recipients
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .collect();
    match recipients(&given) {
        Ok(list) => change.set(Field::AlertRecipients, list.join(", ")),
        Err(_) => faults.push(Field::AlertRecipients),
    }
    if faults.is_empty() {
        Ok(change)
    } else {
        Err(faults)
    }
}

#[cfg(test)]
mod form_tests {
    use super::*;

    fn filled() -> FormValues {
        FormValues {
            name: "株式会社サンプル".into(),
            contact_name: "見守 太郎".into(),
            email: "taro@example.jp".into(),
            phone: "03-1234-5678".into(),
            address: "東京都千代田区1-1-1".into(),
            recipients: [
                "a@example.jp".into(),
                String::new(),
                " b@example.jp ".into(),
            ],
            ..FormValues::default()
        }
    }

    #[test]
    fn a_filled_form_changes_what_differs_and_drops_empty_boxes() {
        let current = Profile {
            name: "株式会社サンプル".into(),
            ..Profile::default()
        };
        let (next, changes) = parse_form(&current, &filled()).unwrap().apply(&current);
        assert_eq!(next.alert_recipients, ["a@example.jp", "b@example.jp"]);
        let fields: Vec<Field> = changes.iter().map(|c| c.field).collect();
        assert_eq!(
            fields,
            [
                Field::ContactName,
                Field::Email,
                Field::Phone,
                Field::Address,
                Field::AlertRecipients
            ]
        );
    }

    #[test]
    fn every_field_at_fault_is_named_and_never_given_ones_may_stay_empty() {
        let current = Profile {
            name: "株式会社サンプル".into(),
            contact: Contact {
                email: "taro@example.jp".into(),
                ..Contact::default()
            },
            ..Profile::default()
        };
        let form = FormValues {
            name: String::new(),
            email: String::new(),
            phone: "12".into(),
            recipients: ["a@x.jp".into(), "A@x.jp".into(), String::new()],
            ..FormValues::default()
        };
        assert_eq!(
            parse_form(&current, &form),
            Err(vec![
                Field::Name,
                Field::Email,
                Field::Phone,
                Field::AlertRecipients
            ])
        );
        let none = FormValues {
            name: "株式会社サンプル".into(),
            email: "taro@example.jp".into(),
            ..FormValues::default()
        };
        assert_eq!(
            parse_form(&current, &none),
            Err(vec![Field::AlertRecipients])
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn patch(v: Value) -> Result<Change, BodyError> {
        parse_patch(v.to_string().as_bytes())
    }

    fn path_of(v: Value) -> String {
        match patch(v) {
            Err(BodyError::InvalidField(e)) => e.path,
            other => panic!("expected invalid_field, got {other:?}"),
        }
    }

    fn current() -> Profile {
        Profile {
            name: "株式会社サンプル".into(),
            contact: Contact {
                name: "見守 太郎".into(),
                department: "総務部".into(),
                title: "課長".into(),
                email: "taro@example.jp".into(),
                phone: "03-1234-5678".into(),
            },
            address: "東京都千代田区1-1-1".into(),
            alert_recipients: vec!["a@example.jp".into()],
        }
    }

    #[test]
    fn only_the_fields_that_really_change_are_recorded_old_and_new() {
        let change = patch(
            json!({"name": "株式会社サンプル", "contact": {"title": "部長"},
            "alert_recipients": ["a@example.jp", "b@example.jp"]}),
        )
        .unwrap();
        let (next, changes) = change.apply(&current());
        assert_eq!(next.contact.title, "部長");
        assert_eq!(next.alert_recipients, ["a@example.jp", "b@example.jp"]);
        assert_eq!(
            changes,
            [
                FieldChange {
                    field: Field::Title,
                    old: "課長".into(),
                    new: "部長".into()
                },
                FieldChange {
                    field: Field::AlertRecipients,
                    old: "a@example.jp".into(),
                    new: "a@example.jp, b@example.jp".into()
                },
            ]
        );
    }

    #[test]
    fn each_bad_field_is_refused_at_its_path() {
        assert_eq!(path_of(json!({"name": ""})), "$.name");
        assert_eq!(path_of(json!({"name": "a".repeat(101)})), "$.name");
        assert_eq!(path_of(json!({"name": "悪\u{202E}意"})), "$.name");
        assert_eq!(
            path_of(json!({"contact": {"email": "nope"}})),
            "$.contact.email"
        );
        assert_eq!(
            path_of(json!({"contact": {"phone": "12-34"}})),
            "$.contact.phone"
        );
        assert_eq!(
            path_of(json!({"contact": {"phone": "03-1234-567a"}})),
            "$.contact.phone"
        );
        assert_eq!(path_of(json!({"contact": "x"})), "$.contact");
        assert_eq!(path_of(json!({"address": 5})), "$.address");
        assert_eq!(
            path_of(json!({"alert_recipients": []})),
            "$.alert_recipients"
        );
        assert_eq!(
            path_of(json!({"alert_recipients": ["a@x.jp", "b@x.jp", "c@x.jp", "d@x.jp"]})),
            "$.alert_recipients"
        );
        assert_eq!(
            path_of(json!({"alert_recipients": ["a@x.jp", "A@X.jp"]})),
            "$.alert_recipients[1]"
        );
        assert_eq!(
            path_of(json!({"alert_recipients": ["a@x.jp", 3]})),
            "$.alert_recipients[1]"
        );
        assert_eq!(path_of(json!({})), "$.name");
        assert!(matches!(patch(json!([])), Err(BodyError::InvalidField(_))));
        assert_eq!(parse_patch(b"{"), Err(BodyError::InvalidJson));
    }

    #[test]
    fn department_and_title_may_be_cleared_the_others_not() {
        let (next, changes) = patch(json!({"contact": {"department": "", "title": " "}}))
            .unwrap()
            .apply(&current());
        assert_eq!(
            (
                next.contact.department.as_str(),
                next.contact.title.as_str()
            ),
            ("", "")
        );
        assert_eq!(changes.len(), 2);
        for f in [
            Field::Name,
            Field::ContactName,
            Field::Email,
            Field::Phone,
            Field::Address,
        ] {
            assert!(f.parse("  ").is_err(), "{f:?}");
        }
    }

    #[test]
    fn phone_numbers_as_people_write_them() {
        for ok in [
            "03-1234-5678",
            "0312345678",
            "+81 3 1234 5678",
            "(03) 1234-5678",
            "090-1234-5678",
        ] {
            assert_eq!(Field::Phone.parse(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "1234-5678",
            "03-1234-5678 内線12",
            "++81312345678",
            "0120-１２３-４５６",
        ] {
            assert!(Field::Phone.parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_name_their_fields_both_ways() {
        for f in Field::ALL {
            assert_eq!(Field::parse_key(f.key()), Some(f));
        }
        assert_eq!(Field::parse_key("contact"), None);
    }
}
