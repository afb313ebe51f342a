-- Each API client's webhook signing secrets (`whsec_…`). Stored as they are, not hashed:
-- signing a callback needs the secret itself, like the Slack signing secret in the
-- configuration. The previous secret still signs until previous_until (a rotation's grace).
-- Keys created before this migration have none until an operator rotates one.
ALTER TABLE api_keys
    ADD COLUMN webhook_secret                text,
    ADD COLUMN previous_webhook_secret       text,
    ADD COLUMN previous_webhook_secret_until timestamptz,
    ADD CONSTRAINT api_keys_previous_secret_has_an_end
        CHECK ((previous_webhook_secret IS NULL) = (previous_webhook_secret_until IS NULL));
