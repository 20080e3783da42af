-- Users are managed over the API (issue 12 §6): PATCH /v1/users/{id} can enable
-- a disabled user again, recorded as its own security event.
ALTER TABLE security_events DROP CONSTRAINT security_events_action_check;
ALTER TABLE security_events ADD CONSTRAINT security_events_action_check CHECK (action IN
  ('login', 'logout', 'session_revoked', 'api_key_created', 'api_key_revoked', 'user_created',
   'user_disabled', 'user_enabled', 'user_role_changed', 'user_password_changed'));
