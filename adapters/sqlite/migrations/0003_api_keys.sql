-- REST API clients. Only the SHA-256 of each key is stored; the key itself is shown once.
CREATE TABLE api_keys (
    name       TEXT    NOT NULL PRIMARY KEY,
    hash       TEXT    NOT NULL UNIQUE,
    -- Microseconds since the Unix epoch, UTC.
    created_at INTEGER NOT NULL
) STRICT;
