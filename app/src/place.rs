//! Where a customer's portal pages live. A customer admin's URLs carry no customer id
//! (`/alerts`); staff (operator, reseller) open the same pages of a customer they may see
//! under `/customers/{id}` (`/customers/{id}/alerts`), read-only. A page takes its
//! `Place` from the route and builds every link with it, so that staff stay within the
//! customer they opened and a customer admin never sees an id in a URL.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

/// The customer whose pages these are: `None` for the caller's own company.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Place {
    customer: Option<String>,
}

impl Place {
    /// The place of the current route: its `:id`, if it has one.
    pub fn from_route() -> Place {
        Place {
            customer: use_params_map().with_untracked(|p| p.get("id")),
        }
    }

    pub fn of(customer: Option<String>) -> Place {
        Place { customer }
    }

    /// The customer a server function is asked for (`None`: the caller's own).
    pub fn customer(&self) -> Option<String> {
        self.customer.clone()
    }

    /// Staff looking at a customer's pages (read-only).
    pub fn is_staff_view(&self) -> bool {
        self.customer.is_some()
    }

    /// The URL of `page` (`""` for the dashboard, `"alerts"`, `"alerts/42"`) here.
    pub fn href(&self, page: &str) -> String {
        match (&self.customer, page) {
            (None, "") => "/".to_owned(),
            (None, p) => format!("/{p}"),
            (Some(c), "") => format!("/customers/{c}"),
            (Some(c), p) => format!("/customers/{c}/{p}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_admins_urls_have_no_customer_id() {
        let own = Place::of(None);
        assert_eq!(own.href(""), "/");
        assert_eq!(own.href("alerts/42"), "/alerts/42");
    }

    #[test]
    fn staff_urls_stay_under_the_customer() {
        let staff = Place::of(Some("cus_a".into()));
        assert_eq!(staff.href(""), "/customers/cus_a");
        assert_eq!(staff.href("problems"), "/customers/cus_a/problems");
    }
}
