-- A party can be deactivated (issue 12 §6): an inactive party is named by no new
-- order (422 party_inactive), while its existing orders refund, release and
-- settle as before. A column of its own rather than a third `status` value:
-- `status` (active, suspended) arrives in migration 040, which on a fresh
-- database runs after this one.
ALTER TABLE parties ADD COLUMN deactivated_at timestamptz;
