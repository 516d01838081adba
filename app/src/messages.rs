//! What the forms of the portal say back. A form handler sends the visitor back with
//! `?e=<code>` (`domain::signin::FormError`, and `&p=<codes>` for password rules); these
//! are the Japanese texts.

use domain::account::PasswordProblem;
use domain::signin::FormError as Code;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The text of `?e=<code>`; `None` for a code no form sends.
pub fn error_text(code: &str) -> Option<&'static str> {
    Some(match Code::parse(code)? {
        Code::Invalid => "ユーザIDまたはパスワードが正しくありません。",
        Code::Locked => {
            "ログインに続けて失敗したため、一時的にログインできなくなっています。15分ほどたってから、もう一度お試しください。"
        }
        Code::Codes => {
            "確認コードを続けて間違えたため、ログインをやり直してください。続けて失敗すると、一時的にログインできなくなります。"
        }
        Code::Expired => {
            "画面を開いてから時間がたったため、送信できませんでした。もう一度入力してください。"
        }
        Code::SignedOut => "ログインの有効期限が切れました。もう一度ログインしてください。",
        Code::Unavailable => {
            "ただいま処理できませんでした。しばらくしてから、もう一度お試しください。"
        }
        Code::LoginId => "ユーザIDは4〜32文字の半角英数字と . _ @ - で入力してください。",
        Code::LoginIdTmp => "「tmp-」で始まるユーザIDは、仮ユーザID用のため使えません。",
        Code::LoginIdTaken => "このユーザIDは使われています。別のユーザIDを入力してください。",
        Code::Mismatch => "確認用のパスワードが一致しません。",
        Code::Password => "このパスワードは使えません。",
        Code::Current => "現在のパスワードが正しくありません。",
        Code::Choose => "2段階認証の方法を選んでください。",
        Code::Reauth => {
            "安全のため、2段階認証の設定を変えるには現在のパスワードが必要です。パスワードを入力して、もう一度お試しください。"
        }
        Code::Code => "確認コードが正しくないか、有効期限が切れています。",
        Code::TotpExpired => {
            "QRコードの有効期限が切れました。表示し直したQRコードを読み取ってください。"
        }
        Code::Phone => "携帯電話番号の形式が正しくありません（例: 090-1234-5678）。",
        Code::PhoneRegion => {
            "この電話番号にはSMSを送れません。国内の携帯電話番号（070・080・090で始まる番号）を入力してください。"
        }
        Code::SmsStart => "先に携帯電話番号を入力して、確認コードを受け取ってください。",
        Code::SmsWait => "SMSを送ったばかりです。1分ほどたってから、もう一度お試しください。",
        Code::SmsFailed => {
            "SMSを送れませんでした。電話番号を確かめて、しばらくしてからもう一度お試しください。"
        }
        Code::SmsLimit => {
            "この1時間に送れるSMSの上限に達しました。1時間ほどたってから、もう一度お試しください。"
        }
        Code::NoteLong => "メモは500文字以内で入力してください。",
        Code::NoteChars => "メモに使用できない文字が含まれています。",
    })
}

pub fn done_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "password" => "パスワードを変更しました。ほかの端末のログインは終了しました。",
        "others" => "ほかの端末のログインをすべて終了しました。",
        "handled" => "「対応しました」として記録しました。対応済みの一覧に移りました。",
        "profile" => "お客様情報を変更しました。変更履歴に記録しました。",
        "unchanged" => "変更された項目はありませんでした。",
        "2fa_none" => {
            "2段階認証を使わない設定にしました。設定はアカウント設定からいつでも変えられます。"
        }
        "recovery_used" => {
            "リカバリーコードでログインしました。使ったコードはもう使えません。認証アプリやSMSが使えるようになったら、2段階認証を設定し直してください。"
        }
        _ => return None,
    })
}

/// The message of `?e=` (with the broken password rules of `?p=`), as an alert box.
#[component]
pub fn FormError() -> impl IntoView {
    let query = use_query_map();
    let (error, problems) = query.with_untracked(|q| {
        let error = q.get_str("e").and_then(error_text);
        let problems: Vec<&'static str> = q
            .get_str("p")
            .unwrap_or_default()
            .split(',')
            .filter_map(PasswordProblem::from_code)
            .map(PasswordProblem::message)
            .collect();
        (error, problems)
    });
    let no_problems = problems.is_empty();
    error.map(|text| {
        view! {
            <div class="error" role="alert">
                <p>{text}</p>
                <ul hidden=no_problems>
                    {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                </ul>
            </div>
        }
    })
}

/// The message of `?done=`, as a notice.
#[component]
pub fn Done() -> impl IntoView {
    let query = use_query_map();
    let text = query.with_untracked(|q| q.get_str("done").and_then(done_text));
    text.map(|t| view! { <p class="notice" role="status">{t}</p> })
}

/// The hidden anti-forgery field every form carries.
#[component]
pub fn Csrf(token: String) -> impl IntoView {
    view! { <input type="hidden" name="csrf" value=token /> }
}
