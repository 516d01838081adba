//! Who may see what. Every caller — a portal user or an API token — has a `Scope`: the
//! operator sees every customer, a reseller its own customers, a customer's admin that
//! company only; a customer outside the scope is answered exactly like one that does not
//! exist (404). Portal pages are gated by `gate` before they render.
//!
//! `store::access` applies the rule in SQL and hands out the only proof of it, a
//! `store::Tenant`, without which no customer's data can be read.

use serde::{Deserialize, Serialize};

use crate::signin::SecondFactor;

/// The reach of a caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    /// Operator staff and operator tokens: every customer.
    Operator,
    /// A reseller's staff or token: the customers of that reseller.
    Reseller(String),
    /// A customer's admin: that company only.
    Customer(String),
}

impl Scope {
    /// From an account's or token's stored role and ids; `None` for an inconsistent row.
    pub fn from_row(
        role: &str,
        reseller_id: Option<&str>,
        customer_id: Option<&str>,
    ) -> Option<Scope> {
        match (role, reseller_id, customer_id) {
            ("operator", None, None) => Some(Scope::Operator),
            ("reseller", Some(r), None) => Some(Scope::Reseller(r.to_owned())),
            ("customer", None, Some(c)) => Some(Scope::Customer(c.to_owned())),
            _ => None,
        }
    }

    /// The role as stored (`accounts.role`) and bound to `:role` in `store::access`'s visibility query.
    pub fn role(&self) -> &'static str {
        match self {
            Scope::Operator => "operator",
            Scope::Reseller(_) => "reseller",
            Scope::Customer(_) => "customer",
        }
    }

    /// The id bound to `:scope` in that query (empty for the operator).
    pub fn scope_id(&self) -> &str {
        match self {
            Scope::Operator => "",
            Scope::Reseller(r) => r,
            Scope::Customer(c) => c,
        }
    }

    /// The customer a customer admin belongs to.
    pub fn own_customer(&self) -> Option<&str> {
        match self {
            Scope::Customer(c) => Some(c),
            _ => None,
        }
    }

    /// Whether this caller manages reseller `reseller` (its staff accounts): the operator
    /// and that reseller only. Customers are reached through `store::access`.
    pub fn reaches_reseller(&self, reseller: &str) -> bool {
        match self {
            Scope::Operator => true,
            Scope::Reseller(own) => own == reseller,
            Scope::Customer(_) => false,
        }
    }

    /// Staff of the operator or a reseller: they pick a customer from a list.
    pub fn is_staff(&self) -> bool {
        !matches!(self, Scope::Customer(_))
    }

    pub fn label(&self) -> &'static str {
        match self {
            Scope::Operator => "運営事業者",
            Scope::Reseller(_) => "販売代理店",
            Scope::Customer(_) => "お客様管理者",
        }
    }
}

/// How far a portal session has come through sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Signed in with temporary credentials: must choose a login id and password.
    Setup,
    /// Must choose a second factor (or none).
    Choose,
    /// Password accepted; the second factor is still to be given.
    Verify,
    /// Signed in.
    Full,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Setup => "setup",
            Stage::Choose => "choose",
            Stage::Verify => "verify",
            Stage::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Some(match s {
            "setup" => Stage::Setup,
            "choose" => Stage::Choose,
            "verify" => Stage::Verify,
            "full" => Stage::Full,
            _ => return None,
        })
    }

    /// Where a sign-in continues once the password is accepted: a temporary password
    /// leads to 初回設定, a chosen second factor (`totp`, `sms`) to the code, `none` to
    /// the portal, and no choice yet to choosing one.
    pub fn after_password(temporary: bool, second_factor: Option<SecondFactor>) -> Stage {
        if temporary {
            return Stage::Setup;
        }
        match second_factor {
            Some(f) if f.asks_for_code() => Stage::Verify,
            Some(_) => Stage::Full,
            None => Stage::Choose,
        }
    }

    /// The step in Japanese, as the audit log shows it.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Setup => "初回設定",
            Stage::Choose => "2段階認証の選択",
            Stage::Verify => "確認コードの入力",
            Stage::Full => "ログイン完了",
        }
    }

    /// The page that continues sign-in from this stage.
    pub fn home(self) -> &'static str {
        match self {
            Stage::Setup => "/setup",
            Stage::Choose => "/setup/2fa",
            Stage::Verify => "/login/verify",
            Stage::Full => "/",
        }
    }
}

/// Whether a caller of scope `by` may manage an account of scope `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manages<'a> {
    Yes,
    No,
    /// Only if the caller may see this customer (its reseller is the caller's).
    IfCustomerVisible(&'a str),
}

/// Who may manage (reset) an account: the operator any; a reseller its own staff and its
/// customers' admins; a customer nobody else's. Nobody but the operator manages
/// operator staff.
pub fn manages<'a>(by: &Scope, target: &'a Scope) -> Manages<'a> {
    match (by, target) {
        (Scope::Operator, _) => Manages::Yes,
        (by, Scope::Reseller(theirs)) if by.reaches_reseller(theirs) => Manages::Yes,
        (_, Scope::Customer(c)) => Manages::IfCustomerVisible(c),
        _ => Manages::No,
    }
}

/// What to do with a request for a portal page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Allow,
    /// See other: the page for where the visitor stands.
    Redirect(&'static str),
    /// Not for this caller; answered as if it did not exist.
    NotFound,
}

/// The console's pages (`/admin/…`) that only the operator opens; the others are for
/// staff (the operator and resellers' staff), never for a customer's admin.
pub const OPERATOR_PAGES: &[&str] = &["/admin/audit"];

/// The portal's page rules, for a page `path` (no query) and the visitor's session stage
/// and scope (`None`: not signed in).
pub fn gate(path: &str, session: Option<(Stage, &Scope)>) -> Gate {
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let stage = session.map(|(s, _)| s);
    match path {
        "/login" => match stage {
            Some(Stage::Full) => Gate::Redirect("/"),
            _ => Gate::Allow,
        },
        "/setup" => only(stage, &[Stage::Setup]),
        // Choosing (or later changing) the second factor.
        "/setup/2fa" | "/setup/totp" | "/setup/sms" => only(stage, &[Stage::Choose, Stage::Full]),
        "/login/verify" => only(stage, &[Stage::Verify]),
        _ => {
            let Some((Stage::Full, scope)) = session else {
                return only(stage, &[Stage::Full]);
            };
            if path == "/admin" || path.starts_with("/admin/") {
                // The console: staff's; its operator-only pages the operator's alone.
                let operator_only = OPERATOR_PAGES
                    .iter()
                    .any(|p| path == *p || path.starts_with(&format!("{p}/")));
                match scope {
                    Scope::Operator => Gate::Allow,
                    Scope::Reseller(_) if !operator_only => Gate::Allow,
                    _ => Gate::NotFound,
                }
            } else {
                Gate::Allow
            }
        }
    }
}

fn only(stage: Option<Stage>, allowed: &[Stage]) -> Gate {
    match stage {
        Some(s) if allowed.contains(&s) => Gate::Allow,
        Some(s) => Gate::Redirect(s.home()),
        None => Gate::Redirect("/login"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGES: &[&str] = &[
        "/",
        "/login",
        "/login/verify",
        "/setup",
        "/setup/2fa",
        "/setup/totp",
        "/setup/sms",
        "/setup/recovery",
        "/account",
        "/customers/cus_x",
        "/admin/audit",
    ];

    #[test]
    fn strangers_only_reach_the_sign_in_page() {
        for page in PAGES {
            let expected = if *page == "/login" {
                Gate::Allow
            } else {
                Gate::Redirect("/login")
            };
            assert_eq!(gate(page, None), expected, "{page}");
        }
    }

    #[test]
    fn an_unfinished_sign_in_is_sent_back_to_its_step() {
        let scope = Scope::Customer("cus_a".into());
        for stage in [Stage::Setup, Stage::Choose, Stage::Verify] {
            for page in PAGES {
                let g = gate(page, Some((stage, &scope)));
                let choosing = stage == Stage::Choose
                    && page.starts_with("/setup/")
                    && *page != "/setup/recovery";
                if *page == stage.home() || *page == "/login" || choosing {
                    assert_eq!(g, Gate::Allow, "{stage:?} {page}");
                } else {
                    assert_eq!(g, Gate::Redirect(stage.home()), "{stage:?} {page}");
                }
            }
        }
    }

    #[test]
    fn the_audit_log_is_the_operators_alone() {
        let full = |s: &Scope| gate("/admin/audit", Some((Stage::Full, s)));
        assert_eq!(full(&Scope::Operator), Gate::Allow);
        assert_eq!(full(&Scope::Reseller("r".into())), Gate::NotFound);
        assert_eq!(full(&Scope::Customer("c".into())), Gate::NotFound);
        assert_eq!(
            gate("/admin/", Some((Stage::Full, &Scope::Customer("c".into())))),
            Gate::NotFound
        );
    }

    #[test]
    fn the_console_is_staffs_and_never_a_customer_admins() {
        let full = |path: &str, s: &Scope| gate(path, Some((Stage::Full, s)));
        let reseller = Scope::Reseller("r".into());
        let admin = Scope::Customer("c".into());
        for page in [
            "/admin/customers",
            "/admin/customers/cus_x",
            "/admin/customers/",
        ] {
            assert_eq!(full(page, &Scope::Operator), Gate::Allow, "{page}");
            assert_eq!(full(page, &reseller), Gate::Allow, "{page}");
            assert_eq!(full(page, &admin), Gate::NotFound, "{page}");
        }
        assert_eq!(full("/admin/audit/x", &reseller), Gate::NotFound);
        assert_eq!(
            full("/admin/auditing", &reseller),
            Gate::Allow,
            "a prefix is not the page"
        );
    }

    #[test]
    fn a_signed_in_user_skips_the_sign_in_page() {
        let scope = Scope::Customer("cus_a".into());
        assert_eq!(
            gate("/login", Some((Stage::Full, &scope))),
            Gate::Redirect("/")
        );
        assert_eq!(gate("/", Some((Stage::Full, &scope))), Gate::Allow);
        assert_eq!(
            gate("/setup", Some((Stage::Full, &scope))),
            Gate::Redirect("/")
        );
        assert_eq!(
            gate("/setup/totp", Some((Stage::Full, &scope))),
            Gate::Allow
        );
    }

    #[test]
    fn the_password_leads_to_the_next_step() {
        assert_eq!(
            Stage::after_password(true, Some(SecondFactor::Totp)),
            Stage::Setup
        );
        assert_eq!(
            Stage::after_password(false, Some(SecondFactor::Totp)),
            Stage::Verify
        );
        assert_eq!(
            Stage::after_password(false, Some(SecondFactor::Sms)),
            Stage::Verify
        );
        assert_eq!(
            Stage::after_password(false, Some(SecondFactor::None)),
            Stage::Full
        );
        assert_eq!(Stage::after_password(false, None), Stage::Choose);
    }

    #[track_caller]
    fn check_manages(by: &Scope, target: &Scope, expected: Manages<'_>) {
        assert_eq!(manages(by, target), expected);
    }

    #[test]
    fn the_operator_manages_every_account() {
        for target in [
            Scope::Operator,
            Scope::Reseller("r1".into()),
            Scope::Customer("c1".into()),
        ] {
            check_manages(&Scope::Operator, &target, Manages::Yes);
        }
    }

    #[test]
    fn a_reseller_manages_its_own_staff_and_asks_about_customers() {
        let r1 = Scope::Reseller("r1".into());
        check_manages(&r1, &Scope::Reseller("r1".into()), Manages::Yes);
        check_manages(&r1, &Scope::Reseller("r2".into()), Manages::No);
        check_manages(&r1, &Scope::Operator, Manages::No);
        check_manages(
            &r1,
            &Scope::Customer("c1".into()),
            Manages::IfCustomerVisible("c1"),
        );
    }

    #[test]
    fn a_customer_manages_no_staff() {
        let c1 = Scope::Customer("c1".into());
        check_manages(&c1, &Scope::Operator, Manages::No);
        check_manages(&c1, &Scope::Reseller("r1".into()), Manages::No);
        check_manages(
            &c1,
            &Scope::Customer("c1".into()),
            Manages::IfCustomerVisible("c1"),
        );
    }

    #[test]
    fn resellers_are_reached_by_the_operator_and_themselves() {
        assert!(Scope::Operator.reaches_reseller("r1"));
        assert!(Scope::Reseller("r1".into()).reaches_reseller("r1"));
        assert!(!Scope::Reseller("r2".into()).reaches_reseller("r1"));
        assert!(!Scope::Customer("c".into()).reaches_reseller("r1"));
    }

    #[test]
    fn scopes_round_trip_through_their_rows() {
        for scope in [
            Scope::Operator,
            Scope::Reseller("res_1".into()),
            Scope::Customer("cus_1".into()),
        ] {
            let (r, c) = match &scope {
                Scope::Operator => (None, None),
                Scope::Reseller(r) => (Some(r.as_str()), None),
                Scope::Customer(c) => (None, Some(c.as_str())),
            };
            assert_eq!(Scope::from_row(scope.role(), r, c), Some(scope.clone()));
        }
        assert_eq!(Scope::from_row("customer", Some("r"), Some("c")), None);
        assert_eq!(Scope::from_row("root", None, None), None);
    }
}
