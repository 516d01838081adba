//! mimamori-agent: a native program that speaks api-v1 as a UTM appliance would, so the
//! cloud side can be demonstrated, load-tested and fed real Suricata output without
//! hardware. The parts that decide (eve mapping, report generation, retry rules, backoff)
//! are plain functions tested without a network; the parts that touch the world (files,
//! HTTP, threads, the terminal) stay thin around them.

pub mod bench;
pub mod enroll;
pub mod eve;
pub mod progress;
pub mod send;
pub mod simulate;
pub mod spool;
pub mod state;
pub mod tail;
pub mod triage;
