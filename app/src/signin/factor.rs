//! The pages of the second factor: choosing one (認証アプリ, SMS or none), setting up an
//! authenticator (its QR code) or a phone, and the recovery codes shown once after.

use domain::access::Stage;
use domain::signin::SecondFactor;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::{loaded, with_state};
use crate::messages::{Csrf, FormError};

/// A new authenticator's QR code and key (kept unconfirmed until a code is given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuthenticator {
    pub csrf: String,
    pub qr_svg: String,
    pub manual_key: String,
}

#[server(prefix = "/_app", endpoint = "totp_setup")]
pub async fn totp_setup() -> Result<NewAuthenticator, ServerFnError> {
    super::server::totp_setup().await
}

/// The recovery codes just made, shown once: empty when they were shown already.
#[server(prefix = "/_app", endpoint = "recovery_codes")]
pub async fn recovery_codes() -> Result<Vec<String>, ServerFnError> {
    super::server::recovery_codes().await
}

#[component]
pub fn ChoosePage() -> impl IntoView {
    view! {
        <Title text="2段階認証の設定" />
        <section class="card narrow">
            <h1>"2段階認証の設定"</h1>
            <p>
                "ログインのときに、パスワードに加えて確認コードを入力する方法です。パスワードが漏れても、第三者のログインを防げます。"
            </p>
            <FormError />
            {with_state(|s| {
                let signed_in = s.me.as_ref().is_some_and(|m| m.stage == Stage::Full);
                let current = s.me.and_then(|m| m.second_factor);
                view! {
                    <form method="post" action="/auth/2fa" class="stack">
                        <Csrf token=s.csrf />
                        <fieldset>
                            <legend>"確認コードの受け取り方"</legend>
                            <label class="choice">
                                <input
                                    type="radio"
                                    name="method"
                                    value=SecondFactor::Totp.as_str()
                                    checked=current != Some(SecondFactor::Sms)
                                />
                                <span>
                                    <strong>"認証アプリ（おすすめ）"</strong>
                                    <small>
                                        "スマートフォンの認証アプリ（Google Authenticator など）に表示されるコードを使います。"
                                    </small>
                                </span>
                            </label>
                            <label class="choice">
                                <input
                                    type="radio"
                                    name="method"
                                    value=SecondFactor::Sms.as_str()
                                    checked=current == Some(SecondFactor::Sms)
                                />
                                <span>
                                    <strong>"SMS"</strong>
                                    <small>"携帯電話にSMSで届くコードを使います。"</small>
                                </span>
                            </label>
                            <label class="choice">
                                <input type="radio" name="method" value=SecondFactor::None.as_str() />
                                <span>
                                    <strong>"利用しない"</strong>
                                    <small>"パスワードだけでログインします（おすすめしません）。"</small>
                                </span>
                            </label>
                        </fieldset>
                        {signed_in
                            .then(|| {
                                view! {
                                    <label>
                                        "現在のパスワード"
                                        <input
                                            name="password"
                                            type="password"
                                            autocomplete="current-password"
                                        />
                                        <small>
                                            "ログインしてから10分以上たっているときは、確認のために必要です。"
                                        </small>
                                    </label>
                                }
                            })}
                        <button type="submit" class="primary">"次へ"</button>
                    </form>
                }
            })}
        </section>
    }
}

#[component]
pub fn TotpPage() -> impl IntoView {
    let setup = Resource::new_blocking(|| (), |()| totp_setup());
    view! {
        <Title text="認証アプリの設定" />
        <section class="card narrow">
            <h1>"認証アプリの設定"</h1>
            <FormError />
            {loaded(setup, |s| {
                view! {
                    <ol class="steps">
                        <li>
                            "スマートフォンの認証アプリで、次のQRコードを読み取ってください。"
                            <div class="qr" inner_html=s.qr_svg></div>
                        </li>
                        <li>
                            "読み取れない場合は、アプリに次のキーを入力してください（種類は「時間ベース」）。"
                            <p>
                                <code class="key" data-totp-key>
                                    {s.manual_key}
                                </code>
                            </p>
                        </li>
                        <li>"アプリに表示された6桁のコードを入力して、設定を終えてください。"</li>
                    </ol>
                    <form method="post" action="/auth/totp" class="stack">
                        <Csrf token=s.csrf />
                        <SixDigitCode />
                        <button type="submit" class="primary">"設定する"</button>
                    </form>
                    <p>
                        <a href="/setup/2fa">"ほかの方法を選ぶ"</a>
                    </p>
                }
            })}
        </section>
    }
}

/// The field for a six-digit code from an authenticator app or an SMS.
#[component]
fn SixDigitCode() -> impl IntoView {
    view! {
        <label>
            "確認コード（6桁）"
            <input
                name="code"
                inputmode="numeric"
                autocomplete="one-time-code"
                required
                pattern="[0-9 ]{6,7}"
            />
        </label>
    }
}

#[component]
pub fn SmsPage() -> impl IntoView {
    let sent = use_query_map().with_untracked(|q| q.get_str("sent").is_some());
    view! {
        <Title text="SMS認証の設定" />
        <section class="card narrow">
            <h1>"SMS認証の設定"</h1>
            <FormError />
            {with_state(move |s| {
                view! {
                    <form method="post" action="/auth/sms/send" class="stack" hidden=sent>
                        <Csrf token=s.csrf.clone() />
                        <label>
                            "携帯電話番号"
                            <input
                                name="phone"
                                type="tel"
                                autocomplete="tel"
                                required
                                placeholder="090-1234-5678"
                            />
                            <small>"この番号に、確認コードをSMSでお送りします。"</small>
                        </label>
                        <button type="submit" class="primary">"確認コードを送る"</button>
                    </form>
                    <form method="post" action="/auth/sms" class="stack" hidden=!sent>
                        <Csrf token=s.csrf />
                        <p class="notice" role="status">"確認コードをSMSでお送りしました。"</p>
                        <SixDigitCode />
                        <button type="submit" class="primary">"設定する"</button>
                        <a href="/setup/sms">"電話番号を入力し直す"</a>
                    </form>
                    <p>
                        <a href="/setup/2fa">"ほかの方法を選ぶ"</a>
                    </p>
                }
            })}
        </section>
    }
}

#[component]
pub fn RecoveryPage() -> impl IntoView {
    let codes = Resource::new_blocking(|| (), |()| recovery_codes());
    view! {
        <Title text="リカバリーコード" />
        <section class="card narrow">
            <h1>"2段階認証を設定しました"</h1>
            {loaded(codes, |list| {
                if list.is_empty() {
                    return view! { <p>"リカバリーコードは表示済みです。"</p> }.into_any();
                }
                view! {
                    <p>
                        "スマートフォンをなくしたときなどに、確認コードの代わりに使えるリカバリーコードです。1つのコードは1回だけ使えます。"
                    </p>
                    <p>
                        <strong>
                            "この画面は一度しか表示されません。印刷するか書き写して、安全な場所に保管してください。"
                        </strong>
                    </p>
                    <ul class="codes">
                        {list
                            .into_iter()
                            .map(|c| view! { <li><code data-recovery-code>{c}</code></li> })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            })}
            <p>
                <a class="button primary" href="/">"ポータルへ進む"</a>
            </p>
        </section>
    }
}
