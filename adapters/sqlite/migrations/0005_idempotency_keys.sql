-- The REST API's `Idempotency-Key` records: which key each client used, for which request
-- (the fingerprint), and the response to replay once it completed.
CREATE TABLE idempotency_keys (
    -- The client (an API key's name); keys of different clients never collide.
    scope            TEXT    NOT NULL,
    key              TEXT    NOT NULL,
    -- A digest of method, path and body: the same key with another request is a mismatch.
    fingerprint      TEXT    NOT NULL,
    -- While the first request runs, others wait until then; past it, its holder is presumed
    -- dead and the key can be taken over. Microseconds since the Unix epoch, UTC.
    locked_until     INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    -- The stored response, all NULL while the request is in flight. Headers are a JSON array
    -- of [name, value] pairs.
    response_status  INTEGER,
    response_headers TEXT,
    response_body    BLOB,

    PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_keys_response_whole CHECK (
        (response_status IS NULL) = (response_headers IS NULL)
        AND (response_status IS NULL) = (response_body IS NULL))
) STRICT;

-- The purge of expired records.
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
