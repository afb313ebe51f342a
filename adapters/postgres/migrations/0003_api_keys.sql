-- REST API clients. Only the SHA-256 of each key is stored; the key itself is shown once.
CREATE TABLE api_keys (
    name       text        PRIMARY KEY,
    hash       text        NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);
