-- The claim's ordering check ("is this row the oldest unfinished one of its sink and
-- aggregate?") gets an index that only it can use, so its plan no longer depends on the
-- planner's statistics (adapters/sqlite/src/outbox.rs, at the claim, says why).
-- `finished_at IS NULL` selects the same rows as `status = 'pending'` (the check constraint
-- outbox_finished_iff_final), but no `status = 'pending'` index matches it.
CREATE INDEX outbox_unfinished_by_lane ON outbox (sink, aggregate_id, id)
    WHERE finished_at IS NULL;
DROP INDEX outbox_pending_by_sink_aggregate;
-- No statement reads it any more: the claim starts from outbox_pending_by_sink_id and
-- filters on the due time. Keeping it would give the planner one more index to misjudge.
DROP INDEX outbox_pending_by_sink_due_time;
