-- A change to a party's settlement profile is a security event (docs/settlement.md,
-- "Settlement profiles"): who changed what, from where, and the cycle it takes
-- effect on. The inline CHECK of 005 is named security_events_action_check.
ALTER TABLE security_events DROP CONSTRAINT IF EXISTS security_events_action_check;
ALTER TABLE security_events ADD CONSTRAINT security_events_action_check CHECK (action IN
  ('login', 'logout', 'session_revoked', 'api_key_created', 'api_key_revoked', 'user_created',
   'user_disabled', 'user_role_changed', 'user_password_changed', 'party_settlement_changed'));
