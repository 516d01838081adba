//! お客様情報の変更's fields (seed §7.6): each one's name in the posted form, its label,
//! the value to show (the record's, or what was typed when the form came back refused,
//! `crate::draft`) and the Japanese message of its rule when it was at fault.

use serde::{Deserialize, Serialize};

use crate::draft::Draft;

/// One field of the form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormField {
    pub name: String,
    pub label: String,
    pub value: String,
    pub kind: String,
    pub max: u32,
    pub required: bool,
    pub fault: Option<String>,
}

/// The label and the message of each field of the change form.
pub fn field_text(field: domain::profile::Field) -> (&'static str, &'static str) {
    use domain::profile::Field::*;
    match field {
        Name => ("会社名", "会社名を100文字以内で入力してください。"),
        ContactName => (
            "ご担当者 氏名",
            "ご担当者の氏名を64文字以内で入力してください。",
        ),
        Department => ("部署名", "部署名は64文字以内で入力してください。"),
        Title => ("役職", "役職は64文字以内で入力してください。"),
        Email => (
            "ご担当者 メールアドレス",
            "メールアドレスの形式で入力してください（例: admin@example.jp）。",
        ),
        Phone => (
            "電話番号",
            "電話番号を数字とハイフンで入力してください（例: 03-1234-5678）。",
        ),
        Address => ("住所", "住所を200文字以内で入力してください。"),
        AlertRecipients => (
            "アラート通知先",
            "アラート通知先のメールアドレスを1〜3件、重複なく入力してください。",
        ),
    }
}

/// The form's fields with the values to show: the draft's when the form came back.
pub fn form_fields(p: &domain::profile::Profile, draft: Option<&Draft>) -> Vec<FormField> {
    use domain::profile::Field;
    let text = |field: Field, current: &str, kind: &str, max: u32, required: bool| {
        let (label, message) = field_text(field);
        let name = field.form_name();
        FormField {
            name: name.to_owned(),
            label: label.to_owned(),
            value: draft
                .and_then(|d| d.value(name))
                .unwrap_or(current)
                .to_owned(),
            kind: kind.to_owned(),
            max,
            required,
            fault: draft.filter(|d| d.faulty(name)).map(|_| message.to_owned()),
        }
    };
    let mut fields = vec![
        text(Field::Name, &p.name, "text", 100, true),
        text(Field::ContactName, &p.contact.name, "text", 64, false),
        text(Field::Department, &p.contact.department, "text", 64, false),
        text(Field::Title, &p.contact.title, "text", 64, false),
        text(Field::Email, &p.contact.email, "email", 254, false),
        text(Field::Phone, &p.contact.phone, "tel", 20, false),
        text(Field::Address, &p.address, "text", 200, false),
    ];
    let (label, message) = field_text(Field::AlertRecipients);
    for i in 0..domain::customer::MAX_ALERT_RECIPIENTS {
        let name = format!("recipient{}", i + 1);
        let current = p.alert_recipients.get(i).map_or("", String::as_str);
        fields.push(FormField {
            label: format!("{label} {}", i + 1),
            value: draft
                .and_then(|d| d.value(&name))
                .unwrap_or(current)
                .to_owned(),
            kind: "email".to_owned(),
            max: 254,
            required: i == 0,
            fault: (i == 0 && draft.is_some_and(|d| d.faulty(Field::AlertRecipients.form_name())))
                .then(|| message.to_owned()),
            name,
        });
    }
    fields
}
