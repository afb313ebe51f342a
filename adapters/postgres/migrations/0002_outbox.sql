-- The transactional outbox: one row per domain event, inserted in the same transaction as the
-- aggregate change that raised it, and delivered by the relay (src/outbox.rs).
CREATE TABLE outbox (
    -- Increasing in insertion order; the delivery order within one aggregate. Keep the
    -- sequence's default CACHE 1: cached ranges per session would let a later insert take a
    -- smaller id, and the claim's ordering argument relies on ids growing in commit order
    -- within an aggregate.
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    aggregate_type  text        NOT NULL,
    aggregate_id    uuid        NOT NULL,
    event_type      text        NOT NULL,
    payload         jsonb       NOT NULL,
    -- pending: waiting or leased; delivered and dead are final.
    status          text        NOT NULL DEFAULT 'pending',
    -- Failed delivery attempts so far.
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    -- Set by a claim: no other relay takes the row before this time.
    locked_until    timestamptz,
    last_error      text,
    -- The time of the event (the caller's clock), not of the insert.
    created_at      timestamptz NOT NULL,
    -- When it was delivered or dead-lettered.
    finished_at     timestamptz,

    CONSTRAINT outbox_status_known CHECK (status IN ('pending', 'delivered', 'dead')),
    CONSTRAINT outbox_finished_iff_final CHECK ((status = 'pending') = (finished_at IS NULL))
);

-- Delivered rows pile up (millions, eventually); the claim must only ever touch pending ones,
-- hence partial indexes.
--
-- "Is there an older pending row of this aggregate?" — the claim's per-aggregate ordering rule.
-- Also what `stats` counts.
CREATE INDEX outbox_pending_by_aggregate ON outbox (aggregate_id, id) WHERE status = 'pending';
-- "Which pending rows are due?" — where the claim starts.
CREATE INDEX outbox_pending_by_due_time ON outbox (next_attempt_at) WHERE status = 'pending';
-- Dead letters, newest first, for operators.
CREATE INDEX outbox_dead ON outbox (id) WHERE status = 'dead';
