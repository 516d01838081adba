//! The audit log as stored: one entry per sign-in step, account change and API token
//! use, written in the same batch as the change it describes where there is one, and
//! read back newest first, a page at a time, by the operator.

use chrono::{DateTime, Utc};
use domain::access::Scope;
use domain::bounds::cut;
use domain::signin::AuditEvent;
use serde::Deserialize;

use crate::sessions::Caller;
use crate::{Db, Error, Operator, Query};

/// Where a request comes from, as kept with sessions and in the audit log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One entry.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub event: AuditEvent,
    pub account_id: Option<&'a str>,
    pub login_id: Option<&'a str>,
    pub scope: Option<&'a Scope>,
    pub token_id: Option<&'a str>,
    pub origin: Option<&'a Origin>,
    /// A short, non-secret description (never a password or code).
    pub detail: Option<String>,
}

impl<'a> Entry<'a> {
    /// An entry of `event` naming nobody yet.
    pub fn of(event: AuditEvent) -> Entry<'a> {
        Entry {
            event,
            account_id: None,
            login_id: None,
            scope: None,
            token_id: None,
            origin: None,
            detail: None,
        }
    }

    /// An entry about what a signed-in (or signing-in) portal user did.
    pub fn by(caller: &'a Caller, origin: &'a Origin, event: AuditEvent) -> Entry<'a> {
        Entry {
            account_id: Some(&caller.account_id),
            login_id: Some(&caller.login_id),
            scope: Some(caller.scope()),
            origin: Some(origin),
            ..Entry::of(event)
        }
    }
}

/// The longest texts kept in an entry, in bytes: whatever a visitor typed or sent is cut
/// (on a character boundary) before it is stored, so no request can grow the log by more
/// than a short row.
const LOGIN_ID_BYTES: usize = 64;
const IP_BYTES: usize = 64;
const USER_AGENT_BYTES: usize = 256;
const DETAIL_BYTES: usize = 1024;

/// The statement that writes `e`.
pub fn insert(e: &Entry, now: DateTime<Utc>) -> Query {
    let (customer, reseller) = match e.scope {
        Some(Scope::Customer(c)) => (Some(c.as_str()), None),
        Some(Scope::Reseller(r)) => (None, Some(r.as_str())),
        _ => (None, None),
    };
    Query::new(
        "INSERT INTO audit_log (at, event, account_id, customer_id, reseller_id, token_id, \
           login_id, ip, user_agent, detail) \
         VALUES (:at, :event, :account, :customer, :reseller, :token, :login, :ip, :ua, :detail)",
    )
    .bind("at", now)
    .bind("event", e.event.as_str())
    .bind("account", e.account_id)
    .bind("customer", customer)
    .bind("reseller", reseller)
    .bind("token", e.token_id)
    .bind("login", e.login_id.map(|l| cut(l, LOGIN_ID_BYTES)))
    .bind(
        "ip",
        e.origin
            .and_then(|o| o.ip.as_deref())
            .map(|t| cut(t, IP_BYTES)),
    )
    .bind(
        "ua",
        e.origin
            .and_then(|o| o.user_agent.as_deref())
            .map(|t| cut(t, USER_AGENT_BYTES)),
    )
    .bind("detail", e.detail.as_deref().map(|t| cut(t, DETAIL_BYTES)))
}

/// One entry as stored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Record {
    pub id: i64,
    #[serde(with = "crate::time::ms")]
    pub at: DateTime<Utc>,
    pub event: String,
    pub account_id: Option<String>,
    pub customer_id: Option<String>,
    pub reseller_id: Option<String>,
    pub token_id: Option<String>,
    pub login_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

impl Record {
    /// Where the next page (older entries) starts.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            at: self.at,
            id: self.id,
        }
    }
}

/// Which entries to read: of one customer, of one account, or both; every entry when
/// neither is named.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Filter<'a> {
    pub customer: Option<&'a str>,
    pub account: Option<&'a str>,
}

/// A position in the log: entries older than this one come next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: i64,
}

impl Cursor {
    /// The cursor as the text a client sends back for the next page (`next_cursor`,
    /// `?cursor=`); opaque to it.
    pub fn token(&self) -> String {
        format!("{}.{}", self.at.timestamp_millis(), self.id)
    }

    /// The cursor `token` made; `None` for any other text.
    pub fn parse(token: &str) -> Option<Cursor> {
        let (at, id) = token.split_once('.')?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(at) || !digits(id) {
            return None;
        }
        Some(Cursor {
            at: crate::time::from_ms(at.parse().ok()?)?,
            id: id.parse().ok()?,
        })
    }
}

/// A page of the log, newest first.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Page<'a> {
    pub filter: Filter<'a>,
    /// `None` for the newest entries.
    pub before: Option<Cursor>,
    pub limit: u32,
}

/// The statement of `page`. Reading by account uses its index; the rest walks the time
/// index from the newest entry.
pub(crate) fn page_query(page: &Page<'_>) -> Query {
    let mut conditions = vec!["1 = 1"];
    if page.filter.customer.is_some() {
        conditions.push("customer_id = :customer");
    }
    if page.filter.account.is_some() {
        conditions.push("account_id = :account");
    }
    if page.before.is_some() {
        conditions.push("(at < :before_at OR (at = :before_at AND id < :before_id))");
    }
    let mut q = Query::new(format!(
        "SELECT id, at, event, account_id, customer_id, reseller_id, token_id, login_id, ip, \
           user_agent, detail \
         FROM audit_log WHERE {} ORDER BY at DESC, id DESC LIMIT :limit",
        conditions.join(" AND ")
    ))
    .bind("limit", page.limit);
    if let Some(c) = page.filter.customer {
        q = q.bind("customer", c);
    }
    if let Some(a) = page.filter.account {
        q = q.bind("account", a);
    }
    if let Some(c) = page.before {
        q = q.bind("before_at", c.at).bind("before_id", c.id);
    }
    q
}

/// A page read: its entries, and where the next one starts (`None`: this was the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Paged {
    pub entries: Vec<Record>,
    pub next: Option<Cursor>,
}

/// One page of entries, newest first; read by the operator's page and by
/// `GET /api/v1/admin/audit`. One entry more than asked for is read to tell whether
/// another page follows.
pub async fn page(db: &Db, _operator: &Operator, page: &Page<'_>) -> Result<Paged, Error> {
    let one_more = Page {
        limit: page.limit.saturating_add(1),
        ..*page
    };
    let mut entries: Vec<Record> = db.all(page_query(&one_more)).await?;
    let limit = page.limit as usize;
    let next = if entries.len() > limit {
        entries.truncate(limit);
        entries.last().map(Record::cursor)
    } else {
        None
    };
    Ok(Paged { entries, next })
}

/// Entries deleted per statement by the retention sweep, and statements per cron tick:
/// a tick deletes at most 10,000 entries and what is left waits for the next one.
const SWEEP_CHUNK: u32 = 1000;
const SWEEP_CHUNKS: u32 = 10;

/// The statement that deletes one chunk of entries written before `before`, oldest
/// first, by the time index.
pub(crate) fn sweep_query(before: DateTime<Utc>) -> Query {
    Query::new(
        "DELETE FROM audit_log WHERE id IN \
         (SELECT id FROM audit_log WHERE at < :before ORDER BY at LIMIT :chunk)",
    )
    .bind("before", before)
    .bind("chunk", SWEEP_CHUNK)
}

/// Deletes entries written before `before`, in bounded chunks; the entries deleted.
pub async fn sweep(db: &Db, before: DateTime<Utc>) -> Result<usize, Error> {
    let mut deleted = 0;
    for _ in 0..SWEEP_CHUNKS {
        let n = db.run(sweep_query(before)).await?;
        deleted += n;
        if n < SWEEP_CHUNK as usize {
            break;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, db};

    fn operator() -> Operator {
        crate::Access::granted(Scope::Operator)
            .operator()
            .expect("the operator")
    }

    #[test]
    fn an_entry_keeps_its_scope_and_a_cut_login_id() {
        let db = db();
        let scope = Scope::Reseller("r-a".into());
        let login = "あ".repeat(30); // 90 bytes: byte 64 falls inside a character
        let origin = Origin {
            ip: Some("192.0.2.1".into()),
            user_agent: None,
        };
        let entry = Entry {
            login_id: Some(&login),
            scope: Some(&scope),
            origin: Some(&origin),
            ..Entry::of(AuditEvent::SigninFailure)
        };
        let now = DateTime::from_timestamp_millis(1_000).expect("in range");
        block_on(db.run(insert(&entry, now))).expect("writes");
        #[derive(serde::Deserialize)]
        struct Row {
            at: i64,
            reseller_id: Option<String>,
            customer_id: Option<String>,
            login_id: String,
            ip: String,
        }
        let row: Row = block_on(db.first(Query::new(
            "SELECT at, reseller_id, customer_id, login_id, ip FROM audit_log",
        )))
        .expect("reads")
        .expect("one row");
        assert_eq!(row.at, 1_000);
        assert_eq!(row.reseller_id.as_deref(), Some("r-a"));
        assert_eq!(row.customer_id, None);
        assert_eq!(row.login_id, "あ".repeat(21));
        assert_eq!(row.ip, "192.0.2.1");
    }

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(ms).expect("in range")
    }

    /// Entries at 1..=5 ms; 2 and 4 about account `a-1` of customer `c-1`, 3 at the same
    /// time as 2.
    fn logged() -> Db {
        let db = db();
        let c1 = Scope::Customer("c-1".into());
        for (ms, account) in [
            (1, None),
            (2, Some("a-1")),
            (2, None),
            (4, Some("a-1")),
            (5, None),
        ] {
            let entry = Entry {
                account_id: account,
                scope: account.map(|_| &c1),
                ..Entry::of(AuditEvent::SigninSuccess)
            };
            block_on(db.run(insert(&entry, at(ms)))).expect("writes");
        }
        db
    }

    fn ids(db: &Db, p: &Page<'_>) -> Vec<i64> {
        block_on(page(db, &operator(), p))
            .expect("reads")
            .entries
            .iter()
            .map(|r| r.id)
            .collect()
    }

    #[test]
    fn pages_run_newest_first_and_continue_from_their_cursor() {
        let db = logged();
        let first = Page {
            filter: Filter::default(),
            before: None,
            limit: 2,
        };
        assert_eq!(ids(&db, &first), [5, 4]);
        let read = block_on(page(&db, &operator(), &first)).expect("reads");
        assert_eq!(read.next, read.entries.last().map(Record::cursor));
        let next = Page {
            before: read.next,
            ..first
        };
        assert_eq!(ids(&db, &next), [3, 2], "same time: the later id first");
        let last = Page {
            before: Some(Cursor { at: at(2), id: 2 }),
            ..first
        };
        assert_eq!(ids(&db, &last), [1]);
    }

    #[test]
    fn a_page_of_one_account_or_customer_holds_only_its_entries() {
        let db = logged();
        let of = |filter| Page {
            filter,
            before: None,
            limit: 100,
        };
        let account = |a| Filter {
            account: Some(a),
            ..Filter::default()
        };
        let customer = |c| Filter {
            customer: Some(c),
            ..Filter::default()
        };
        assert_eq!(ids(&db, &of(account("a-1"))), [4, 2]);
        assert_eq!(ids(&db, &of(customer("c-1"))), [4, 2]);
        assert!(ids(&db, &of(customer("c-2"))).is_empty());
        let both = Filter {
            customer: Some("c-1"),
            account: Some("a-2"),
        };
        assert!(ids(&db, &of(both)).is_empty());
        let record = &block_on(page(&db, &operator(), &of(account("a-1"))))
            .expect("reads")
            .entries[0];
        assert_eq!(record.at, at(4));
        assert_eq!(record.event, "signin.success");
        assert_eq!(record.customer_id.as_deref(), Some("c-1"));
    }

    #[test]
    fn reading_a_page_walks_an_index_not_the_whole_log() {
        let db = db();
        let before = Some(Cursor { at: at(9), id: 9 });
        let filters = [
            Filter::default(),
            Filter {
                account: Some("a-1"),
                ..Filter::default()
            },
            Filter {
                customer: Some("c-1"),
                ..Filter::default()
            },
        ];
        for filter in filters {
            for before in [None, before] {
                let q = page_query(&Page {
                    filter,
                    before,
                    limit: 50,
                });
                let plan = db.plan(&q).expect("plans").join("\n");
                assert!(
                    plan.contains("USING INDEX audit_log_by"),
                    "{filter:?}: {plan}"
                );
                assert!(!plan.contains("TEMP B-TREE"), "{filter:?}: {plan}");
            }
        }
    }

    #[test]
    fn walking_the_pages_by_their_cursors_reads_every_entry_once() {
        let db = logged();
        let mut seen = Vec::new();
        let mut before = None;
        for _ in 0..10 {
            let p = Page {
                filter: Filter::default(),
                before,
                limit: 2,
            };
            let read = block_on(page(&db, &operator(), &p)).expect("reads");
            seen.extend(read.entries.iter().map(|r| r.id));
            let Some(next) = read.next else { break };
            before = Some(Cursor::parse(&next.token()).expect("reads its own token"));
        }
        assert_eq!(seen, [5, 4, 3, 2, 1]);
        let last = Page {
            filter: Filter::default(),
            before: Some(Cursor { at: at(2), id: 3 }),
            limit: 2,
        };
        let read = block_on(page(&db, &operator(), &last)).expect("reads");
        assert_eq!(read.entries.len(), 2);
        assert_eq!(read.next, None, "a full last page says no more follow");
    }

    #[test]
    fn a_cursor_reads_back_only_from_its_own_text() {
        let c = Cursor {
            at: at(1_700),
            id: 42,
        };
        assert_eq!(c.token(), "1700.42");
        assert_eq!(Cursor::parse("1700.42"), Some(c));
        for bad in [
            "", "1700", "1700.", ".42", "-1.2", "1.-2", "1.2.3", "a.b", "1e3.4",
        ] {
            assert_eq!(Cursor::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_entry_keeps_no_more_than_a_short_row_of_what_a_visitor_sent() {
        let db = db();
        let long = "長".repeat(300_000);
        let origin = Origin {
            ip: Some(long.clone()),
            user_agent: Some(long.clone()),
        };
        let entry = Entry {
            login_id: Some(&long),
            origin: Some(&origin),
            detail: Some(long.clone()),
            ..Entry::of(AuditEvent::SigninFailure)
        };
        block_on(db.run(insert(&entry, at(1)))).expect("writes");
        #[derive(serde::Deserialize)]
        struct Size {
            bytes: i64,
        }
        let size: Size = block_on(db.first(Query::new(
            "SELECT length(CAST(login_id || ip || user_agent || detail AS BLOB)) AS bytes \
             FROM audit_log",
        )))
        .expect("reads")
        .expect("one row");
        assert!(size.bytes <= 64 + 64 + 256 + 1024, "{}", size.bytes);
        let record = &block_on(page(
            &db,
            &operator(),
            &Page {
                filter: Filter::default(),
                before: None,
                limit: 1,
            },
        ))
        .expect("reads")
        .entries[0];
        assert_eq!(record.login_id.as_deref(), Some("長".repeat(21).as_str()));
        assert!(
            record
                .detail
                .as_deref()
                .is_some_and(|d| d.chars().all(|c| c == '長'))
        );
    }

    #[test]
    fn the_sweep_deletes_only_entries_before_its_cutoff_in_bounded_chunks() {
        let db = logged();
        assert_eq!(block_on(sweep(&db, at(3))).expect("sweeps"), 3);
        let left = Page {
            filter: Filter::default(),
            before: None,
            limit: 100,
        };
        assert_eq!(ids(&db, &left), [5, 4]);
        let many = db_with_entries(SWEEP_CHUNK * SWEEP_CHUNKS + 5);
        let first = block_on(sweep(&many, at(1_000_000))).expect("sweeps");
        assert_eq!(
            first,
            (SWEEP_CHUNK * SWEEP_CHUNKS) as usize,
            "one tick's worth"
        );
        assert_eq!(block_on(sweep(&many, at(1_000_000))).expect("sweeps"), 5);
        let plan = db.plan(&sweep_query(at(3))).expect("plans").join("\n");
        assert!(plan.contains("INDEX audit_log_by_time (at<?)"), "{plan}");
        assert!(!plan.contains("SCAN"), "{plan}");
    }

    fn db_with_entries(n: u32) -> Db {
        let db = db();
        let rows: Vec<Query> = (0..n)
            .map(|i| insert(&Entry::of(AuditEvent::TokenUsed), at(i64::from(i))))
            .collect();
        for chunk in rows.chunks(500) {
            block_on(db.batch(chunk.to_vec())).expect("writes");
        }
        db
    }
}
