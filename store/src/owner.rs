//! The customer whose rows a per-customer statement touches. An [`Owner`] is named only by
//! a path that already proved it: a [`Tenant`] (the caller's scope let it through), a
//! reporting appliance (`devices::Reporter`, resolved from its token), or the cron
//! (`cron::Cron`, which works for every customer). Nothing outside this crate builds one.

use crate::Tenant;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    id: String,
}

impl Owner {
    pub(crate) fn trusted(id: impl Into<String>) -> Owner {
        Owner { id: id.into() }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Tenant {
    /// The customer as the owner of its rows.
    pub fn owner(&self) -> Owner {
        Owner::trusted(self.id())
    }
}
