//! The sign-in pages (seed §3.5): ログイン, 初回設定, 2段階認証の選択 and setup (認証アプリ /
//! SMS), the second step at sign-in, recovery codes, and アカウント設定. Every form is a
//! plain HTML form posted to `/auth/*` (functions' `signin`), so it works the same with
//! and without JavaScript; the server answers with a redirect, and problems come back as
//! `?e=` (see `messages`). This module owns what every such page shares: who is signed in
//! and the anti-forgery token (`page_state`); the pages live by step in `login`
//! (ログイン, 初回設定, the second step), `factor` (choosing and setting up a second
//! factor, recovery codes) and `account` (アカウント設定, the header's menu).

mod account;
mod factor;
mod login;
#[cfg(feature = "ssr")]
mod server;

use domain::access::Stage;
use domain::signin::SecondFactor;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use account::{AccountPage, SessionView, UserMenu, my_sessions};
pub use factor::{
    ChoosePage, NewAuthenticator, RecoveryPage, SmsPage, TotpPage, recovery_codes, totp_setup,
};
pub use login::{LoginPage, SetupPage, VerifyPage};

/// The signed-in (or signing-in) user, as pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub login_id: String,
    pub email: String,
    /// 運営事業者 / 販売代理店 / お客様管理者.
    pub role: String,
    pub staff: bool,
    pub operator: bool,
    /// `None` before the user chose.
    pub second_factor: Option<SecondFactor>,
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
