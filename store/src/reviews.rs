//! An investigation's record as stored: what was found, the tier before and after (who
//! changed it, when and why), the incident's new tier and the queued investigation mail,
//! in one transaction.

use chrono::{DateTime, Utc};
use domain::severity::Severity;

use crate::incidents::Incident;
use crate::mails::{self, Outgoing};
use crate::{Db, Error, Query};

/// One investigation of an incident.
#[derive(Debug, Clone)]
pub struct Review<'a> {
    pub finding: &'a str,
    pub reviewer: &'a str,
    pub new: Severity,
}

/// Records `review` of `incident`, sets its tier and queues `mail` (its `id` is kept with
/// the record).
pub async fn record(
    db: &Db,
    incident: &Incident,
    review: &Review<'_>,
    mail: &Outgoing,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let bind = |sql: &'static str| {
        Query::new(sql)
            .bind("incident", incident.id)
            .bind("customer", incident.owner.id())
            .bind("finding", review.finding)
            .bind("old", incident.severity as u8 as u32)
            .bind("new", review.new as u8 as u32)
            .bind("by", review.reviewer)
            .bind("mail", mail.id.as_str())
            .bind("now", now)
    };
    db.batch(vec![
        bind("UPDATE incidents SET severity_rank = :new WHERE id = :incident AND customer_id = :customer"),
        bind(
            "INSERT INTO incident_reviews (incident_id, finding, old_rank, new_rank, reviewer, \
               mail_id, created_at) VALUES (:incident, :finding, :old, :new, :by, :mail, :now)",
        ),
        mails::queue(mail, now),
    ])
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Access;
    use crate::incidents;
    use crate::mails::Kind;
    use crate::testing::{block_on, fixture};
    use domain::access::Scope;
    use domain::mail::Mail;
    use serde::Deserialize;

    #[test]
    fn a_review_sets_the_tier_keeps_the_record_and_queues_the_mail_at_once() {
        let f = fixture();
        f.db.execute_script(
            "INSERT INTO incidents (id, customer_id, device_id, sig_key, host, name, function, action, \
               direction, severity_rank, rule, rules_version, first_at, last_at, count, batch, created_at) \
             VALUES (7, 'c-a1', 'd0000000a001', 's', 'h', 'n', 'ips', 'blocked', 'inbound', 2, 'r', 1, 1, 2, 1, 1, 1);",
        )
        .expect("incident");
        let operator = Access::granted(Scope::Operator);
        let incident = block_on(incidents::visible(&f.db, &operator, 7))
            .expect("reads")
            .expect("found");
        let mail = Outgoing {
            id: "ml_r".into(),
            owner: incident.owner.clone(),
            kind: Kind::Investigation,
            mail: Mail {
                subject: "s".into(),
                text: "t".into(),
                html: "h".into(),
            },
        };
        let review = Review {
            finding: "誤検知",
            reviewer: "ops",
            new: Severity::High,
        };
        let now = DateTime::from_timestamp_millis(9).expect("in range");
        block_on(record(&f.db, &incident, &review, &mail, now)).expect("records");
        #[derive(Deserialize)]
        struct Row {
            severity_rank: i64,
            old_rank: i64,
            mail_kind: String,
        }
        let row: Row = block_on(f.db.first(Query::new(
            "SELECT i.severity_rank, r.old_rank, (SELECT kind FROM mails WHERE id = r.mail_id) AS mail_kind \
             FROM incidents i JOIN incident_reviews r ON r.incident_id = i.id WHERE i.id = 7",
        )))
        .expect("reads")
        .expect("recorded");
        assert_eq!(
            (row.severity_rank, row.old_rank, row.mail_kind.as_str()),
            (0, 2, "investigation")
        );
    }
}
