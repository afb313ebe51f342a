-- Fencing tokens for idempotency claims. Every claim of a key (its first use, or a takeover
-- after the holder's lock ran out) writes a token of its own, and every later write of that
-- request names it: the answer stored with the change (a receipt), `complete`, `release`. A
-- request that stalled past its lock, and whose key a retry took over, finds a token that is
-- not its own and writes nothing — so its change cannot commit beside the retry's.
--
-- A UUID as a 16-byte BLOB, like every id here. The empty default, which no claim carries,
-- is for rows written before this migration: they still replay, and a takeover replaces the
-- token as for any other row. (SQLite only adds columns with a constant default.)
ALTER TABLE idempotency_keys ADD COLUMN claim_token BLOB NOT NULL DEFAULT x'';
