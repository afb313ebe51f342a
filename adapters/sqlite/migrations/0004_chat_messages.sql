-- Where the chat message of each aggregate lives, so later events update it instead of posting
-- again. Kept apart from `approvals` so recording a message never bumps an approval's version.
CREATE TABLE chat_messages (
    aggregate_id BLOB NOT NULL PRIMARY KEY,
    channel      TEXT NOT NULL,
    message_id   TEXT NOT NULL
) STRICT;
