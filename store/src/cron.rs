//! The cron sweep's handle: the one caller that works across every customer (appliances
//! gone silent, due notifications and mails, retention). Statements taking a [`Cron`] are
//! the all-customer sweeps; each still writes one customer's rows at a time, through the
//! [`crate::Owner`] that the rows it found name (never one named from outside the store).
//! `scripts/layers` allows `tick()` in the scheduled sweep only.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cron(());

/// The handle of one cron tick. Only the scheduled handler (and the development clock
/// that stands in for it) calls this.
pub fn tick() -> Cron {
    Cron(())
}
