-- The generic party-scoped role (issue 12): referrers, logistics, the tax
-- authority and PSPs receive legs too, so they get a role bound to their
-- party, isolated like merchants and suppliers. The role checks of 005 are
-- replaced by ones that know it; a party role without a party is refused.

ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_valid;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_valid
  CHECK (role IN ('platform_admin', 'finance', 'reviewer', 'auditor', 'merchant', 'supplier', 'integration', 'party')) NOT VALID;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_party_scoped;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_party_scoped
  CHECK (role NOT IN ('merchant', 'supplier', 'party') OR party_id IS NOT NULL) NOT VALID;

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('platform_admin', 'finance', 'reviewer', 'auditor', 'merchant', 'supplier', 'integration', 'party'));
ALTER TABLE users DROP CONSTRAINT users_check;
ALTER TABLE users ADD CONSTRAINT users_party_scoped
  CHECK ((role IN ('merchant', 'supplier', 'party')) = (party_id IS NOT NULL));
