-- Fan-out: each outbox row is one (event, sink) pair, with its own attempts, lease and dead
-- letter (application/src/ports/outbox.rs). Rows written before this migration were for
-- chat, the only destination there was, so they are delivered there after the upgrade. The
-- default also keeps instances of the previous release writing chat rows during a rolling
-- upgrade; this release always names the sink.
ALTER TABLE outbox ADD COLUMN sink TEXT NOT NULL DEFAULT 'chat';

-- Set when an operator re-drives a dead letter: the retry budget counts from here instead
-- of from created_at, the event's time. Microseconds since the epoch, like every time here.
ALTER TABLE outbox ADD COLUMN trying_since INTEGER;

-- The claim's per-aggregate ordering rule and its starting point now hold per sink.
DROP INDEX outbox_pending_by_aggregate;
DROP INDEX outbox_pending_by_due_time;
CREATE INDEX outbox_pending_by_sink_aggregate ON outbox (sink, aggregate_id, id)
    WHERE status = 'pending';
CREATE INDEX outbox_pending_by_sink_due_time ON outbox (sink, next_attempt_at)
    WHERE status = 'pending';
-- Where the claim starts: the oldest pending rows of one sink, in id order. Without it the
-- claim walks the primary key past every delivered row older than the first pending one,
-- so its cost grows with the outbox's history instead of staying with its backlog.
CREATE INDEX outbox_pending_by_sink_id ON outbox (sink, id) WHERE status = 'pending';
-- Dead letters of one sink, for operators and the per-sink metrics.
CREATE INDEX outbox_dead_by_sink ON outbox (sink, id) WHERE status = 'dead';
