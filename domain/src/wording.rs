//! How the portal names the values appliances send: the function that saw a threat, what
//! it did, which way the traffic went, and what a usage record counts. One word each, in
//! plain Japanese and without any vendor's product names, so that a page, a filter's
//! choices and a table header say the same thing.

use crate::report::{Action, Direction, Function, UsageKind};

/// The appliance function, as a filter choice and a column names it.
pub fn function(f: Function) -> &'static str {
    match f {
        Function::Antivirus => "ウイルス対策",
        Function::Ips => "不正侵入防御",
        Function::WebGuard => "有害サイト対策",
        Function::UrlFilter => "URLフィルタ",
        Function::AppGuard => "アプリケーション制御",
        Function::AntiPhishing => "フィッシング対策",
        Function::Other => "その他",
    }
}

/// What the appliance did about a threat.
pub fn action(a: Action) -> &'static str {
    match a {
        Action::Blocked => "遮断",
        Action::Detoxified => "無害化",
        Action::Detected => "検知のみ（通過）",
    }
}

/// Which way the traffic went, seen from the customer's network.
pub fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Inbound => "外部から社内へ",
        Direction::Outbound => "社内から外部へ",
        Direction::Internal => "社内の機器どうし",
    }
}

/// What a usage record counts.
pub fn usage_kind(k: UsageKind) -> &'static str {
    match k {
        UsageKind::WebCategory => "Webカテゴリ",
        UsageKind::Application => "アプリケーション",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_has_its_own_japanese_word() {
        let words: Vec<&str> = Function::ALL
            .iter()
            .map(|f| function(*f))
            .chain(Action::ALL.iter().map(|a| action(*a)))
            .chain(Direction::ALL.iter().map(|d| direction(*d)))
            .chain(UsageKind::ALL.iter().map(|k| usage_kind(*k)))
            .collect();
        let mut unique = words.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), words.len(), "{words:?}");
        assert!(words.iter().all(|w| !w.is_ascii()), "{words:?}");
    }
}
