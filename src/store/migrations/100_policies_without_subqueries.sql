-- Issue 20: Citus refuses a row-level security policy whose expression holds a
-- subquery ("Subqueries are not supported in policies on distributed tables").
-- Six policies looked up a parent row with EXISTS (…); each now calls a
-- SECURITY DEFINER function that asks the same question, as the policies on
-- orders and accounts already do (005_auth.sql). Who sees what is unchanged:
-- a definer function reads the parent without the parent's own policy, so
-- where that policy mattered (report_runs → saved_reports) its condition is
-- repeated inside the function. src/store/schema-invariants.test.ts keeps
-- policies free of subqueries.

CREATE FUNCTION clearsplit_scope_sees_log_record(p_tenant text, p_record uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM log_records r
                  WHERE r.tenant_id = p_tenant AND r.id = p_record AND r.party_ids @> ARRAY[clearsplit_scope_party()])
$$;

CREATE FUNCTION clearsplit_scope_sees_event(p_tenant text, p_event uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM events e
                  WHERE e.tenant_id = p_tenant AND e.id = p_event AND e.party_ids @> ARRAY[clearsplit_scope_party()])
$$;

CREATE FUNCTION clearsplit_scope_sees_payout(p_tenant text, p_payout uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM payouts p
                  WHERE p.tenant_id = p_tenant AND p.id = p_payout AND p.party_id = clearsplit_scope_party())
$$;

-- The saved report's own policy (050_reports.sql), asked of the run's report.
CREATE FUNCTION clearsplit_scope_sees_saved_report(p_tenant text, p_report uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM saved_reports r
                  WHERE r.tenant_id = p_tenant AND r.id = p_report AND r.tenant_id = clearsplit_scope_tenant()
                    AND (clearsplit_scope_party() = '*' OR r.party_id = clearsplit_scope_party()
                         OR (r.shared AND r.party_id IS NULL)))
$$;

CREATE FUNCTION clearsplit_scope_sees_webhook_endpoint(p_tenant text, p_endpoint uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM webhook_endpoints w
                  WHERE w.tenant_id = p_tenant AND w.id = p_endpoint AND w.party_id = clearsplit_scope_party())
$$;

CREATE FUNCTION clearsplit_scope_sees_webhook_delivery(p_tenant text, p_delivery uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM webhook_deliveries d
                   JOIN webhook_endpoints w ON w.tenant_id = d.tenant_id AND w.id = d.endpoint_id
                  WHERE d.tenant_id = p_tenant AND d.id = p_delivery AND w.party_id = clearsplit_scope_party())
$$;

ALTER POLICY log_leaves_scope ON log_leaves
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR clearsplit_scope_sees_log_record(tenant_id, record_id)));

ALTER POLICY event_seqs_scope ON event_seqs
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR clearsplit_scope_sees_event(tenant_id, event_id)));

ALTER POLICY payout_entries_scope ON payout_entries
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR clearsplit_scope_sees_payout(tenant_id, payout_id)));

ALTER POLICY report_runs_scope ON report_runs
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_sees_saved_report(tenant_id, report_id));

ALTER POLICY webhook_deliveries_scope ON webhook_deliveries
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR clearsplit_scope_sees_webhook_endpoint(tenant_id, endpoint_id)));

ALTER POLICY webhook_attempts_scope ON webhook_attempts
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR clearsplit_scope_sees_webhook_delivery(tenant_id, delivery_id)));
