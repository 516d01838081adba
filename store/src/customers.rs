//! Customers as stored: signing one up with its alert recipients (in order, at most
//! three, in one transaction with the customer). Whether its reseller exists is
//! `crate::resellers::exists`.

use chrono::{DateTime, Utc};
use domain::customer::NewCustomer;
use domain::id::Id;

use crate::{Db, Error, Query};

/// Stores `new` as customer `id` of `reseller` (none: the operator's own), with its alert
/// recipients, whole or not at all.
pub async fn create(
    db: &Db,
    id: &str,
    new: &NewCustomer,
    reseller: Option<&Id>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut batch = vec![
        Query::new(
            "INSERT INTO customers (id, reseller_id, name, service_start, paid_from, created_at, \
               contact_name, contact_department, contact_title, contact_email, phone, address) \
             VALUES (:id, :reseller, :name, :start, :paid_from, :now, :contact_name, \
               :department, :title, :email, :phone, :address)",
        )
        .bind("contact_name", new.contact.name.as_str())
        .bind("department", new.contact.department.as_str())
        .bind("title", new.contact.title.as_str())
        .bind("email", new.contact.email.as_str())
        .bind("phone", new.contact.phone.as_str())
        .bind("address", new.address.as_str())
        .bind("id", id)
        .bind("reseller", reseller.map(Id::as_str))
        .bind("name", new.name.as_str())
        .bind("start", new.service_start.to_string())
        .bind("paid_from", new.paid_from.map(|d| d.to_string()))
        .bind("now", now),
    ];
    for (position, email) in (1u32..).zip(&new.alert_recipients) {
        batch.push(
            Query::new(
                "INSERT INTO alert_recipients (customer_id, position, email) \
                 VALUES (:id, :position, :email)",
            )
            .bind("id", id)
            .bind("position", position)
            .bind("email", email.as_str()),
        );
    }
    db.batch(batch).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, fixture};
    use serde::Deserialize;

    #[test]
    fn a_customer_is_stored_with_its_recipients_in_order() {
        let f = fixture();
        let body = br#"{"name": "C-sha", "service_start": "2026-12-01",
            "alert_recipients": ["a@example.jp", "b@example.jp"]}"#;
        let new = domain::customer::parse_new_customer(body).expect("valid");
        let reseller = Id::parse("r-a").expect("id");
        assert!(block_on(crate::resellers::exists(&f.db, reseller.as_str())).expect("reads"));
        assert!(!block_on(crate::resellers::exists(&f.db, "r-zz")).expect("reads"));
        let now = DateTime::from_timestamp_millis(7).expect("in range");
        block_on(create(&f.db, "cus_1", &new, Some(&reseller), now)).expect("stores");
        #[derive(Deserialize)]
        struct Row {
            reseller_id: String,
            created_at: i64,
            emails: String,
        }
        let row: Row = block_on(f.db.first(Query::new(
            "SELECT reseller_id, created_at, (SELECT group_concat(email, ',') FROM \
               (SELECT email FROM alert_recipients WHERE customer_id = 'cus_1' ORDER BY position)) AS emails \
             FROM customers WHERE id = 'cus_1'",
        )))
        .expect("reads")
        .expect("stored");
        assert_eq!(
            (
                row.reseller_id.as_str(),
                row.created_at,
                row.emails.as_str()
            ),
            ("r-a", 7, "a@example.jp,b@example.jp")
        );
    }

    #[test]
    fn a_customer_that_cannot_be_stored_leaves_no_recipients() {
        let f = fixture();
        let body = br#"{"name": "C-sha", "service_start": "2026-12-01", "alert_recipients": ["a@example.jp"]}"#;
        let new = domain::customer::parse_new_customer(body).expect("valid");
        let now = DateTime::from_timestamp_millis(7).expect("in range");
        // The id is taken: the whole sign-up is refused.
        assert!(block_on(create(&f.db, "c-a1", &new, None, now)).is_err());
        let n: Option<serde_json::Value> = block_on(f.db.first(Query::new(
            "SELECT 1 AS n FROM alert_recipients WHERE customer_id = 'c-a1'",
        )))
        .expect("reads");
        assert_eq!(n, None);
    }
}
