// A custom action's run (issue 13) as a send: the handler's input as seed 004 shows it, the
// mounted secrets, and the injected runner (the sandbox). The context of an entity event is
// exactly the superannotate webhook body ({op, before, after, ts_ms}); of a fired pipeline,
// its body.
import type { ActionConfig } from '../model/channel-config.js';
import { superannotate, superannotateEventName } from '../dialects/superannotate.js';
import { MAX_RUN_LOGS, MAX_RUN_OUTPUT, type ActionRunner } from '../model/action-run.js';
import type { SendResult } from '../model/send-result.js';
import { extendLease } from '../store/queue/complete.js';
import { openSecretValues } from '../store/secret-box.js';
import { masker } from '../transports/sandbox/mask.js';
import { LEASE_MARGIN_MS } from './lease.js';
import { failedBeforeSending, type Job, type Senders, type Sent } from './job.js';

export async function runAction(s: Senders, job: Job): Promise<Sent> {
  const cfg = JSON.parse(job.channel.config) as ActionConfig;
  const ev = job.event;
  const fired = ev.type.startsWith('pipeline.');
  const context = fired
    ? ev.data.context
    : superannotate.supports(ev.type)
      ? JSON.parse(superannotate.render({ event: ev, part: job.delivery.part, deliveryId: job.delivery.id, sentAt: Date.now(), secrets: [], options: {}, context: job.context, encordSource: '' }).body)
      : // Events SuperAnnotate has no body for (labels): the same shape, from the canonical event.
        { op: ev.type.endsWith('.created') ? 'c' : ev.type.endsWith('.deleted') ? 'd' : 'u', before: ev.before ?? null, after: ev.after ?? null, ts_ms: Date.parse(ev.occurred_at) };
  const event = { ...cfg.args, uuid: job.delivery.id, event: superannotateEventName(ev.type), pipeline_id: job.channel.notification_id, trigger_result_id: ev.id, ts_ms: Date.parse(ev.occurred_at) };
  const input = JSON.stringify({ event, context });
  const url = `action:${cfg.language}`;
  const fail = (message: string, final: boolean, logs: string | null = null): Sent => ({ ...failedBeforeSending(url, message, input), logs, final });
  if (!s.actionRunner) return fail('no custom-action runner in this process: the sandbox is not installed, so the run waits for a retry', false);
  let secrets: Record<string, string> = {};
  if (cfg.secret) {
    const row = await s.svc.store.db.selectFrom('action_secrets').select('sealed').where('org_id', '=', job.channel.org_id).where('name', '=', cfg.secret).executeTakeFirst();
    if (!row) return fail(`the secret set "${cfg.secret}" mounted on this action no longer exists`, true);
    secrets = openSecretValues(s.svc.ring, row.sealed);
  }
  // A run never outlives its TTL (it would end `expired` meanwhile), and its lease covers
  // its wall clock: the claim's lease is sized for a webhook request (timeout + margin), so
  // without this a 5-minute handler's lease would lapse on PostgreSQL, another worker would
  // run it a second time, and the per-action cap of 32 would count it once.
  const now = Date.now();
  const ttlLeft = job.delivery.created_at + (cfg.ttl_ms ?? 3 * 3_600_000) - now;
  if (ttlLeft <= 0) return fail('expired: not finished within its TTL', true);
  const limits = { ...cfg.limits, wall_ms: Math.max(1, Math.min(cfg.limits.wall_ms, s.svc.delivery.actions.wallMs, ttlLeft)) };
  await extendLease(s.svc.store.db, job.delivery.id, s.workerId, now + limits.wall_ms + LEASE_MARGIN_MS);
  // The sandbox's masking, once more over whatever the runner hands back (any runner, and
  // the runner's own errors): the same mark, and the JSON-escaped form of a value too, which
  // matters here since the output is recorded as JSON text.
  const mask = masker(secrets);
  let r: Awaited<ReturnType<ActionRunner['run']>>;
  try {
    r = await s.actionRunner.run({ runId: job.delivery.id, orgId: job.channel.org_id, language: cfg.language, code: cfg.code, event, context, secrets, limits, signal: job.signal });
  } catch (err) {
    // The runner itself failed (not the handler): retried, and its message masked too.
    return fail(mask(`the custom-action runner failed: ${(err as Error).message ?? String(err)}`).slice(0, 1000), false);
  }
  const logs = mask(r.logs).slice(0, MAX_RUN_LOGS);
  const output = mask(JSON.stringify(r.ok ? (r.output ?? null) : { error: r.error })).slice(0, MAX_RUN_OUTPUT);
  const result: SendResult = {
    ok: r.ok,
    status: null,
    responseBody: output,
    latencyMs: r.duration_ms,
    errorKind: r.ok ? null : 'other',
    errorMessage: r.ok ? null : mask(r.error?.message ?? 'the handler failed').slice(0, 1000),
    retryAfterMs: null,
  };
  // A handler's own error is the run's outcome: user code is not run again by itself
  // (it may have had effects); POST /v1/actions/{id}/runs/{run_id}/rerun runs it again.
  return { url, headers: {}, body: input, result, logs, final: !r.ok };
}
