#!/usr/bin/env python3
"""The reference for scripts/bench: the same rows the Worker stores for each report of a
bench dump, inserted straight into a fresh SQLite file with python3's built-in sqlite3
(executemany, one transaction per report, python's default journal and sync settings),
into the tables of migrations/ (same columns, same primary keys and indexes).

Per report: the report id (device_reports), every event id (device_events), the threat
rows (threats, compacted by the same key with ON CONFLICT ... count + 1) and the daily
rollup (threat_days). The device row update and the heartbeat hour are left out: they are
one row per report, not per event.

Usage: bench-sqlite.py DUMP.jsonl  -> prints one JSON object with events/s.
"""
import datetime
import glob
import json
import os
import sqlite3
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
JST = datetime.timezone(datetime.timedelta(hours=9))
WINDOW_MS = 600_000  # domain::ingest::COMPACT_WINDOW


def ms(rfc3339):
    return int(datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000)


def day(t_ms):
    return datetime.datetime.fromtimestamp(t_ms / 1000, JST).strftime("%Y-%m-%d")


def threat_row(customer, device, e):
    t = e["threat"]
    src, dst, f = e.get("src") or {}, e.get("dst") or {}, e.get("file") or {}
    at = ms(e["occurred_at"])
    sig = f"sid:{t['signature_id']}" if t.get("signature_id") else f"name:{t['name']}"
    src_key = src.get("ip") or (src.get("mac") or "").lower()
    return (customer, device, at // WINDOW_MS * WINDOW_MS, sig, src_key, e["action"],
            e["direction"], e["function"], day(at), e["event_id"], at, at, 1, t["name"],
            t.get("signature_id"), t.get("category"), t["vendor_severity"], src.get("ip"),
            src.get("port"), src.get("mac"), dst.get("ip"), dst.get("port"), e.get("protocol"),
            e.get("url"), f.get("name"), f.get("sha256"))


THREATS = """INSERT INTO threats (customer_id, device_id, bucket, sig_key, src_key, action,
  direction, function, day, first_event_id, first_at, last_at, count, name, signature_id,
  category, vendor_severity, src_ip, src_port, src_mac, dst_ip, dst_port, protocol, url,
  file_name, file_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (device_id, bucket, sig_key, src_key, action, direction) DO UPDATE SET
  count = count + 1, first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at)"""
DAYS = """INSERT INTO threat_days (customer_id, day, device_id, function, vendor_severity, events)
  VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT DO UPDATE SET events = events + 1"""


def main(dump):
    reports = [json.loads(line) for line in open(dump, encoding="utf-8")]
    path = os.path.join(tempfile.mkdtemp(prefix="mimamori-bench-"), "reference.sqlite")
    db = sqlite3.connect(path, isolation_level=None)
    for migration in sorted(glob.glob(os.path.join(ROOT, "migrations", "*.sql"))):
        db.executescript(open(migration, encoding="utf-8").read())
    # Prepare every row first: only the inserts are timed.
    batches = []
    for i, r in enumerate(reports):
        device, report = r["device_id"], r["report"]
        customer = "cus_bench"
        threats = [e for e in report["events"] if e["type"] == "threat"]
        rows = [threat_row(customer, device, e) for e in threats]
        batches.append((
            (device, report["report_id"], i, 0, len(report["events"])),
            [(device, e["event_id"], i, 0) for e in report["events"]],
            rows,
            [(customer, row[8], device, row[7], row[16]) for row in rows],
        ))
    events = sum(len(b[1]) for b in batches)
    start = time.perf_counter()
    for report_row, ids, rows, days in batches:
        db.execute("BEGIN")
        db.execute("INSERT OR IGNORE INTO device_reports VALUES (?, ?, ?, ?, ?)", report_row)
        db.executemany("INSERT OR IGNORE INTO device_events VALUES (?, ?, ?, ?)", ids)
        db.executemany(THREATS, rows)
        db.executemany(DAYS, days)
        db.execute("COMMIT")
    wall = time.perf_counter() - start
    stored = db.execute("SELECT count(*), sum(count) FROM threats").fetchone()
    print(json.dumps({"events": events, "wall_s": round(wall, 3),
                      "events_per_s": round(events / wall), "threat_rows": stored[0],
                      "sqlite": sqlite3.sqlite_version}))


if __name__ == "__main__":
    main(sys.argv[1])
