-- The transactional outbox: one row per domain event, inserted in the same transaction as the
-- aggregate change that raised it, and delivered by the relay (src/outbox.rs).
CREATE TABLE outbox (
    -- Increasing in insertion order; the delivery order within one aggregate. AUTOINCREMENT
    -- so an id is never reused, even after the newest rows were deleted: consumers may
    -- deduplicate by it.
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    BLOB    NOT NULL,
    event_type      TEXT    NOT NULL,
    -- The serialized domain event, JSON.
    payload         TEXT    NOT NULL,
    -- pending: waiting or leased; delivered and dead are final.
    status          TEXT    NOT NULL DEFAULT 'pending',
    -- Failed delivery attempts so far.
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- Set by a claim: no other relay takes the row before this time.
    locked_until    INTEGER,
    last_error      TEXT,
    -- The time of the event (the caller's clock), not of the insert.
    created_at      INTEGER NOT NULL,
    -- When it was delivered or dead-lettered.
    finished_at     INTEGER,

    CONSTRAINT outbox_status_known CHECK (status IN ('pending', 'delivered', 'dead')),
    CONSTRAINT outbox_finished_iff_final CHECK ((status = 'pending') = (finished_at IS NULL))
) STRICT;

-- Delivered rows pile up; the claim must only ever touch pending ones, hence partial indexes.
--
-- "Is there an older pending row of this aggregate?" — the claim's per-aggregate ordering rule.
CREATE INDEX outbox_pending_by_aggregate ON outbox (aggregate_id, id) WHERE status = 'pending';
-- "Which pending rows are due?" — where the claim starts.
CREATE INDEX outbox_pending_by_due_time ON outbox (next_attempt_at) WHERE status = 'pending';
-- Dead letters, newest first, for operators.
CREATE INDEX outbox_dead ON outbox (id) WHERE status = 'dead';
