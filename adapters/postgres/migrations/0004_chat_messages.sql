-- Where the chat message of each aggregate lives, so later events update it instead of posting
-- again. Kept apart from `approvals` so recording a message never bumps an approval's version.
CREATE TABLE chat_messages (
    aggregate_id uuid PRIMARY KEY,
    channel      text NOT NULL,
    message_id   text NOT NULL
);
