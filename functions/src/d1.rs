//! Reading what a D1 batch did.

use worker::D1Result;

/// Rows changed by one statement of a batch; 0 when D1 did not say.
pub fn changes(result: Option<&D1Result>) -> usize {
    result
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0)
}
