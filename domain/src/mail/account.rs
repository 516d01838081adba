//! The mail that starts a portal account: its temporary login id and password, which go
//! by mail only.

use chrono::{DateTime, Utc};

use super::{Block, FIELD_MAX, Mail, link, opening, render, shown, text};
use crate::jst;

/// The mail that hands a new portal account its temporary login id and password (seed
/// §3.5). They go by mail only, never in an API answer. `to_whom` is the company (or the
/// reseller / operator) the account belongs to.
pub fn temp_credentials(
    to_whom: &str,
    login_id: &str,
    password: &str,
    expires: DateTime<Utc>,
    portal: &str,
) -> Mail {
    let subject = "【見守りサービス】ポータルの仮ユーザIDと仮パスワードのお知らせ".to_owned();
    let login = format!("{}/login", portal.trim_end_matches('/'));
    let mut blocks = opening(
        to_whom,
        vec![text(
            "セキュリティサービスポータルにログインするための、仮ユーザIDと仮パスワードをお送りします。",
        )],
    );
    blocks.push(Block::Table {
        title: None,
        rows: vec![
            ("仮ユーザID", text(shown(login_id, FIELD_MAX))),
            ("仮パスワード", text(shown(password, FIELD_MAX))),
            ("有効期限", text(jst::format_minute(expires))),
            ("ログインページ", link(login)),
        ],
    });
    blocks.push(Block::Section {
        heading: "初回ログインの手順",
        lines: Vec::new(),
        bullets: vec![
            text("ログインページで、仮ユーザIDと仮パスワードを入力します。仮パスワードは、ハイフン（-）も含めてそのまま入力してください。"),
            text("これから使うユーザIDとパスワードを決めて登録します。仮ユーザIDと仮パスワードは使えなくなります。"),
            text("2段階認証（認証アプリまたはSMS）を使うかどうかを選びます。安全のため、認証アプリのご利用をおすすめします。"),
        ],
    });
    blocks.push(Block::Para(vec![
        text("仮パスワードは有効期限までにご利用ください。期限を過ぎた場合や、このメールに心当たりがない場合は、相談窓口へご連絡ください。"),
        text("このメールは、初回ログインが済んだら削除してください。"),
    ]));
    blocks.push(account_footer(portal));
    render(subject, &blocks)
}

fn account_footer(portal: &str) -> Block {
    Block::Footer(vec![
        text(
            "このメールは、見守りサービスから自動で送信しています。返信いただいてもお答えできませんので、ご用件は相談窓口へお寄せください。",
        ),
        link(portal.trim_end_matches('/').to_owned()),
    ])
}
