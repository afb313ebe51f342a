-- Delivered rows are deleted once they are older than the retention
-- (HEXAGATE_OUTBOX_RETENTION); this index hands the purge the oldest ones directly, so it
-- never walks the rows it keeps.
CREATE INDEX outbox_delivered_by_time ON outbox (finished_at) WHERE status = 'delivered';
