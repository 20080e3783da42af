-- Selective disclosure (issue 12, docs/transparency.md "Selective disclosure").
-- A journal record commits to each party's entries separately: the hashed
-- record carries only salted per-party commitments, and each party's salt is
-- HMAC-SHA256(disclosure_seed, party id) cut to 16 bytes. The seed never
-- leaves the server: a party's bundle carries its own salt, so it cannot
-- derive another party's salt and test guesses of that party's amounts.
-- Records written before this migration have no seed and stay whole records.
ALTER TABLE log_records ADD COLUMN disclosure_seed bytea
  CHECK (disclosure_seed IS NULL OR octet_length(disclosure_seed) = 16);
