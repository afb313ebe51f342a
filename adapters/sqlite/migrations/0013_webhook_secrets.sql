-- Each API client's webhook signing secrets (`whsec_…`). Stored as they are, not hashed:
-- signing a callback needs the secret itself, like the Slack signing secret in the
-- configuration. The previous secret still signs until previous_webhook_secret_until
-- (a rotation's grace; microseconds since the Unix epoch, UTC). Keys created before this
-- migration have none until an operator rotates one.
ALTER TABLE api_keys ADD COLUMN webhook_secret TEXT;
ALTER TABLE api_keys ADD COLUMN previous_webhook_secret TEXT;
ALTER TABLE api_keys ADD COLUMN previous_webhook_secret_until INTEGER;
