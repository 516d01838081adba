//! アカウント設定 (who is signed in, the second factor, a new password, the live
//! sessions) and the header's menu of a signed-in user.

use domain::access::Stage;
use domain::signin::SecondFactor;
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::login::NewPasswordFields;
use super::{LoadError, page_state_resource, with_state};
use crate::messages::{Csrf, Done, FormError};

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="アカウント設定" />
        <h1>"アカウント設定"</h1>
        <Done />
        <FormError />
        {with_state(|s| {
            let Some(me) = s.me else {
                return view! { <LoadError /> }.into_any();
            };
            let factor = match me.second_factor {
                Some(f @ SecondFactor::Totp) => f.label().to_owned(),
                Some(f @ SecondFactor::Sms) => {
                    format!("{}（{}）", f.label(), me.phone.clone().unwrap_or_default())
                }
                Some(SecondFactor::None) | None => "利用していません".to_owned(),
            };
            view! {
                <section class="card">
                    <h2>"ご利用者"</h2>
                    <dl class="facts">
                        <dt>"ユーザID"</dt>
                        <dd data-login-id>{me.login_id.clone()}</dd>
                        <dt>"メールアドレス"</dt>
                        <dd>{me.email.clone()}</dd>
                        <dt>"権限"</dt>
                        <dd>{me.role.clone()}</dd>
                    </dl>
                </section>
                <section class="card">
                    <h2>"2段階認証"</h2>
                    <p data-second-factor>{factor}</p>
                    <a href="/setup/2fa">"設定を変更する"</a>
                </section>
                <section class="card">
                    <h2>"パスワードの変更"</h2>
                    <form method="post" action="/auth/password" class="stack">
                        <Csrf token=s.csrf.clone() />
                        <input type="hidden" name="username" value=me.login_id autocomplete="username" />
                        <label>
                            "現在のパスワード"
                            <input
                                name="current"
                                type="password"
                                autocomplete="current-password"
                                required
                            />
                        </label>
                        <NewPasswordFields />
                        <button type="submit" class="primary">"変更する"</button>
                    </form>
                    <p class="hint">"変更すると、ほかの端末でのログインは終了します。"</p>
                </section>
                <section class="card">
                    <h2>"ログイン中の端末"</h2>
                    <SessionList />
                    <form method="post" action="/auth/sessions/end-others">
                        <Csrf token=s.csrf.clone() />
                        <button type="submit">"ほかの端末をすべてログアウトする"</button>
                    </form>
                    <p class="hint">
                        "心当たりのない端末があるときや、スマートフォンをなくしたときにお使いください。"
                    </p>
                </section>
            }
                .into_any()
        })}
    }
}

/// One live session of the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub current: bool,
    /// Asia/Tokyo.
    pub signed_in: String,
    pub last_seen: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The signed-in user's live sessions, newest first.
#[server(prefix = "/_app", endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionView>, ServerFnError> {
    super::server::my_sessions().await
}

#[component]
fn SessionList() -> impl IntoView {
    let sessions = Resource::new_blocking(|| (), |()| my_sessions());
    view! {
        <Suspense fallback=|| view! { <p>"読み込み中…"</p> }>
            {move || Suspend::new(async move {
                let list = sessions.await.unwrap_or_default();
                view! {
                    <ul class="sessions">
                        {list
                            .into_iter()
                            .map(|s| {
                                view! {
                                    <li data-current=s.current.to_string()>
                                        <strong>
                                            {if s.current { "この端末" } else { "ほかの端末" }}
                                        </strong>
                                        " ログイン "
                                        {s.signed_in}
                                        "、最終利用 "
                                        {s.last_seen}
                                        {s.ip.map(|ip| format!("（{ip}）"))}
                                        <br />
                                        <small>{s.user_agent}</small>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
            })}
        </Suspense>
    }
}

/// The header's part for a signed-in user: who, アカウント設定, ログアウト.
#[component]
pub fn UserMenu() -> impl IntoView {
    let state = page_state_resource();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let s = state.await.ok()?;
                let me = s.me.filter(|m| m.stage == Stage::Full)?;
                Some(
                    view! {
                        <nav class="user">
                            <span class="who">{format!("{}（{}）", me.login_id, me.role)}</span>
                            <a href="/account">"アカウント設定"</a>
                            {me.operator.then(|| view! { <a href="/admin/audit">"監査ログ"</a> })}
                            <form method="post" action="/auth/logout">
                                <Csrf token=s.csrf />
                                <button type="submit">"ログアウト"</button>
                            </form>
                        </nav>
                    },
                )
            })}
        </Suspense>
    }
}
