-- Fencing tokens for idempotency claims. Every claim of a key (its first use, or a takeover
-- after the holder's lock ran out) writes a token of its own, and every later write of that
-- request names it: the answer stored with the change (a receipt), `complete`, `release`. A
-- request that stalled past its lock, and whose key a retry took over, finds a token that is
-- not its own and writes nothing — so its change cannot commit beside the retry's.
--
-- The default gives rows written before this migration, or by an instance of the previous
-- version during a rolling upgrade, a token that no claim of this version holds. They still
-- replay, and a takeover replaces the token as for any other row.
ALTER TABLE idempotency_keys
    ADD COLUMN claim_token uuid NOT NULL DEFAULT gen_random_uuid();
