-- Reports: per-account daily aggregates of the journal, folded off the
-- booking's critical path from the log's commit-ordered leaves (every journal
-- transaction is a log record, and leaves are assigned in commit order), a
-- durable cursor per tenant, saved report definitions and the files that
-- scheduled runs produced (docs/reports.md).

-- Σ of the postings of one account on one UTC day, per journal kind. A
-- statement reads these for whole days and adds the postings of transactions
-- not folded yet (the log records after the cursor's leaf).
CREATE TABLE account_daily (
  tenant_id text NOT NULL,
  account_id uuid NOT NULL,
  day date NOT NULL,
  kind text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
  amount_minor bigint NOT NULL,
  postings bigint NOT NULL CHECK (postings >= 0),
  PRIMARY KEY (tenant_id, account_id, day, kind)
);

-- The last log leaf whose journal transaction is folded into account_daily.
CREATE TABLE report_fold_cursors (
  tenant_id text PRIMARY KEY,
  leaf_index bigint NOT NULL CHECK (leaf_index >= -1),
  updated_at timestamptz NOT NULL
);

ALTER TABLE account_daily ENABLE ROW LEVEL SECURITY;
CREATE POLICY account_daily_scope ON account_daily FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant() AND clearsplit_scope_sees_account(tenant_id, account_id));

ALTER TABLE report_fold_cursors ENABLE ROW LEVEL SECURITY;
CREATE POLICY report_fold_cursors_scope ON report_fold_cursors FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant());

-- Saved custom reports: a dataset, dimensions, measures, filters and a
-- period, owned by a user or key, private or shared within the tenant.
CREATE TABLE saved_reports (
  tenant_id text NOT NULL REFERENCES tenants (id),
  id uuid NOT NULL,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  owner text NOT NULL CHECK (length(owner) BETWEEN 1 AND 200),
  -- The owner's party for party-scoped owners: such a report only ever reads that party.
  party_id text,
  shared boolean NOT NULL DEFAULT false,
  definition jsonb NOT NULL,
  schedule text CHECK (schedule IN ('daily', 'weekly', 'monthly')),
  schedule_format text CHECK (schedule_format IN ('json', 'csv', 'xlsx', 'pdf')),
  next_run_at timestamptz,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX saved_reports_due ON saved_reports (next_run_at) WHERE schedule IS NOT NULL;

-- Files produced by scheduled runs.
CREATE TABLE report_runs (
  tenant_id text NOT NULL,
  id uuid NOT NULL,
  report_id uuid NOT NULL,
  period_from timestamptz NOT NULL,
  period_to timestamptz NOT NULL,
  format text NOT NULL,
  content_type text NOT NULL,
  body bytea NOT NULL,
  sha256 text NOT NULL CHECK (length(sha256) = 64),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, report_id, period_from, period_to, format),
  FOREIGN KEY (tenant_id, report_id) REFERENCES saved_reports (tenant_id, id)
);

ALTER TABLE saved_reports ENABLE ROW LEVEL SECURITY;
-- A party sees its own party's reports and the platform's shared ones; never another party's.
CREATE POLICY saved_reports_scope ON saved_reports FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND (clearsplit_scope_party() = '*' OR party_id = clearsplit_scope_party() OR (shared AND party_id IS NULL)));
ALTER TABLE report_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY report_runs_scope ON report_runs FOR SELECT TO clearsplit_reader
  USING (tenant_id = clearsplit_scope_tenant()
    AND EXISTS (SELECT 1 FROM saved_reports r WHERE r.tenant_id = report_runs.tenant_id AND r.id = report_runs.report_id));
