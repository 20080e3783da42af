-- Parties are read under the caller's read scope like every other party-scoped
-- table (issue 13): the reader role sees the tenant's parties, or only its own
-- party when the scope names one. Writes run as the owner and are unaffected.
ALTER TABLE parties ENABLE ROW LEVEL SECURITY;
CREATE POLICY parties_scope ON parties FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND (clearsplit_scope_party() = '*' OR id = clearsplit_scope_party()));
