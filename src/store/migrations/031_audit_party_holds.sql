-- Party-level cases hold the party's funds (docs/audit.md, "Party holds"):
-- while a rule or manual case on a party (no order) is open, its payouts stop,
-- and the orders it is the merchant of are not released. The order view names
-- those cases too, through the same SECURITY DEFINER function as before.
CREATE OR REPLACE FUNCTION clearsplit_order_open_cases(p_tenant text, p_order text) RETURNS text[]
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT coalesce(array_agg(x.id::text ORDER BY x.opened_at, x.id), '{}') FROM (
    SELECT c.id, c.opened_at FROM audit_cases c
     WHERE c.tenant_id = p_tenant AND c.order_id = p_order
       AND c.state IN ('open', 'claimed', 'awaiting_second_approval', 'rejected')
    UNION ALL
    SELECT c.id, c.opened_at FROM audit_cases c JOIN orders o ON o.tenant_id = c.tenant_id AND o.merchant_id = c.party_id
     WHERE c.tenant_id = p_tenant AND o.id = p_order
       AND c.kind <> 'dispute' AND c.order_id IS NULL
       AND c.state IN ('open', 'claimed', 'awaiting_second_approval', 'rejected')) x
$$;
