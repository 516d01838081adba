//! The sign-in pages (seed §3.5): ログイン, 初回設定, 2段階認証の選択 and setup (認証アプリ /
//! SMS), the second step at sign-in, recovery codes, and アカウント設定. Every form is a
//! plain HTML form posted to `/auth/*` (functions' `signin`), so it works the same with
//! and without JavaScript; the server answers with a redirect, and problems come back as
//! `?e=` (see `messages`).

use domain::access::Stage;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::messages::{Csrf, Done, FormError};

/// The signed-in (or signing-in) user, as pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub login_id: String,
    pub email: String,
    /// 運営事業者 / 販売代理店 / お客様管理者.
    pub role: String,
    pub staff: bool,
    pub operator: bool,
    /// `totp`, `sms`, `none`, or `None` before the user chose.
    pub second_factor: Option<String>,
    /// The SMS number, masked.
    pub phone: Option<String>,
    /// How far the sign-in has come.
    pub stage: Stage,
}

/// What every page with a form needs: the anti-forgery token, and who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormContext {
    pub csrf: String,
    pub me: Option<Me>,
}

#[server(prefix = "/_app", endpoint = "page_state")]
pub async fn page_state() -> Result<FormContext, ServerFnError> {
    let visitor = crate::tenant::visitor()?;
    Ok(FormContext {
        csrf: visitor.csrf,
        me: visitor.caller.map(|c| Me {
            role: c.scope().label().to_owned(),
            staff: c.scope().is_staff(),
            operator: *c.scope() == domain::access::Scope::Operator,
            login_id: c.login_id,
            email: c.email,
            second_factor: c.second_factor,
            phone: c.sms_phone.as_deref().map(domain::onetime::mask_phone),
            stage: c.stage,
        }),
    })
}

/// A new authenticator's QR code and key (kept unconfirmed until a code is given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuthenticator {
    pub csrf: String,
    pub qr_svg: String,
    pub manual_key: String,
}

#[server(prefix = "/_app", endpoint = "totp_setup")]
pub async fn totp_setup() -> Result<NewAuthenticator, ServerFnError> {
    server::totp_setup().await
}

/// The recovery codes just made, shown once: empty when they were shown already.
#[server(prefix = "/_app", endpoint = "recovery_codes")]
pub async fn recovery_codes() -> Result<Vec<String>, ServerFnError> {
    server::recovery_codes().await
}

fn page_state_resource() -> Resource<Result<FormContext, ServerFnError>> {
    Resource::new_blocking(|| (), |()| page_state())
}

/// Renders `f` with the page state once it is there.
fn with_state<V: IntoView + 'static>(
    f: impl Fn(FormContext) -> V + Send + Sync + Clone + 'static,
) -> impl IntoView {
    loaded(page_state_resource(), f)
}

/// Renders `f` with what `res` loads once it is there ("読み込み中…" until then), or
/// `LoadError` when it fails.
pub(crate) fn loaded<T, V>(
    res: Resource<Result<T, ServerFnError>>,
    f: impl Fn(T) -> V + Send + Sync + Clone + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p>"読み込み中…"</p> }>
            {
                let f = f.clone();
                move || {
                    let f = f.clone();
                    Suspend::new(async move {
                        match res.await {
                            Ok(s) => f(s).into_any(),
                            Err(_) => view! { <LoadError /> }.into_any(),
                        }
                    })
                }
            }
        </Suspense>
    }
}

#[component]
pub fn LoadError() -> impl IntoView {
    view! {
        <p class="error" role="alert">
            "ページを表示できませんでした。"<a href="/login">"ログイン"</a>"からやり直してください。"
        </p>
    }
}

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
fn NewPasswordFields() -> impl IntoView {
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
                                    value="totp"
                                    checked=current.as_deref() != Some("sms")
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
                                    value="sms"
                                    checked=current.as_deref() == Some("sms")
                                />
                                <span>
                                    <strong>"SMS"</strong>
                                    <small>"携帯電話にSMSで届くコードを使います。"</small>
                                </span>
                            </label>
                            <label class="choice">
                                <input type="radio" name="method" value="none" />
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
                let sms = s.me.as_ref().and_then(|m| m.second_factor.as_deref()) == Some("sms");
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
            let factor = match me.second_factor.as_deref() {
                Some(f @ "totp") => domain::access::factor_label(f).to_owned(),
                Some(f @ "sms") => format!(
                    "{}（{}）",
                    domain::access::factor_label(f),
                    me.phone.clone().unwrap_or_default()
                ),
                _ => "利用していません".to_owned(),
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
    server::my_sessions().await
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

#[cfg(feature = "ssr")]
mod server {
    use chrono::Utc;
    use domain::access::Stage;
    use domain::totp;
    use leptos::prelude::*;
    use serde::Deserialize;

    use super::NewAuthenticator;
    use crate::tenant::{caller_at, signed_in, with_env};

    #[derive(Deserialize)]
    struct SessionRow {
        id_hash: String,
        created_at: f64,
        last_seen_at: f64,
        ip: Option<String>,
        user_agent: Option<String>,
    }

    pub async fn my_sessions() -> Result<Vec<super::SessionView>, ServerFnError> {
        let (caller, _) = signed_in()?;
        let account = caller.account_id.clone();
        let rows: Vec<SessionRow> = with_env("sessions", |env| async move {
            Ok(env
                .d1("DB")?
                .prepare(
                    "SELECT id_hash, created_at, last_seen_at, ip, user_agent FROM sessions \
                     WHERE account_id = ?1 AND stage = 'full' AND revoked_at IS NULL \
                       AND expires_at > ?2 ORDER BY last_seen_at DESC LIMIT 20",
                )
                .bind(&[account.as_str().into(), crate::d1::ms(Utc::now())])?
                .all()
                .await?
                .results()?)
        })
        .await?;
        let shown = |ms: f64| {
            crate::d1::time(ms)
                .map(domain::jst::format_minute)
                .unwrap_or_default()
        };
        Ok(rows
            .into_iter()
            .map(|r| super::SessionView {
                current: r.id_hash == caller.session,
                signed_in: shown(r.created_at),
                last_seen: shown(r.last_seen_at),
                ip: r.ip,
                user_agent: r.user_agent,
            })
            .collect())
    }

    #[derive(Deserialize)]
    struct Pending {
        totp_pending: Option<String>,
        totp_pending_at: Option<f64>,
    }

    pub async fn totp_setup() -> Result<NewAuthenticator, ServerFnError> {
        let (caller, csrf) = caller_at(&[Stage::Choose, Stage::Full])?;
        let mut fresh = [0u8; totp::SECRET_BYTES];
        getrandom::fill(&mut fresh).map_err(|e| ServerFnError::new(e.to_string()))?;
        let account = caller.account_id.clone();
        let seal_key = crate::tenant::config()
            .map_err(|e| ServerFnError::new(e.to_string()))?
            .totp_seal_key
            .clone();
        let secret = with_env("new authenticator", |env| async move {
            let db = env.d1("DB")?;
            let now = Utc::now();
            let pending = db
                .prepare("SELECT totp_pending, totp_pending_at FROM accounts WHERE id = ?1")
                .bind(&[account.as_str().into()])?
                .first::<Pending>(None)
                .await?;
            let reuse = pending.and_then(|p| match (p.totp_pending, p.totp_pending_at) {
                (Some(s), Some(at))
                    if crate::d1::time(at)
                        .is_some_and(|made| totp::pending_reusable(made, now)) =>
                {
                    crate::sealing::open_totp(&seal_key, &account, &s)
                }
                _ => None,
            });
            if let Some(s) = reuse {
                return Ok(s);
            }
            let secret = totp::Secret::new(fresh);
            let sealed = crate::sealing::seal_totp(&seal_key, &account, &secret)
                .ok_or_else(|| worker::Error::RustError("TOTP_SEAL_KEY is not set".into()))?;
            db.prepare("UPDATE accounts SET totp_pending = ?2, totp_pending_at = ?3 WHERE id = ?1")
                .bind(&[account.as_str().into(), sealed.into(), crate::d1::ms(now)])?
                .run()
                .await?;
            Ok(secret)
        })
        .await?;
        let uri = totp::otpauth_uri(&secret, &caller.login_id, "見守り");
        Ok(NewAuthenticator {
            csrf,
            qr_svg: totp::qr_svg(&uri).unwrap_or_default(),
            manual_key: secret.manual_key(),
        })
    }

    #[derive(Deserialize)]
    struct Reveal {
        recovery_reveal: Option<String>,
    }

    pub async fn recovery_codes() -> Result<Vec<String>, ServerFnError> {
        let (caller, _) = signed_in()?;
        let reveal = with_env("recovery codes", |env| async move {
            let db = env.d1("DB")?;
            // Read and clear in one transaction: the codes are shown a single time.
            let id = caller.session.as_str();
            let results = db
                .batch(vec![
                    db.prepare("SELECT recovery_reveal FROM sessions WHERE id_hash = ?1")
                        .bind(&[id.into()])?,
                    db.prepare("UPDATE sessions SET recovery_reveal = NULL WHERE id_hash = ?1")
                        .bind(&[id.into()])?,
                ])
                .await?;
            match results.first() {
                Some(r) => Ok(r.results::<Reveal>()?.into_iter().next()),
                None => Ok(None),
            }
        })
        .await?;
        Ok(reveal
            .and_then(|r| r.recovery_reveal)
            .and_then(|r| serde_json::from_str(&r).ok())
            .unwrap_or_default())
    }
}
