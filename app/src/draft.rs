//! A console form sent back with what its sender typed. When the Worker refuses a posted
//! form, it draws the form's page again (400) with a `Draft` in the request's `Visitor`:
//! the values as posted and the fields at fault, so that nothing typed is lost and each
//! field says what is wrong (with JavaScript off as well).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// The form's fields by name, as posted.
    pub values: Vec<(String, String)>,
    /// The names of the fields at fault.
    pub faults: Vec<String>,
}

impl Draft {
    /// The value posted for `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn faulty(&self, name: &str) -> bool {
        self.faults.iter().any(|f| f == name)
    }
}

/// The draft the request carries, if a refused form is being drawn again.
#[cfg(feature = "ssr")]
pub fn current() -> Option<Draft> {
    leptos::prelude::use_context::<crate::tenant::Visitor>().and_then(|v| v.draft)
}
