-- A webhook delivery waits for its first attempt as a narrow row in
-- webhook_queue, and its webhook_deliveries row is written once, with the
-- first attempt's outcome, when that attempt is recorded (decisions §39).
-- Before this, the fan-out inserted the ~1 KB delivery row and the record
-- rewrote it: an update that cannot be heap-only (status is in the due
-- index's predicate) and was most of the webhooks role's database cost.
-- The queue row carries what is needed to rebuild the delivery's body from its
-- event (the body is a pure function of the event and the endpoint's sequence
-- number), so a delivery whose process died before the record is claimed from
-- here and sent again with the same webhook-id and the same bytes.
--
-- No foreign key to webhook_endpoints: the check would cost a lookup per
-- delivery, endpoints are never deleted (they are disabled), and the row's
-- delivery gets the key when it is written. Rows of retries, of test messages
-- and of deliveries made before this migration stay in webhook_deliveries.
CREATE TABLE webhook_queue (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  endpoint_id uuid NOT NULL,
  event_id uuid NOT NULL,
  event_seq bigint NOT NULL,
  sequence bigint NOT NULL CHECK (sequence >= 1),
  type text NOT NULL,
  -- Set by the fan-out (the delivery is handed to its process's sender) and by a claim.
  lease_until timestamptz,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, endpoint_id, event_id)
);

-- Who may see a queued delivery is who may see its endpoint, as for webhook_deliveries (migration 100).
ALTER TABLE webhook_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_queue_scope ON webhook_queue FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR clearsplit_scope_sees_webhook_endpoint(tenant_id, endpoint_id)));
GRANT SELECT ON webhook_queue TO clearsplit_reader;
