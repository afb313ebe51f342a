-- Approval requests: one row per aggregate, written only by `ApprovalRepository::save`.
CREATE TABLE approvals (
    id                  uuid        PRIMARY KEY,
    title               text        NOT NULL,
    description         text        NOT NULL,
    requester           text        NOT NULL,
    destination         text        NOT NULL,
    metadata            jsonb       NOT NULL,
    callback_url        text,
    required_approvals  smallint    NOT NULL,
    allowed_approvers   text[]      NOT NULL,
    allow_self_approval boolean     NOT NULL,
    status              text        NOT NULL,
    -- The decisions recorded so far, a JSON array (src/approvals/row.rs says why not a table).
    decisions           jsonb       NOT NULL,
    created_at          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    resolved_at         timestamptz,
    -- Optimistic concurrency: a save updates the row only if it still holds version - 1.
    version             bigint      NOT NULL,

    -- The domain validates everything; these few checks guard the columns queries rely on.
    CONSTRAINT approvals_status_known
        CHECK (status IN ('pending', 'approved', 'rejected', 'expired', 'cancelled')),
    CONSTRAINT approvals_resolved_iff_final CHECK ((status = 'pending') = (resolved_at IS NULL)),
    CONSTRAINT approvals_version_positive CHECK (version >= 1)
);

-- Keyset pagination by status: `WHERE status = $1 AND id < $2 ORDER BY id DESC`.
-- (Listing without a filter walks the primary key backwards.)
CREATE INDEX approvals_by_status ON approvals (status, id);

-- The expiry sweep reads only pending requests, oldest deadline first.
CREATE INDEX approvals_pending_by_expiry ON approvals (expires_at, id) WHERE status = 'pending';
