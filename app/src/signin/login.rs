//! The pages of signing in: ログイン (login id and password), 初回設定 (own login id and
//! password after temporary credentials) and the second step (a code, or a recovery
//! code).

use domain::signin::SecondFactor;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::with_state;
use crate::messages::{Csrf, FormError};

#[component]
pub fn LoginPage() -> impl IntoView {
    let bye = use_query_map().with_untracked(|q| q.get_str("bye").is_some());
    view! {
        <Title text="ログイン" />
        <section class="card narrow">
            <h1>"ログイン"</h1>
            <p class="notice" role="status" hidden=!bye>"ログアウトしました。"</p>
            <FormError />
            {with_state(|s| {
                view! {
                    <form method="post" action="/auth/login" class="stack">
                        <Csrf token=s.csrf />
                        <label>
                            "ユーザID"
                            <input name="login_id" autocomplete="username" required autofocus />
                        </label>
                        <label>
                            "パスワード"
                            <input
                                name="password"
                                type="password"
                                autocomplete="current-password"
                                required
                            />
                        </label>
                        <button type="submit" class="primary">"ログイン"</button>
                    </form>
                }
            })}
            <p class="hint">
                "初めてログインするときは、メールでお知らせした仮ユーザIDと仮パスワードを入力してください。"
            </p>
        </section>
    }
}

/// A new password and its confirmation (first sign-in, password change), with the
/// length the domain's rules ask for; the server checks every rule again.
#[component]
pub(super) fn NewPasswordFields() -> impl IntoView {
    let min = domain::account::MIN_PASSWORD_CHARS;
    view! {
        <label>
            "新しいパスワード"
            <input
                name="password"
                type="password"
                autocomplete="new-password"
                required
                minlength=min.to_string()
            />
            <small>
                {format!("{min}文字以上。ユーザIDを含むもの、よく使われるものは使えません。")}
            </small>
        </label>
        <label>
            "新しいパスワード（確認）"
            <input
                name="password_confirm"
                type="password"
                autocomplete="new-password"
                required
                minlength=min.to_string()
            />
        </label>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    view! {
        <Title text="初回設定" />
        <section class="card narrow">
            <h1>"ユーザIDとパスワードの設定"</h1>
            <p>
                "これからログインに使うユーザIDとパスワードを決めてください。仮ユーザIDと仮パスワードは使えなくなります。"
            </p>
            <FormError />
            {with_state(|s| {
                view! {
                    <form method="post" action="/auth/setup" class="stack">
                        <Csrf token=s.csrf />
                        <label>
                            "新しいユーザID"
                            <input
                                name="login_id"
                                autocomplete="username"
                                required
                                minlength="4"
                                maxlength="32"
                                pattern="[A-Za-z0-9._@\\-]{4,32}"
                            />
                            <small>"4〜32文字。半角英数字と . _ @ - が使えます。"</small>
                        </label>
                        <NewPasswordFields />
                        <button type="submit" class="primary">"設定する"</button>
                    </form>
                }
            })}
        </section>
    }
}

#[component]
pub fn VerifyPage() -> impl IntoView {
    let sent = use_query_map().with_untracked(|q| q.get_str("sent").is_some());
    view! {
        <Title text="2段階認証" />
        <section class="card narrow">
            <h1>"2段階認証"</h1>
            <FormError />
            <p class="notice" role="status" hidden=!sent>"確認コードをSMSでお送りしました。"</p>
            {with_state(|s| {
                let sms = s.me.as_ref().and_then(|m| m.second_factor) == Some(SecondFactor::Sms);
                let phone = s.me.as_ref().and_then(|m| m.phone.clone()).unwrap_or_default();
                let how = if sms {
                    format!("{phone} にSMSで届いた6桁の確認コードを入力してください。")
                } else {
                    "認証アプリに表示されている6桁の確認コードを入力してください。".to_owned()
                };
                view! {
                    <p>{how}</p>
                    <form method="post" action="/auth/verify" class="stack">
                        <Csrf token=s.csrf.clone() />
                        <label>
                            "確認コード"
                            <input
                                name="code"
                                autocomplete="one-time-code"
                                required
                                autofocus
                            />
                        </label>
                        <button type="submit" class="primary">"ログイン"</button>
                    </form>
                    <form method="post" action="/auth/verify/resend" hidden=!sms>
                        <Csrf token=s.csrf />
                        <button type="submit">"確認コードをもう一度送る"</button>
                    </form>
                    <p class="hint">
                        "スマートフォンが使えないときは、確認コードの代わりにリカバリーコードを入力できます。"
                    </p>
                }
            })}
        </section>
    }
}
