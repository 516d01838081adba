-- Fixed-window rate counters (domain::window, store::rates): enrollment attempts per
-- device id and per address, the operator API's requests per token, accounts issued per
-- token. One row per key, restarted in place when its window has passed; the cron deletes
-- rows whose window ended a day ago.
CREATE TABLE rate_hits (
  key TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  hits INTEGER NOT NULL
);
