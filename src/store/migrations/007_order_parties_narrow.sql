-- order_parties indexes an order under the parties that need an index to
-- find their orders: the merchant, suppliers and referrers. The shared kinds
-- (platform, PSP, tax, logistics; party-accounts.ts `shared_kinds`) have a leg
-- in most orders, so for them the index was most of the table's rows and
-- most of its cost per booked order (docs/performance.md) while a scan of the
-- orders finds theirs just as fast. Whether a shared party is in an order is
-- read from the order's split transaction in the journal instead.

-- Whether the party has a leg in the order: indexed parties through
-- order_parties, shared ones through a posting of the order's split
-- transaction on one of the party's accounts. SECURITY DEFINER so that row
-- security on these tables does not recurse into the policies that call it.
CREATE FUNCTION clearsplit_order_has_party(p_tenant text, p_order text, p_party text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM order_parties op
                  WHERE op.tenant_id = p_tenant AND op.order_id = p_order AND op.party_id = p_party)
      OR EXISTS (SELECT 1 FROM orders o
                  WHERE o.tenant_id = p_tenant AND o.id = p_order AND o.merchant_id = p_party)
      OR (EXISTS (SELECT 1 FROM parties pa
                   WHERE pa.tenant_id = p_tenant AND pa.id = p_party AND pa.kind IN ('platform', 'psp', 'tax', 'logistics'))
          AND EXISTS (SELECT 1 FROM orders o
                        JOIN postings p ON p.tenant_id = o.tenant_id AND p.transaction_id = o.transaction_id
                        JOIN accounts a ON a.tenant_id = p.tenant_id AND a.id = p.account_id
                       WHERE o.tenant_id = p_tenant AND o.id = p_order AND a.party_id = p_party))
$$;

CREATE OR REPLACE FUNCTION clearsplit_scope_sees_order(p_tenant text, p_order text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT clearsplit_scope_party() = '*' OR clearsplit_order_has_party(p_tenant, p_order, clearsplit_scope_party())
$$;

DELETE FROM order_parties op USING parties pa
 WHERE pa.tenant_id = op.tenant_id AND pa.id = op.party_id AND pa.kind IN ('platform', 'psp', 'tax', 'logistics');
