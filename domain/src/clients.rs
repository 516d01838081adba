//! How many clients an appliance serves: the guideline is about [`GUIDELINE`] connected
//! clients per appliance (seed §7.17); above it the portal warns that the appliance may
//! slow down or miss traffic and that a second appliance may be needed. A count the
//! appliance never sent is no warning.

/// Clients per appliance the service is sized for.
pub const GUIDELINE: i64 = 100;

/// Whether `clients` (as last reported) is above the guideline.
pub fn over_guideline(clients: Option<i64>) -> bool {
    clients.is_some_and(|n| n > GUIDELINE)
}

/// The warning the appliance page shows when [`over_guideline`].
pub const WARNING: &str = "接続している端末が目安の100台を超えています。UTM装置の処理が遅くなったり、通信を十分に検査できなくなったりするおそれがあります。端末が増えた場合は、UTM装置の追加を相談窓口へご相談ください。";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_count_above_the_guideline_warns() {
        for (clients, warns) in [
            (None, false),
            (Some(0), false),
            (Some(100), false),
            (Some(101), true),
            (Some(5000), true),
        ] {
            assert_eq!(over_guideline(clients), warns, "{clients:?}");
        }
    }
}
