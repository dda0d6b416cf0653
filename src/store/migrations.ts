// One ordered list of migrations for both databases. The few type differences (how an
// auto-incrementing key and a 64-bit integer are spelled) are resolved by the helpers
// below, so a migration reads the same for SQLite and PostgreSQL.
import { Migrator, sql, type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { DatabaseKind } from './kind.js';

function types(kind: DatabaseKind) {
  const pg = kind === 'postgres';
  return {
    // SQLite: INTEGER PRIMARY KEY is the rowid; AUTOINCREMENT keeps ids of deleted rows
    // from being reused (a webhook receiver may still hold them).
    id: (pg ? 'bigserial' : 'integer') as 'integer',
    big: (pg ? 'bigint' : 'integer') as 'bigint',
    pg,
  };
}

function idColumn(kind: DatabaseKind) {
  const t = types(kind);
  return (c: ColumnDefinitionBuilder) =>
    t.pg ? c.primaryKey() : c.primaryKey().autoIncrement();
}

function initial(kind: DatabaseKind): Migration {
  const t = types(kind);
  const id = idColumn(kind);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('organizations')
        .addColumn('id', t.id, id)
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', t.big, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull().references('organizations.id'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addColumn('updated_at', t.big, (c) => c.notNull())
        .addUniqueConstraint('users_org_email_unique', ['org_id', 'email'])
        .execute();

      await db.schema
        .createTable('api_keys')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull().references('organizations.id'))
        .addColumn('user_id', t.big, (c) => c.notNull().references('users.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addColumn('last_used_at', t.big)
        .execute();

      await db.schema
        .createTable('projects')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull().references('organizations.id'))
        .addColumn('project_hash', 'text', (c) => c.notNull().unique())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('label_config', 'text', (c) => c.notNull())
        .addColumn('created_by', t.big)
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addColumn('updated_at', t.big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('projects_org').on('projects').columns(['org_id', 'id']).execute();

      await db.schema
        .createTable('stages')
        .addColumn('id', t.id, id)
        .addColumn('project_id', t.big, (c) => c.notNull().references('projects.id'))
        .addColumn('stage_hash', 'text', (c) => c.notNull().unique())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('stages_project').on('stages').columns(['project_id', 'position']).execute();

      await db.schema
        .createTable('tasks')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('project_id', t.big, (c) => c.notNull().references('projects.id'))
        .addColumn('data_hash', 'text', (c) => c.notNull().unique())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('meta', 'text', (c) => c.notNull())
        .addColumn('stage_id', t.big, (c) => c.notNull().references('stages.id'))
        .addColumn('assignee_id', t.big)
        // The reviewer assigned to the task (SuperAnnotate's QA); reviews may come from others.
        .addColumn('reviewer_id', t.big)
        .addColumn('is_labeled', 'integer', (c) => c.notNull())
        // Tasks imported together share this id (Label Studio's file_upload).
        .addColumn('import_id', t.big, (c) => c.notNull())
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addColumn('updated_at', t.big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tasks_project').on('tasks').columns(['project_id', 'id']).execute();
      await db.schema.createIndex('tasks_stage').on('tasks').column('stage_id').execute();

      await db.schema
        .createTable('labels')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('project_id', t.big, (c) => c.notNull())
        .addColumn('task_id', t.big, (c) => c.notNull().references('tasks.id'))
        .addColumn('label_hash', 'text', (c) => c.notNull().unique())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('created_by', t.big, (c) => c.notNull())
        .addColumn('lead_time', 'real', (c) => c.notNull())
        .addColumn('was_cancelled', 'integer', (c) => c.notNull())
        .addColumn('ground_truth', 'integer', (c) => c.notNull())
        .addColumn('review_status', 'text', (c) => c.notNull())
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addColumn('updated_at', t.big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('labels_task').on('labels').columns(['task_id', 'id']).execute();
      await db.schema.createIndex('labels_project').on('labels').column('project_id').execute();

      await db.schema
        .createTable('activity')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('project_id', t.big, (c) => c.notNull())
        .addColumn('task_id', t.big, (c) => c.notNull())
        .addColumn('label_id', t.big)
        .addColumn('user_id', t.big, (c) => c.notNull())
        .addColumn('subject_user_id', t.big)
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('duration_ms', 'real', (c) => c.notNull())
        .addColumn('comment', 'text')
        .addColumn('occurred_at', t.big, (c) => c.notNull())
        .execute();
      // Digests aggregate one project's window: (project_id, occurred_at) is the range scan.
      await db.schema
        .createIndex('activity_project_time')
        .on('activity')
        .columns(['project_id', 'occurred_at'])
        .execute();
      await db.schema.createIndex('activity_label').on('activity').columns(['label_id', 'id']).execute();

      await db.schema
        .createTable('events')
        .addColumn('seq', t.id, id)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('project_id', t.big)
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('occurred_at', t.big, (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('before', 'text')
        .addColumn('after', 'text')
        .execute();
      await db.schema.createIndex('events_org_seq').on('events').columns(['org_id', 'seq']).execute();
    },
  };
}

function notifications(kind: DatabaseKind): Migration {
  const t = types(kind);
  const id = idColumn(kind);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('notifications')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull().references('organizations.id'))
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        // JSON: "all" or an array of project ids.
        .addColumn('scope', 'text', (c) => c.notNull())
        // JSON: an array of event types, or ["all"].
        .addColumn('triggers', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull())
        // How it was declared: notification (the /v1/notifications API), stage (a webhook on
        // an Encord-style workflow stage), label-studio (/v1/webhooks), superannotate
        // (/v1/pipelines). Every style is a view of the same rows.
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('stage_id', t.big)
        .addColumn('created_by', t.big)
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addColumn('updated_at', t.big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('notifications_stage').on('notifications').columns(['stage_id']).execute();
      await db.schema.createIndex('notifications_org').on('notifications').columns(['org_id', 'id']).execute();

      await db.schema
        .createTable('channels')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('notification_id', t.big, (c) => c.notNull().references('notifications.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        // JSON: the kind's settings (webhook: url, kind, headers).
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('secret', 'text')
        .addColumn('previous_secret', 'text')
        .addColumn('previous_secret_until', t.big)
        .addColumn('active', 'integer', (c) => c.notNull())
        .addColumn('max_in_flight', 'integer', (c) => c.notNull())
        .addColumn('disable_after_failures', 'integer')
        .addColumn('failure_streak', 'integer', (c) => c.notNull())
        .addColumn('first_failure_at', t.big)
        .addColumn('disabled_at', t.big)
        .addColumn('disabled_reason', 'text')
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addColumn('updated_at', t.big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('channels_notification').on('channels').columns(['notification_id']).execute();
      await db.schema.createIndex('channels_org').on('channels').columns(['org_id']).execute();

      await db.schema
        .createTable('deliveries')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('notification_id', t.big, (c) => c.notNull())
        .addColumn('channel_id', t.big, (c) => c.notNull())
        // Null for test pings, which carry their own payload.
        .addColumn('event_id', 'text')
        .addColumn('event_type', 'text', (c) => c.notNull())
        // A kind may split one event into several messages (SuperAnnotate sends one per
        // item): one delivery per part.
        .addColumn('part', 'integer', (c) => c.notNull())
        .addColumn('payload', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempt_count', 'integer', (c) => c.notNull())
        .addColumn('retry_index', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', t.big, (c) => c.notNull())
        .addColumn('lease_until', t.big)
        .addColumn('leased_by', 'text')
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addColumn('updated_at', t.big, (c) => c.notNull())
        .addColumn('completed_at', t.big)
        .execute();
      // One delivery per (event, channel, part): routing twice is impossible by construction.
      await db.schema.createIndex('deliveries_event_channel').on('deliveries').columns(['event_id', 'channel_id', 'part']).unique().execute();
      // The claim: per channel, the oldest due deliveries first.
      await db.schema.createIndex('deliveries_channel_due').on('deliveries').columns(['channel_id', 'status', 'next_attempt_at']).execute();
      // Which channels have due work: a scan of pending rows in due order.
      await db.schema.createIndex('deliveries_status_due').on('deliveries').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('deliveries_org').on('deliveries').columns(['org_id', 'id']).execute();
      await db.schema.createIndex('deliveries_created').on('deliveries').columns(['created_at']).execute();

      await db.schema
        .createTable('attempts')
        .addColumn('id', t.id, id)
        .addColumn('delivery_id', t.big, (c) => c.notNull())
        .addColumn('channel_id', t.big, (c) => c.notNull())
        .addColumn('attempt_no', 'integer', (c) => c.notNull())
        .addColumn('started_at', t.big, (c) => c.notNull())
        .addColumn('latency_ms', 'real', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('request_headers', 'text', (c) => c.notNull())
        .addColumn('request_body', 'text', (c) => c.notNull())
        .addColumn('response_status', 'integer')
        .addColumn('response_body', 'text')
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('worker', 'text', (c) => c.notNull())
        .addColumn('error_kind', 'text')
        .addColumn('error_message', 'text')
        .execute();
      await db.schema.createIndex('attempts_delivery').on('attempts').columns(['delivery_id', 'id']).execute();
      await db.schema.createIndex('attempts_started').on('attempts').columns(['started_at']).execute();
    },
  };
}

function messaging(kind: DatabaseKind): Migration {
  const t = types(kind);
  const id = idColumn(kind);
  return {
    async up(db: Kysely<any>) {
      // Deliveries made by the scheduler (email batches, digests) carry the key of their
      // window: inserting one twice is a conflict, so a window is sent once across processes.
      await db.schema.alterTable('deliveries').addColumn('dedupe_key', 'text').execute();
      await db.schema.createIndex('deliveries_dedupe').on('deliveries').column('dedupe_key').unique().execute();
      // Slack asks for about one message per second per channel.
      await db.schema.alterTable('channels').addColumn('min_interval_ms', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('channels').addColumn('last_sent_at', t.big).execute();

      // One row per (event, email channel, recipient); batched per recipient and window.
      await db.schema
        .createTable('email_items')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('recipient', 'text', (c) => c.notNull())
        .addColumn('window_start', t.big, (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('notification_id', t.big, (c) => c.notNull())
        .addColumn('channel_id', t.big, (c) => c.notNull())
        .addColumn('batch_id', t.big)
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addUniqueConstraint('email_items_once', ['event_id', 'channel_id', 'recipient'])
        .execute();
      await db.schema.createIndex('email_items_open').on('email_items').columns(['batch_id', 'window_start']).execute();
      await db.schema.createIndex('email_items_batch').on('email_items').columns(['batch_id', 'id']).execute();

      await db.schema
        .createTable('digest_windows')
        .addColumn('id', t.id, id)
        .addColumn('notification_id', t.big, (c) => c.notNull())
        .addColumn('fire_at', t.big, (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addUniqueConstraint('digest_windows_once', ['notification_id', 'fire_at'])
        .execute();

      await db.schema
        .createTable('outbox')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('delivery_id', t.big, (c) => c.notNull())
        .addColumn('recipients', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('html', 'text', (c) => c.notNull())
        .addColumn('created_at', t.big, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('outbox_org').on('outbox').columns(['org_id', 'id']).execute();

      await db.schema
        .createTable('slack_connections')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('user_id', t.big, (c) => c.notNull())
        .addColumn('team_id', 'text', (c) => c.notNull())
        .addColumn('team_name', 'text', (c) => c.notNull())
        .addColumn('bot_token', 'text', (c) => c.notNull())
        .addColumn('bot_user_id', 'text')
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addColumn('updated_at', t.big, (c) => c.notNull())
        .addUniqueConstraint('slack_connections_once', ['org_id', 'user_id', 'team_id'])
        .execute();
      await db.schema
        .createTable('slack_channels')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('user_id', t.big, (c) => c.notNull())
        .addColumn('connection_id', t.big, (c) => c.notNull())
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('is_private', 'integer', (c) => c.notNull())
        .addColumn('refreshed_at', t.big, (c) => c.notNull())
        .addUniqueConstraint('slack_channels_once', ['connection_id', 'channel_id'])
        .execute();

      // Process-independent settings, e.g. the key that signs OAuth state.
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  };
}

function channelNotBefore(kind: DatabaseKind): Migration {
  const t = types(kind);
  return {
    async up(db: Kysely<any>) {
      // A destination that answered 429 with Retry-After gets nothing before this time,
      // whichever message is next (Slack rate-limits per channel, not per message).
      await db.schema.alterTable('channels').addColumn('not_before', t.big).execute();
    },
  };
}

function pipelines(kind: DatabaseKind): Migration {
  const t = types(kind);
  const id = idColumn(kind);
  return {
    async up(db: Kysely<any>) {
      // A pipeline's incoming-webhook trigger: the token is shown once and kept hashed, like
      // API keys. One row per pipeline (its notification).
      await db.schema
        .createTable('pipeline_hooks')
        .addColumn('notification_id', t.big, (c) => c.primaryKey())
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('created_at', t.big, (c) => c.notNull())
        .execute();
      // Named key/value sets mounted into custom actions (seed 004 "Secret"); values sealed.
      await db.schema
        .createTable('action_secrets')
        .addColumn('id', t.id, id)
        .addColumn('org_id', t.big, (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('keys', 'text', (c) => c.notNull())
        .addColumn('created_at', t.big, (c) => c.notNull())
        .addColumn('updated_at', t.big, (c) => c.notNull())
        .addUniqueConstraint('action_secrets_name', ['org_id', 'name'])
        .execute();
      // A custom action's run is a delivery; its attempts also keep the handler's logs.
      await db.schema.alterTable('attempts').addColumn('logs', 'text').execute();
    },
  };
}

// What routing reads (store/queue/routes.ts): an organization's switched-on channels with
// their notifications' scope and triggers. These columns, and rows coming or going, are all
// that can change a route; the dispatcher's constant health and pacing updates to channels
// touch none of them, so they leave the version alone.
const NOTIFICATION_ROUTE_COLUMNS = ['active', 'scope', 'triggers'];
const CHANNEL_ROUTE_COLUMNS = ['active', 'kind', 'config', 'notification_id', 'org_id'];

function routingVersions(kind: DatabaseKind): Migration {
  const t = types(kind);
  return {
    async up(db: Kysely<any>) {
      // One version per organization, changed in the same transaction as any change to its
      // routes, so a process may route from a cache of them while the version it read is the
      // one committed. A new version is never a value seen before, even after a rolled-back
      // change (a process may have cached what that transaction saw): a sequence on
      // PostgreSQL (not rolled back), 53 random bits on SQLite (exact as a JavaScript number).
      await db.schema
        .createTable('routing_versions')
        .addColumn('org_id', t.big, (c) => c.primaryKey())
        .addColumn('version', t.big, (c) => c.notNull())
        .execute();
      const tables = [
        ['notifications', NOTIFICATION_ROUTE_COLUMNS],
        ['channels', CHANNEL_ROUTE_COLUMNS],
      ] as const;
      if (t.pg) {
        await sql`create sequence routing_version_seq`.execute(db);
        await sql
          .raw(
            `create function bump_routing_version() returns trigger language plpgsql as $$
            declare org bigint;
            begin
              if tg_op = 'DELETE' then org := old.org_id; else org := new.org_id; end if;
              insert into routing_versions (org_id, version) values (org, nextval('routing_version_seq'))
                on conflict (org_id) do update set version = excluded.version;
              if tg_op = 'UPDATE' and old.org_id <> new.org_id then
                insert into routing_versions (org_id, version) values (old.org_id, nextval('routing_version_seq'))
                  on conflict (org_id) do update set version = excluded.version;
              end if;
              return null;
            end $$`,
          )
          .execute(db);
        for (const [table, columns] of tables) {
          await sql
            .raw(`create trigger ${table}_routing after insert or delete or update of ${columns.join(', ')} on ${table} for each row execute function bump_routing_version()`)
            .execute(db);
        }
      } else {
        const bump = (org: string) =>
          `insert into routing_versions (org_id, version) values (${org}, random() & 9007199254740991) on conflict (org_id) do update set version = excluded.version;`;
        for (const [table, columns] of tables) {
          await sql.raw(`create trigger ${table}_routing_insert after insert on ${table} begin ${bump('new.org_id')} end`).execute(db);
          await sql.raw(`create trigger ${table}_routing_delete after delete on ${table} begin ${bump('old.org_id')} end`).execute(db);
          await sql
            .raw(`create trigger ${table}_routing_update after update of ${columns.join(', ')} on ${table} begin ${bump('new.org_id')} ${bump('old.org_id')} end`)
            .execute(db);
        }
      }
      // Most deliveries have no dedupe key (only scheduled ones do): a partial index spares
      // every routed delivery an index entry (docs/performance.md). Inserts that rely on it
      // name its predicate in their ON CONFLICT clause.
      await db.schema.dropIndex('deliveries_dedupe').execute();
      await db.schema.createIndex('deliveries_dedupe').on('deliveries').column('dedupe_key').unique().where(sql.ref('dedupe_key'), 'is not', null).execute();
    },
  };
}

function channelDueLeasedBy(): Migration {
  return {
    async up(db: Kysely<any>) {
      // Every claim counts each channel's leased rows held by other workers (claim.ts):
      // status = 'sending' and leased_by <> this worker. With leased_by in the index the count
      // reads the index alone instead of one table row per request in flight (SQLite: 220 us
      // per claim with 64 in flight, docs/performance.md). It costs inserts nothing more:
      // leased_by changes only with status, which moves the entry anyway.
      await db.schema.dropIndex('deliveries_channel_due').execute();
      await db.schema.createIndex('deliveries_channel_due').on('deliveries').columns(['channel_id', 'status', 'next_attempt_at', 'leased_by']).execute();
    },
  };
}

// Indexes over live deliveries only. A delivery's status index entries used to move at
// every step (pending -> sending -> succeeded), and finished rows stayed in them for good:
// with 50,000 finished deliveries the claim's and the due-time indexes were mostly history,
// and each finished row had paid four index moves to get there. Partial indexes hold only
// the rows a claim, a count of requests in flight, a lease sweep or a dead-letter recovery
// can want: a delivery enters them when it becomes pending and leaves them when it finishes
// (measured in docs/performance.md, round 5). A query uses one only when it names the
// index's status as a literal (SQLite matches the term as written; PostgreSQL must prove it
// at plan time): delivery-states.ts move() and inStatus() write the states so, and the hot
// statements are written out with them (test/store/live-indexes.test.ts checks the plans).
function liveDeliveryIndexes(): Migration {
  return {
    async up(db: Kysely<any>) {
      const where = (status: string) => [sql.ref('status'), '=', sql.lit(status)] as const;
      await db.schema.dropIndex('deliveries_channel_due').execute();
      await db.schema.dropIndex('deliveries_status_due').execute();
      // Every delivery of a channel, in id order: listings by channel (a custom action's
      // runs, GET /v1/deliveries?channel_id=). Entries are only appended: a status change
      // does not touch it.
      await db.schema.createIndex('deliveries_channel').on('deliveries').columns(['channel_id', 'id']).execute();
      // The claim: per channel, its oldest due pending rows (claim.ts).
      await db.schema.createIndex('deliveries_pending').on('deliveries').columns(['channel_id', 'next_attempt_at', 'id']).where(...where('pending')).execute();
      // The next due time across channels (next-due.ts) and the due backlog.
      await db.schema.createIndex('deliveries_due').on('deliveries').columns(['next_attempt_at']).where(...where('pending')).execute();
      // Requests in flight per channel and by whom (the claim's cap), and the lease sweep.
      await db.schema.createIndex('deliveries_sending').on('deliveries').columns(['channel_id', 'leased_by', 'lease_until']).where(...where('sending')).execute();
      // A channel's dead letters since a time (Svix's "recover", resend.ts).
      await db.schema.createIndex('deliveries_failed').on('deliveries').columns(['channel_id', 'created_at']).where(...where('failed')).execute();
    },
  };
}

// A Standard Webhooks attempt's body is the event's body, spliced from its stored row
// (dialects/standard.ts), the same on every retry and every channel: storing it with each
// attempt wrote the event a second time (2.3 KB per attempt in the benchmark, half of what a
// delivered event wrote). Such attempts now name their body's format ('standard/1',
// dialects/dialect.ts KeptBody) and store none; reading one renders it again from the
// event, which retention keeps while any delivery of it is left (schedule/retention.ts).
// Older attempts keep the body they stored.
function attemptBodyFromEvent(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('attempts').addColumn('request_body_from', 'text').execute();
    },
  };
}

// An event counts its deliveries (events.deliveries_left, written with them by
// store/queue/enqueue.ts writeEvent), so retention no longer asks deliveries whether one of
// an event is left, and the unique (event_id, channel_id, part) index that answered it goes:
// every routed delivery wrote a 36-character event id into it, 3-8% of the SQLite
// throughput (docs/performance.md, round 5). Routing writes an event's deliveries once, in
// the event's own statement or transaction, so the uniqueness it also checked holds by
// construction. The column has no default: an event written by a process of an earlier
// version during a rolling upgrade has no count (NULL), and retention keeps it rather than
// guess.
function eventDeliveryCounts(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.alterTable('events').addColumn('deliveries_left', 'integer').execute();
      await sql`update events set deliveries_left = (select count(*) from deliveries where deliveries.event_id = events.id)`.execute(db);
      await db.schema.dropIndex('deliveries_event_channel').execute();
    },
  };
}

// An event's `after` may now be stored as a reference into its data (`@data:<start>:<end>`,
// store/queue/event-rows.ts afterColumn): a project update's after is its data.project,
// ~600 bytes written twice per event. No table changes; the migration is the marker that
// keeps an earlier version, which would read the reference as JSON, from starting on this
// database (Kysely's migrator refuses a database holding a migration it does not know).
function eventAfterByReference(): Migration {
  return {
    async up() {},
  };
}

export function migrations(kind: DatabaseKind): Record<string, Migration> {
  return {
    '0001_initial': initial(kind),
    '0002_notifications': notifications(kind),
    '0003_messaging': messaging(kind),
    '0004_channel_not_before': channelNotBefore(kind),
    '0005_pipelines': pipelines(kind),
    '0006_routing_versions': routingVersions(kind),
    '0007_channel_due_leased_by': channelDueLeasedBy(),
    '0008_live_delivery_indexes': liveDeliveryIndexes(),
    '0009_attempt_body_from_event': attemptBodyFromEvent(),
    '0010_event_delivery_counts': eventDeliveryCounts(),
    '0011_event_after_by_reference': eventAfterByReference(),
  };
}

class InlineProvider implements MigrationProvider {
  constructor(private readonly list: Record<string, Migration>) {}
  async getMigrations() {
    return this.list;
  }
}

/**
 * The migrator over Labelcast's migration tables; `list` defaults to this version's
 * migrations (tests pass an earlier version's list to stand for that version).
 */
export function migrator(db: Kysely<any>, kind: DatabaseKind, schema?: string, list: Record<string, Migration> = migrations(kind)): Migrator {
  return new Migrator({
    db,
    provider: new InlineProvider(list),
    migrationTableName: 'labelcast_migrations',
    migrationLockTableName: 'labelcast_migrations_lock',
    // Kysely looks for its tables across all schemas; name ours so that a database holding
    // several Labelcast schemas (the test suite does) migrates each one on its own.
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
}

export async function migrateToLatest(db: Kysely<any>, kind: DatabaseKind, schema?: string): Promise<string[]> {
  const { error, results } = await migrator(db, kind, schema).migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
