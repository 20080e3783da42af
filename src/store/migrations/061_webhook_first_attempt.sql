-- A webhook delivery's first attempt is recorded on the delivery itself
-- (decisions §30): most deliveries succeed at once, and a webhook_attempts row
-- for each cost the database more than the rest of recording it.
-- webhook_attempts keeps the later attempts (and every attempt of deliveries
-- made before this migration); the deliveries list shows both as one log.
ALTER TABLE webhook_deliveries
  ADD COLUMN first_attempt_started_at timestamptz,
  ADD COLUMN first_attempt_latency_ms integer CHECK (first_attempt_latency_ms >= 0),
  ADD COLUMN first_attempt_status_code integer,
  ADD COLUMN first_attempt_error text CHECK (length(first_attempt_error) <= 1000);
