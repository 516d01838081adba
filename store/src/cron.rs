//! The cron sweep's handle: the one caller that works across every customer (appliances
//! gone silent, due notifications and mails, retention). Statements taking a [`Cron`] are
//! the all-customer sweeps; each still writes one customer's rows at a time, through the
//! [`Owner`] it names from what it found.

use crate::Owner;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cron(());

/// The handle of one cron tick. Only the scheduled handler (and the development clock
/// that stands in for it) calls this.
pub fn tick() -> Cron {
    Cron(())
}

impl Cron {
    /// A customer the sweep found work for.
    pub fn owner(&self, customer_id: &str) -> Owner {
        Owner::trusted(customer_id)
    }
}
