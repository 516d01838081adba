//! The portal's page menu: the pages of one customer (ダッシュボード, 問題を確認, 検知履歴,
//! 稼働状況, 利用状況, 通知メール, 平均と比べる, UTM同士を比べる, 月次レポート), linked for the place they are shown at, with the current
//! page marked for screen readers (`aria-current`). Staff also see which customer they
//! are looking at and the way back to their customer list.

use leptos::prelude::*;

use crate::place::Place;

/// The pages of the menu: the path under the place, and the name.
pub const PAGES: [(&str, &str); 9] = [
    ("", "ダッシュボード"),
    ("problems", "問題を確認"),
    ("alerts", "検知履歴"),
    ("appliances", "稼働状況"),
    ("usage", "利用状況"),
    ("mails", "通知メール"),
    ("compare/peers", "平均と比べる"),
    ("compare/appliances", "UTM同士を比べる"),
    ("reports", "月次レポート"),
];

/// The menu, with `current` (a path of [`PAGES`]) marked.
#[component]
pub fn PortalNav(place: Place, current: &'static str) -> impl IntoView {
    let staff = place.is_staff_view().then(|| {
        view! {
            <p class="staff-view">
                <a href="/">"お客様一覧"</a>
                " ／ お客様のページを閲覧しています（閲覧のみ）"
            </p>
        }
    });
    let links = PAGES
        .iter()
        .map(|(page, name)| {
            let here = (*page == current).then_some("page");
            view! {
                <li>
                    <a href=place.href(page) aria-current=here>
                        {*name}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        {staff}
        <nav class="portal" aria-label="ポータルのメニュー">
            <ul>{links}</ul>
        </nav>
    }
}
