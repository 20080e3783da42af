-- 022 (user_enabled) and 041 (party_settlement_changed) were written side by
-- side and each replaced the action CHECK with its own list; on a fresh
-- database the later one dropped user_enabled. One list again, the union of
-- both; security-events.test.ts checks it accepts every action the code writes.
ALTER TABLE security_events DROP CONSTRAINT IF EXISTS security_events_action_check;
ALTER TABLE security_events ADD CONSTRAINT security_events_action_check CHECK (action IN
  ('login', 'logout', 'session_revoked', 'api_key_created', 'api_key_revoked', 'user_created',
   'user_disabled', 'user_enabled', 'user_role_changed', 'user_password_changed',
   'party_settlement_changed'));
