-- Approval requests: one row per aggregate, written only by `ApprovalRepository::save`.
--
-- Conventions of this schema: tables are STRICT, so a wrongly typed value is refused instead
-- of silently stored. Ids are UUIDs as 16-byte BLOBs, whose byte order is creation order
-- (UUID v7). Times are INTEGER microseconds since the Unix epoch, UTC: exact, compared as
-- numbers, and the precision PostgreSQL keeps. JSON values are TEXT.
CREATE TABLE approvals (
    id                  BLOB    NOT NULL PRIMARY KEY,
    title               TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    requester           TEXT    NOT NULL,
    destination         TEXT    NOT NULL,
    -- A JSON object.
    metadata            TEXT    NOT NULL,
    callback_url        TEXT,
    required_approvals  INTEGER NOT NULL,
    -- A JSON array of identities.
    allowed_approvers   TEXT    NOT NULL,
    allow_self_approval INTEGER NOT NULL,
    status              TEXT    NOT NULL,
    -- The decisions recorded so far, a JSON array (src/approvals/row.rs says why not a table).
    decisions           TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    resolved_at         INTEGER,
    -- Optimistic concurrency: a save updates the row only if it still holds version - 1.
    version             INTEGER NOT NULL,

    -- The domain validates everything; these few checks guard the columns queries rely on.
    CONSTRAINT approvals_status_known
        CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    CONSTRAINT approvals_resolved_iff_final CHECK ((status = 'pending') = (resolved_at IS NULL)),
    CONSTRAINT approvals_version_positive CHECK (version >= 1),
    CONSTRAINT approvals_flag_is_boolean CHECK (allow_self_approval IN (0, 1))
) STRICT;

-- Keyset pagination by status: `WHERE status = ? AND id < ? ORDER BY id DESC`.
-- (Listing without a filter walks the primary key backwards.)
CREATE INDEX approvals_by_status ON approvals (status, id);

-- The expiry sweep reads only pending requests, oldest deadline first.
CREATE INDEX approvals_pending_by_expiry ON approvals (expires_at, id) WHERE status = 'pending';
