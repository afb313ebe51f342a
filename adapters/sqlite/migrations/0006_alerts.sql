-- Alerts: one row per aggregate, written only by `AlertRepository::save`. Same conventions as
-- 0001_approvals.sql: STRICT, ids as 16-byte BLOBs, times as INTEGER microseconds (UTC).
CREATE TABLE alerts (
    id              BLOB    NOT NULL PRIMARY KEY,
    severity        TEXT    NOT NULL,
    summary         TEXT    NOT NULL,
    details         TEXT    NOT NULL,
    destination     TEXT    NOT NULL,
    dedup_key       TEXT    NOT NULL,
    raised_by       TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    -- How often the dedup key was raised while this alert was unresolved.
    count           INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    last_raised_at  INTEGER NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at INTEGER,
    resolved_by     TEXT,
    resolved_at     INTEGER,
    -- Optimistic concurrency: a save updates the row only if it still holds version - 1.
    version         INTEGER NOT NULL,

    -- The domain validates everything; these few checks guard the columns the dedup index and
    -- the queries rely on.
    CONSTRAINT alerts_status_known CHECK (status IN ('open', 'acknowledged', 'resolved')),
    CONSTRAINT alerts_resolved_iff_resolved_at
        CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
    CONSTRAINT alerts_count_in_range CHECK (count BETWEEN 1 AND 4294967295),
    CONSTRAINT alerts_version_positive CHECK (version >= 1)
) STRICT;

-- The dedup invariant: at most one unresolved alert per key. `RaiseAlert` looks before it
-- inserts, but two processes can both look, see nothing and insert; this index lets exactly
-- one of them commit, and the other's unique violation becomes `Duplicate`, upon which it
-- counts a repeat on the winner instead. Resolved alerts are history and drop out of the
-- index, which frees the key for the next alert.
--
-- It is also the index of `find_unresolved` (`WHERE dedup_key = ? AND status <> 'resolved'`),
-- so no second one is needed.
CREATE UNIQUE INDEX alerts_unresolved_dedup_key ON alerts (dedup_key) WHERE status <> 'resolved';
