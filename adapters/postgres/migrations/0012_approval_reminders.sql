-- Reminders of pending requests (docs/adr/0018-reminders-are-events-of-the-request.md).
--
-- `remind_after_seconds` is the policy's interval (NULL: nobody is reminded), `reminded_at`
-- when the approvers were last reminded, `expiry_warned` whether the one warning before
-- expiry went out. `next_reminder_at` is derived: the domain's answer to "when is the next
-- reminder due", written by every save so that the sweep finds due requests by index.
ALTER TABLE approvals
    ADD COLUMN remind_after_seconds bigint,
    ADD COLUMN reminded_at          timestamptz,
    ADD COLUMN expiry_warned        boolean NOT NULL DEFAULT false,
    ADD COLUMN next_reminder_at     timestamptz;

-- The reminder sweep reads only pending requests with a reminder to come, earliest first.
CREATE INDEX approvals_pending_by_reminder ON approvals (next_reminder_at, id)
    WHERE status = 'pending' AND next_reminder_at IS NOT NULL;
