-- Alerts: one row per aggregate, written only by `AlertRepository::save`.
CREATE TABLE alerts (
    id              uuid        PRIMARY KEY,
    severity        text        NOT NULL,
    summary         text        NOT NULL,
    details         text        NOT NULL,
    destination     text        NOT NULL,
    dedup_key       text        NOT NULL,
    raised_by       text        NOT NULL,
    status          text        NOT NULL,
    -- How often the dedup key was raised while this alert was unresolved. The domain counts
    -- in a u32, which needs a bigint.
    count           bigint      NOT NULL,
    created_at      timestamptz NOT NULL,
    last_raised_at  timestamptz NOT NULL,
    acknowledged_by text,
    acknowledged_at timestamptz,
    resolved_by     text,
    resolved_at     timestamptz,
    -- Optimistic concurrency: a save updates the row only if it still holds version - 1.
    version         bigint      NOT NULL,

    -- The domain validates everything; these few checks guard the columns the dedup index and
    -- the queries rely on.
    CONSTRAINT alerts_status_known CHECK (status IN ('open', 'acknowledged', 'resolved')),
    CONSTRAINT alerts_resolved_iff_resolved_at
        CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
    CONSTRAINT alerts_count_in_range CHECK (count BETWEEN 1 AND 4294967295),
    CONSTRAINT alerts_version_positive CHECK (version >= 1)
);

-- The dedup invariant: at most one unresolved alert per key. `RaiseAlert` looks before it
-- inserts, but two processes can both look, see nothing and insert; this index lets exactly
-- one of them commit, and the other's unique violation becomes `Duplicate`, upon which it
-- counts a repeat on the winner instead. Resolved alerts are history and drop out of the
-- index, which frees the key for the next alert.
--
-- It is also the index of `find_unresolved` (`WHERE dedup_key = $1 AND status <> 'resolved'`),
-- so no second one is needed.
CREATE UNIQUE INDEX alerts_unresolved_dedup_key ON alerts (dedup_key) WHERE status <> 'resolved';
