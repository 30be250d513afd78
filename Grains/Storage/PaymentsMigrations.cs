using FinCore.Persistence;

namespace FinCore.Grains.Storage;

/// <summary>The payments schema: tenants and keys, the charges read model, the events table (the transactional
/// outbox, insert-only) and the hash chain over it (<c>audit_chain</c>, fed from <c>audit_pending</c>); customers,
/// accounts, transfers and the ledger.</summary>
public sealed class PaymentsMigrations : IMigrationSource
{
    public IEnumerable<Migration> GetMigrations()
    {
        yield return new Migration("payments/001_init", """
            CREATE TABLE IF NOT EXISTS tenants (
                id text PRIMARY KEY,
                name text NOT NULL,
                currency char(3) NOT NULL,
                max_amount bigint NOT NULL,
                requests_per_second integer NOT NULL,
                velocity_customer integer NOT NULL,
                velocity_payment_method integer NOT NULL,
                webhook_url text,
                webhook_secret text,
                created_at timestamptz NOT NULL);
            CREATE TABLE IF NOT EXISTS api_keys (
                key_hash bytea PRIMARY KEY,
                key_id text NOT NULL UNIQUE,
                tenant_id text NOT NULL REFERENCES tenants (id),
                created_at timestamptz NOT NULL,
                revoked_at timestamptz);
            CREATE TABLE IF NOT EXISTS charges (
                tenant_id text NOT NULL,
                id text NOT NULL,
                amount bigint NOT NULL,
                currency char(3) NOT NULL,
                status text NOT NULL,
                payment_method text NOT NULL,
                description text,
                customer text,
                metadata jsonb NOT NULL,
                attempts integer NOT NULL,
                psp_reference text,
                failure_code text,
                failure_message text,
                risk_score integer NOT NULL,
                risk_decision text NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (tenant_id, id));
            CREATE INDEX IF NOT EXISTS charges_by_created ON charges (tenant_id, created_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS charges_by_status ON charges (tenant_id, status, created_at DESC, id DESC);
            CREATE TABLE IF NOT EXISTS events (
                id bigserial PRIMARY KEY,
                event_id text NOT NULL UNIQUE,
                tenant_id text NOT NULL,
                charge_id text NOT NULL,
                type text NOT NULL,
                created_at timestamptz NOT NULL,
                payload jsonb NOT NULL,
                seq bigint,
                prev_hash bytea,
                hash bytea);
            CREATE INDEX IF NOT EXISTS events_by_charge ON events (tenant_id, charge_id, id);
            CREATE INDEX IF NOT EXISTS events_unsealed ON events (tenant_id, id) WHERE seq IS NULL;
            CREATE UNIQUE INDEX IF NOT EXISTS events_chain ON events (tenant_id, seq);

            -- The audit log is append-only: a sealed entry can be neither changed nor removed through SQL
            -- (short of a superuser disabling the trigger, which verification then exposes).
            CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.seq IS NOT NULL THEN
                    RAISE EXCEPTION 'audit entry % of tenant % is sealed and cannot be changed', OLD.seq, OLD.tenant_id;
                END IF;
                RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
            END $$;
            DROP TRIGGER IF EXISTS events_append_only ON events;
            CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
                FOR EACH ROW EXECUTE FUNCTION events_append_only();
            """);
        yield return new Migration("payments/002_webhooks", """
            ALTER TABLE tenants ADD COLUMN IF NOT EXISTS webhook_since timestamptz;
            CREATE TABLE IF NOT EXISTS webhook_deliveries (
                id bigserial PRIMARY KEY,
                tenant_id text NOT NULL,
                event_id text NOT NULL,
                event_type text NOT NULL,
                url text NOT NULL,
                attempt integer NOT NULL,
                status_code integer,
                delivered boolean NOT NULL,
                error text,
                created_at timestamptz NOT NULL DEFAULT now());
            CREATE INDEX IF NOT EXISTS webhook_deliveries_by_tenant ON webhook_deliveries (tenant_id, id DESC);
            """);

        // The chain moves out of the events table into a narrow one of its own, so sealing appends rows instead of
        // rewriting every event (a non-HOT update through all its indexes, and a dead row for vacuum to find):
        // events become insert-only, each one queued in audit_pending (same statement, same transaction) until
        // the tenant's audit grain appends it to audit_chain.
        yield return new Migration("payments/003_audit_chain", """
            CREATE TABLE IF NOT EXISTS audit_chain (
                tenant_id text NOT NULL,
                seq bigint NOT NULL,
                event_pk bigint NOT NULL UNIQUE REFERENCES events (id),
                prev_hash bytea NOT NULL,
                hash bytea NOT NULL,
                PRIMARY KEY (tenant_id, seq));
            CREATE TABLE IF NOT EXISTS audit_pending (
                tenant_id text NOT NULL,
                event_pk bigint NOT NULL,
                PRIMARY KEY (tenant_id, event_pk));
            INSERT INTO audit_chain (tenant_id, seq, event_pk, prev_hash, hash)
                SELECT tenant_id, seq, id, prev_hash, hash FROM events WHERE seq IS NOT NULL ON CONFLICT DO NOTHING;
            INSERT INTO audit_pending (tenant_id, event_pk)
                SELECT tenant_id, id FROM events WHERE seq IS NULL ON CONFLICT DO NOTHING;

            -- Events and the chain are append-only: nothing in them can be changed or removed through SQL (short of
            -- a superuser disabling the triggers, which verification then exposes).
            CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: row of tenant % cannot be changed or removed', TG_TABLE_NAME, OLD.tenant_id;
            END $$;
            DROP TRIGGER IF EXISTS events_append_only ON events;
            DROP FUNCTION IF EXISTS events_append_only();
            ALTER TABLE events DROP COLUMN IF EXISTS seq, DROP COLUMN IF EXISTS prev_hash, DROP COLUMN IF EXISTS hash;
            CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
                FOR EACH ROW EXECUTE FUNCTION audit_append_only();
            DROP TRIGGER IF EXISTS audit_chain_append_only ON audit_chain;
            CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON audit_chain
                FOR EACH ROW EXECUTE FUNCTION audit_append_only();
            """);

        // audit_pending is a queue (three rows in and out per charge): every poll of a tenant's audit grain walks its
        // part of the primary key through the entries already sealed until a vacuum removes them, so vacuum comes
        // after a fixed number of dead rows, not a fraction of a table whose live size is near zero, and never
        // truncates the table (the statistics keep its working size; see runtime/003_reminder_queue).
        yield return new Migration("payments/004_audit_queue", """
            ALTER TABLE audit_pending SET (vacuum_truncate = false, autovacuum_vacuum_scale_factor = 0,
                autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_cost_delay = 0);
            """);

        // Two constraints every event paid for and nothing used. The foreign key from audit_chain to events locked
        // the event row (FOR KEY SHARE: a write to the event's page and a WAL record) for every entry sealed; events
        // cannot be deleted (the append-only trigger) and the seal takes its ids from the join with events, and verify
        // names an entry whose event is missing. The unique index on event_id was a random-key B-tree insert per event
        // with no reader: event ids are 128 random bits (Ids.New) and no query looks an event up by one.
        yield return new Migration("payments/005_lighter_event_writes", """
            ALTER TABLE audit_chain DROP CONSTRAINT IF EXISTS audit_chain_event_pk_fkey;
            ALTER TABLE events DROP CONSTRAINT IF EXISTS events_event_id_key;
            """);

        // Event payloads and charge metadata are written once and only ever read whole, as text (webhook bodies, the
        // audit chain's hashes, API responses): stored as json they are checked but not taken apart into jsonb and
        // turned back into text on every read (jsonb_in was ~4% of PostgreSQL's CPU at 800 charges/s, measured with
        // perf). The text of each stored value stays what jsonb printed, so every sealed entry's hash still verifies;
        // new values keep the text the silo wrote (keys in the API's order, as GET returns them). The rewrite holds
        // each table's lock while it runs, once. Columns no query filters, groups or sorts by get no statistics:
        // ANALYZE sorted a 30,000-row sample of each of them (the payloads by jsonb comparison) every time a table
        // grew by a tenth (~8% of PostgreSQL's CPU on a cluster minutes old).
        yield return new Migration("payments/006_payloads_as_json_text", """
            ALTER TABLE events ALTER COLUMN payload TYPE json USING payload::text::json;
            ALTER TABLE charges ALTER COLUMN metadata TYPE json USING metadata::text::json;
            ALTER TABLE events ALTER COLUMN payload SET STATISTICS 0, ALTER COLUMN event_id SET STATISTICS 0;
            ALTER TABLE charges ALTER COLUMN metadata SET STATISTICS 0, ALTER COLUMN description SET STATISTICS 0,
                ALTER COLUMN failure_message SET STATISTICS 0, ALTER COLUMN psp_reference SET STATISTICS 0;
            ALTER TABLE audit_chain ALTER COLUMN prev_hash SET STATISTICS 0, ALTER COLUMN hash SET STATISTICS 0;
            """);

        // A charge found by its id alone: a PSP callback carries only the charge id (the PSP's idempotency key), and so
        // does an operator's retry or discard of a dead letter. Without an index on it each one read every charge
        // (20 ms per callback at 125,000 charges, growing with the table; at the sandbox's documented async rate of
        // 10%, a sequential scan for every tenth charge). The id becomes the primary key, in place of (tenant, id):
        // a second index on id cost every charge two more B-tree inserts (its creation and its final, non-HOT update;
        // ~40 µs of PostgreSQL per charge in ops/bench/cpu-per-charge), the key costs nothing more than before. Ids
        // are unique across tenants (128 bits: random, or derived from tenant and Idempotency-Key); every query still
        // names the tenant, and the upsert never touches another tenant's row.
        // The dead letters across tenants, newest first, are the operators' list and the dead-letter grain's count,
        // which no longer keeps a copy of them in its state (deleted here).
        yield return new Migration("payments/007_charges_by_id_and_dead_letters", """
            CREATE UNIQUE INDEX IF NOT EXISTS charges_id_key ON charges (id);
            ALTER TABLE charges DROP CONSTRAINT IF EXISTS charges_pkey;
            ALTER TABLE charges ADD CONSTRAINT charges_pkey PRIMARY KEY USING INDEX charges_id_key;
            CREATE INDEX IF NOT EXISTS charges_dead_lettered ON charges (updated_at DESC) WHERE status = 'dead_lettered';
            DO $$ BEGIN -- the runtime's tables may not exist yet: its migrations can run after these
                IF to_regclass('fc_grain_state') IS NOT NULL THEN
                    DELETE FROM fc_grain_state WHERE grain_type = 'dead-letters';
                END IF;
            END $$;
            """);

        // Where a tenant's webhook starts: the head of its audit chain when the endpoint was set. Only events created
        // after that are sent, and without it the first walk read the chain from its start, on every retry until the
        // first delivery succeeded (a tenant with millions of events before it set an endpoint).
        yield return new Migration("payments/008_webhook_from_seq", """
            ALTER TABLE tenants ADD COLUMN IF NOT EXISTS webhook_from_seq bigint NOT NULL DEFAULT 0;
            """);

        // A charge grain's state lives in its row (ChargeRowStorage): the runtime's guard columns and the three parts of
        // the state the row did not hold. All null in rows whose state is in fc_grain_state. Nullable, no default: no
        // rewrite of the table.
        yield return new Migration("payments/009_charge_state_in_row", """
            ALTER TABLE charges ADD COLUMN IF NOT EXISTS etag bigint, ADD COLUMN IF NOT EXISTS write_id uuid,
                ADD COLUMN IF NOT EXISTS fingerprint text, ADD COLUMN IF NOT EXISTS trace_parent text,
                ADD COLUMN IF NOT EXISTS attempt_scheduled boolean;
            ALTER TABLE charges ALTER COLUMN write_id SET STATISTICS 0, ALTER COLUMN fingerprint SET STATISTICS 0,
                ALTER COLUMN trace_parent SET STATISTICS 0, ALTER COLUMN etag SET STATISTICS 0;
            """);

        // The charge sweeper (ChargeSweeperGrain) looks for charges still created or processing, oldest change first:
        // a handful at any time, however many charges there are.
        yield return new Migration("payments/010_unsettled_charges", """
            CREATE INDEX IF NOT EXISTS charges_unsettled ON charges (updated_at) WHERE status IN ('created', 'processing');
            """);

        // Customers, their accounts and the double-entry ledger. A balance changes only in the statement that writes its
        // ledger entries (LedgerSql), and never goes below zero (the CHECK holds it even against a bug). Every ledger
        // transaction balances to zero: a transfer is two, the payer's debit into the tenant's transit account and the
        // payee's credit out of it, so money in flight is the transit entries of transfers still pending. System
        // accounts (transit, the PSP for funding and refunds) have entries but no row and no balance_after.
        yield return new Migration("payments/011_ledger", """
            CREATE TABLE IF NOT EXISTS customers (
                tenant_id text NOT NULL,
                id text NOT NULL,
                kind text NOT NULL,
                name text NOT NULL,
                email text NOT NULL,
                document text NOT NULL,
                phone text,
                metadata json NOT NULL,
                account_id text NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (tenant_id, id));
            CREATE INDEX IF NOT EXISTS customers_by_created ON customers (tenant_id, created_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS customers_by_email ON customers (tenant_id, lower(email), created_at DESC, id DESC);
            CREATE TABLE IF NOT EXISTS accounts (
                tenant_id text NOT NULL,
                id text NOT NULL,
                customer_id text NOT NULL,
                currency char(3) NOT NULL,
                balance bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (tenant_id, id));
            CREATE TABLE IF NOT EXISTS ledger_entries (
                id bigserial PRIMARY KEY,
                tenant_id text NOT NULL,
                txn_id text NOT NULL,
                account_id text NOT NULL,
                amount bigint NOT NULL,
                balance_after bigint,
                type text NOT NULL,
                source text NOT NULL,
                created_at timestamptz NOT NULL,
                UNIQUE (tenant_id, txn_id, account_id));
            CREATE INDEX IF NOT EXISTS ledger_entries_by_account ON ledger_entries (tenant_id, account_id, id DESC);
            CREATE TABLE IF NOT EXISTS transfers (
                tenant_id text NOT NULL,
                id text NOT NULL,
                from_account text NOT NULL,
                to_account text NOT NULL,
                amount bigint NOT NULL CHECK (amount > 0),
                currency char(3) NOT NULL,
                description text,
                status text NOT NULL,
                failure_code text,
                fingerprint text NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (tenant_id, id));
            CREATE INDEX IF NOT EXISTS transfers_by_from ON transfers (tenant_id, from_account, created_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS transfers_by_to ON transfers (tenant_id, to_account, created_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS transfers_pending ON transfers (updated_at) WHERE status = 'pending';
            ALTER TABLE ledger_entries ALTER COLUMN txn_id SET STATISTICS 0, ALTER COLUMN source SET STATISTICS 0;
            ALTER TABLE transfers ALTER COLUMN fingerprint SET STATISTICS 0, ALTER COLUMN description SET STATISTICS 0;

            -- The account a charge funds (credited when it succeeds).
            ALTER TABLE charges ADD COLUMN IF NOT EXISTS account text;

            -- Ledger entries are append-only, like events and the chain.
            DROP TRIGGER IF EXISTS ledger_entries_append_only ON ledger_entries;
            CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
                FOR EACH ROW EXECUTE FUNCTION audit_append_only();
            """);

        // Refunds. A charge grain writes its refunds' rows with its own (amount_refunded: what pending and succeeded
        // refunds take back). A refund of a charge that funded an account moves the amount from the account to transit
        // when it is made, and from transit to the PSP when the PSP refunds it (back to the account when it fails).
        yield return new Migration("payments/012_refunds", """
            CREATE TABLE IF NOT EXISTS refunds (
                tenant_id text NOT NULL,
                id text NOT NULL,
                charge_id text NOT NULL,
                amount bigint NOT NULL CHECK (amount > 0),
                currency char(3) NOT NULL,
                account text,
                status text NOT NULL,
                failure_code text,
                psp_reference text,
                fingerprint text NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (tenant_id, id));
            CREATE INDEX IF NOT EXISTS refunds_by_charge ON refunds (tenant_id, charge_id, created_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS refunds_by_created ON refunds (tenant_id, created_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS refunds_pending ON refunds (updated_at) WHERE status = 'pending';
            -- Reports count a tenant's transfers and refunds by day.
            CREATE INDEX IF NOT EXISTS transfers_by_created ON transfers (tenant_id, created_at);
            ALTER TABLE refunds ALTER COLUMN fingerprint SET STATISTICS 0;

            ALTER TABLE charges ADD COLUMN IF NOT EXISTS amount_refunded bigint NOT NULL DEFAULT 0;
            DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'charges_amount_refunded_check') THEN
                    ALTER TABLE charges ADD CONSTRAINT charges_amount_refunded_check CHECK (amount_refunded BETWEEN 0 AND amount);
                END IF;
            END $$;
            """);

        // Notifications: one row per recipient and event (its id derived from both, so making it twice makes it
        // once), sent by the tenant's notifier; every attempt in the delivery log. A notification carries no personal
        // data: the address and name are read from the customer when it is sent, so a customer's erasure or new email
        // holds for what is still to send. Each tenant's notifier keeps its place in the audit chain here.
        yield return new Migration("payments/013_notifications", """
            ALTER TABLE customers ADD COLUMN IF NOT EXISTS notify_email boolean NOT NULL DEFAULT true;
            ALTER TABLE customers ADD COLUMN IF NOT EXISTS notify_push boolean NOT NULL DEFAULT true;
            CREATE TABLE IF NOT EXISTS notifications (
                tenant_id text NOT NULL,
                id text NOT NULL,
                customer_id text NOT NULL,
                channel text NOT NULL,
                kind text NOT NULL,
                event_id text NOT NULL,
                source text NOT NULL,
                amount bigint NOT NULL,
                currency char(3) NOT NULL,
                status text NOT NULL,
                attempts integer NOT NULL DEFAULT 0,
                last_error text,
                next_at timestamptz NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                sent_at timestamptz,
                PRIMARY KEY (tenant_id, id));
            CREATE INDEX IF NOT EXISTS notifications_by_customer ON notifications (tenant_id, customer_id, created_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS notifications_by_created ON notifications (tenant_id, created_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS notifications_due ON notifications (tenant_id, next_at) WHERE status = 'pending';
            CREATE TABLE IF NOT EXISTS notification_attempts (
                tenant_id text NOT NULL,
                notification_id text NOT NULL,
                attempt integer NOT NULL,
                at timestamptz NOT NULL,
                ok boolean NOT NULL,
                error text,
                PRIMARY KEY (tenant_id, notification_id, attempt));
            CREATE TABLE IF NOT EXISTS notification_cursors (
                tenant_id text PRIMARY KEY,
                seq bigint NOT NULL);
            -- What was sealed before notifications existed is history: nobody is told about it now.
            INSERT INTO notification_cursors (tenant_id, seq)
                SELECT tenant_id, max(seq) FROM audit_chain GROUP BY tenant_id ON CONFLICT DO NOTHING;
            """);

        // Push: a notification carries when its event happened (occurred_at). One on the push channel waits (queued) for the customer's streams, which read it by its
        // event's place in the tenant's chain (seq: dense and in order, so "after seq" resumes a stream with nothing
        // lost or repeated, on any gateway). Session tokens let a customer's app open its stream: stored as SHA-256
        // only, each for one customer, minutes long.
        yield return new Migration("payments/014_push", """
            ALTER TABLE notifications ADD COLUMN IF NOT EXISTS seq bigint;
            ALTER TABLE notifications ADD COLUMN IF NOT EXISTS occurred_at timestamptz;
            CREATE INDEX IF NOT EXISTS notifications_push ON notifications (tenant_id, customer_id, seq) WHERE channel = 'push';
            CREATE TABLE IF NOT EXISTS customer_session_tokens (
                token_hash bytea PRIMARY KEY,
                id text NOT NULL UNIQUE,
                tenant_id text NOT NULL,
                customer_id text NOT NULL,
                created_at timestamptz NOT NULL,
                expires_at timestamptz NOT NULL,
                revoked_at timestamptz);
            CREATE INDEX IF NOT EXISTS customer_session_tokens_by_customer ON customer_session_tokens (tenant_id, customer_id);
            """);

        // Personal data at rest: a customer's name, email, document and phone are one AES-GCM record (sealed) under the
        // tenant's data key, and the email is found by its keyed hash; the plaintext columns are emptied as the silos
        // reseal what was stored before (PersonalDataStartup), and so is the index over the plaintext email. Tenants'
        // keys are stored only wrapped by the master key. An erased customer keeps its row, pseudonymous.
        yield return new Migration("payments/015_personal_data", """
            CREATE TABLE IF NOT EXISTS tenant_keys (
                tenant_id text NOT NULL,
                purpose text NOT NULL,
                version integer NOT NULL,
                master_id text NOT NULL,
                wrapped bytea NOT NULL,
                created_at timestamptz NOT NULL,
                PRIMARY KEY (tenant_id, purpose, version));
            ALTER TABLE customers ADD COLUMN IF NOT EXISTS sealed bytea;
            ALTER TABLE customers ADD COLUMN IF NOT EXISTS email_hash bytea;
            ALTER TABLE customers ADD COLUMN IF NOT EXISTS sealed_version integer;
            ALTER TABLE customers ADD COLUMN IF NOT EXISTS erased_at timestamptz;
            ALTER TABLE customers ALTER COLUMN name DROP NOT NULL, ALTER COLUMN email DROP NOT NULL, ALTER COLUMN document DROP NOT NULL;
            DROP INDEX IF EXISTS customers_by_email;
            CREATE INDEX IF NOT EXISTS customers_by_email_hash ON customers (tenant_id, email_hash, created_at DESC, id DESC);
            CREATE INDEX IF NOT EXISTS customers_unsealed ON customers (tenant_id, id) WHERE sealed IS NULL AND erased_at IS NULL;
            -- Who read a customer's personal data outside the tenant's own API (operators), and every export.
            CREATE TABLE IF NOT EXISTS personal_data_access (
                id bigserial PRIMARY KEY,
                tenant_id text NOT NULL,
                customer_id text NOT NULL,
                actor text NOT NULL,
                action text NOT NULL,
                reason text,
                request_id text NOT NULL,
                at timestamptz NOT NULL);
            CREATE INDEX IF NOT EXISTS personal_data_access_by_customer ON personal_data_access (tenant_id, customer_id, id DESC);
            """);

        // Security alerts go to the tenant's contact address, stored encrypted under the tenant's data key.
        yield return new Migration("payments/016_security_contact", """
            ALTER TABLE tenants ADD COLUMN IF NOT EXISTS contact_sealed bytea;
            """);
    }
}
