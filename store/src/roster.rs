//! The console's customer list: the customers a staff member may see (the operator all,
//! a reseller's staff its own), found by a part of the name or the exact id, by name,
//! with each one's reseller, contract state, appliances online and offline (the offline
//! rule's bound, disabled ones not counted) and open ★★★ incidents. At most `limit` rows,
//! and how many matched.

use chrono::{DateTime, Utc};
use domain::severity::Severity;
use serde::Deserialize;

use crate::{Access, Db, Error, Query};

/// One customer as the list shows it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Listed {
    pub id: String,
    pub name: String,
    pub reseller_id: Option<String>,
    pub reseller_name: Option<String>,
    #[serde(with = "crate::time::ms_opt", default)]
    pub contract_ended_at: Option<DateTime<Utc>>,
    pub online: u32,
    pub offline: u32,
    /// Open (not handled) ★★★ incidents.
    pub open_high: u32,
}

/// The rows shown and how many matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub customers: Vec<Listed>,
    pub matched: u32,
}

#[derive(Deserialize)]
struct Count {
    n: u32,
}

const MATCHES: &str = "(:q = '' OR instr(lower(c.name), lower(:q)) > 0 OR c.id = :q)";

pub(crate) fn list_query(
    access: &Access,
    q: &str,
    offline_before: DateTime<Utc>,
    limit: u32,
) -> Query {
    let sql = format!(
        "SELECT c.id, c.name, c.reseller_id, r.name AS reseller_name, c.contract_ended_at, \
           (SELECT count(*) FROM devices d WHERE d.customer_id = c.id AND d.disabled = 0 \
              AND d.last_seen_at >= :offline_before) AS online, \
           (SELECT count(*) FROM devices d WHERE d.customer_id = c.id AND d.disabled = 0 \
              AND (d.last_seen_at IS NULL OR d.last_seen_at < :offline_before)) AS offline, \
           (SELECT count(*) FROM incidents i WHERE i.customer_id = c.id \
              AND i.severity_rank = :high AND i.handled_at IS NULL) AS open_high \
         FROM customers c LEFT JOIN resellers r ON r.id = c.reseller_id \
         WHERE {} AND {MATCHES} ORDER BY c.name, c.id LIMIT :limit",
        Access::visible("c.id")
    );
    access
        .bind(Query::new(sql))
        .bind("q", q)
        .bind("offline_before", offline_before)
        .bind("high", Severity::High as u32)
        .bind("limit", limit)
}

/// The customers `access` sees whose name contains `q` (any case) or whose id is `q`;
/// all of them for an empty `q`.
pub async fn find(
    db: &Db,
    access: &Access,
    q: &str,
    offline_before: DateTime<Utc>,
    limit: u32,
) -> Result<Found, Error> {
    let q = q.trim();
    let customers = db.all(list_query(access, q, offline_before, limit)).await?;
    let count_sql = format!(
        "SELECT count(*) AS n FROM customers c WHERE {} AND {MATCHES}",
        Access::visible("c.id")
    );
    let matched = db
        .first::<Count>(access.bind(Query::new(count_sql)).bind("q", q))
        .await?
        .map_or(0, |c| c.n);
    Ok(Found { customers, matched })
}

#[cfg(test)]
mod tests {
    use domain::access::Scope;

    use super::*;
    use crate::testing::{block_on, fixture};

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).expect("in range")
    }

    fn ids(found: &Found) -> Vec<&str> {
        found.customers.iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn each_scope_finds_its_own_customers_by_name_or_id() {
        let f = fixture();
        let op = Access::granted(Scope::Operator);
        let ra = Access::granted(Scope::Reseller("r-a".into()));
        let find = |a: &Access, q: &str| block_on(find(&f.db, a, q, at(0), 10)).expect("reads");
        assert_eq!(ids(&find(&op, "")), ["c-a1", "c-a2", "c-b1"]);
        assert_eq!(ids(&find(&ra, "")), ["c-a1", "c-a2"]);
        assert_eq!(
            ids(&find(&ra, "b1")),
            Vec::<&str>::new(),
            "another reseller's"
        );
        assert_eq!(ids(&find(&op, "b1")), ["c-b1"]);
        assert_eq!(ids(&find(&op, "c-a2")), ["c-a2"]);
        assert_eq!(
            ids(&find(&op, "%")),
            Vec::<&str>::new(),
            "a pattern is only text"
        );
        let limited = block_on(super::find(&f.db, &op, "", at(0), 2)).expect("reads");
        assert_eq!((limited.customers.len(), limited.matched), (2, 3));
        assert_eq!(
            find(&ra, "").customers[0].reseller_name.as_deref(),
            Some("A販売店")
        );
    }

    #[test]
    fn appliances_and_open_high_incidents_are_counted_per_customer() {
        let f = fixture();
        f.db.execute_script(
            "UPDATE devices SET last_seen_at = 1000 WHERE id = 'd0000000a001';
             INSERT INTO devices (id, customer_id, name, disabled, created_at)
               VALUES ('d0000000a00f', 'c-a1', '旧', 1, 0), ('d0000000a00e', 'c-a1', '倉庫', 0, 0);
             INSERT INTO incidents (id, customer_id, device_id, sig_key, host, name, function, action,
               direction, severity_rank, rule, rules_version, first_at, last_at, count, batch,
               created_at, handled_at) VALUES
               (1, 'c-a1', 'd0000000a001', 's', '', 'n', 'ips', 'detected', 'inbound', 0, 'r', 1, 0, 0, 1, 0, 0, NULL),
               (2, 'c-a1', 'd0000000a001', 's2', '', 'n', 'ips', 'detected', 'inbound', 0, 'r', 1, 0, 0, 1, 0, 0, 5),
               (3, 'c-a1', 'd0000000a001', 's3', '', 'n', 'ips', 'detected', 'inbound', 1, 'r', 1, 0, 0, 1, 0, 0, NULL),
               (4, 'c-a2', 'd0000000a002', 's', '', 'n', 'ips', 'detected', 'inbound', 0, 'r', 1, 0, 0, 1, 0, 0, NULL);",
        )
        .expect("rows");
        let op = Access::granted(Scope::Operator);
        let found = block_on(find(&f.db, &op, "A1", at(500), 10)).expect("reads");
        let a1 = &found.customers[0];
        assert_eq!((a1.online, a1.offline, a1.open_high), (1, 1, 1));
        let later = block_on(find(&f.db, &op, "A1", at(2000), 10)).expect("reads");
        assert_eq!(
            (later.customers[0].online, later.customers[0].offline),
            (0, 2)
        );
    }
}
