// The "Full digest" statistics, field for field as seed 000 defines them, per project, over
// a time window. Computed by SQL aggregates over the indexed activity rows (one grouped
// query per project), never by loading the rows themselves.
import { sql } from 'kysely';
import type { Db } from '../store/db.js';
import type { AnnotatorStats, Digest, ProjectStats, ReviewerStats } from '../model/digest.js';


interface Agg {
  who: number;
  kind: string;
  n: number;
  total: number;
}

/**
 * One project's statistics for [start, end). Two grouped scans of the
 * (project_id, occurred_at) index: by the acting user (adds, edits, submissions, reviews
 * done) and by the annotator whose labels were reviewed (accepted and rejected labels).
 */
async function projectStats(db: Db, projectId: number, start: number, end: number): Promise<{ annotators: Map<number, AnnotatorStats>; reviewers: Map<number, ReviewerStats> }> {
  const byActor = await db
    .selectFrom('activity')
    .select(['user_id as who', 'kind', sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(duration_ms), 0)`.as('total')])
    .where('project_id', '=', projectId)
    .where('occurred_at', '>=', start)
    .where('occurred_at', '<', end)
    .groupBy(['user_id', 'kind'])
    .execute();
  const bySubject = await db
    .selectFrom('activity')
    .select(['subject_user_id as who', 'kind', sql<number>`count(*)`.as('n'), sql<number>`0`.as('total')])
    .where('project_id', '=', projectId)
    .where('occurred_at', '>=', start)
    .where('occurred_at', '<', end)
    .where('kind', 'in', ['review_accept', 'review_reject'])
    .where('subject_user_id', 'is not', null)
    .groupBy(['subject_user_id', 'kind'])
    .execute();

  const count = (rows: Agg[], who: number, kind: string) => rows.find((r) => r.who === who && r.kind === kind);
  const actor = byActor.map((r) => ({ who: Number(r.who), kind: r.kind, n: Number(r.n), total: Number(r.total) }));
  const subject = bySubject.map((r) => ({ who: Number(r.who), kind: r.kind, n: Number(r.n), total: 0 }));

  const annotators = new Map<number, AnnotatorStats>();
  const annotatorIds = new Set([
    ...actor.filter((r) => r.kind === 'label_add' || r.kind === 'label_edit' || r.kind === 'label_submit').map((r) => r.who),
    ...subject.map((r) => r.who),
  ]);
  for (const who of annotatorIds) {
    const add = count(actor, who, 'label_add');
    const edit = count(actor, who, 'label_edit');
    const accepted = count(subject, who, 'review_accept')?.n ?? 0;
    const rejected = count(subject, who, 'review_reject')?.n ?? 0;
    const s: AnnotatorStats = {
      user_email: '',
      submitted_labels: count(actor, who, 'label_submit')?.n ?? 0,
      accepted_labels: accepted,
      rejected_labels: rejected,
      rejection_rate: accepted + rejected === 0 ? 0 : rejected / (rejected + accepted),
      total_add_or_edit_time: (add?.total ?? 0) + (edit?.total ?? 0),
    };
    // Optional in the seed: present only when the annotator added (or edited) in the window.
    if (add) s.avg_time_for_add = add.total / add.n;
    if (edit) s.avg_time_for_edit = edit.total / edit.n;
    annotators.set(who, s);
  }

  const reviewers = new Map<number, ReviewerStats>();
  for (const who of new Set(actor.filter((r) => r.kind === 'review_accept' || r.kind === 'review_reject').map((r) => r.who))) {
    const acc = count(actor, who, 'review_accept');
    const rej = count(actor, who, 'review_reject');
    const reviews = (acc?.n ?? 0) + (rej?.n ?? 0);
    const total = (acc?.total ?? 0) + (rej?.total ?? 0);
    reviewers.set(who, {
      user_email: '',
      reject_count: rej?.n ?? 0,
      accept_count: acc?.n ?? 0,
      average_time: reviews === 0 ? 0 : total / reviews,
      reviews_count: reviews,
      total_time: total,
      rejection_rate: reviews === 0 ? 0 : (rej?.n ?? 0) / reviews,
    });
  }
  return { annotators, reviewers };
}

/** The digest of these projects for [start, end): every participating annotator and reviewer. */
export async function computeDigest(db: Db, orgId: number, scope: 'all' | number[], start: number, end: number): Promise<Digest> {
  let projects = db.selectFrom('projects').select(['id', 'project_hash']).where('org_id', '=', orgId);
  if (scope !== 'all') projects = projects.where('id', 'in', scope.length ? scope : [-1]);
  const stats: ProjectStats[] = [];
  const userIds = new Set<number>();
  const perProject: { hash: string; a: Map<number, AnnotatorStats>; r: Map<number, ReviewerStats> }[] = [];
  for (const p of await projects.orderBy('id').execute()) {
    const { annotators, reviewers } = await projectStats(db, p.id, start, end);
    if (annotators.size === 0 && reviewers.size === 0) continue;
    for (const id of [...annotators.keys(), ...reviewers.keys()]) userIds.add(id);
    perProject.push({ hash: p.project_hash, a: annotators, r: reviewers });
  }
  const emails = new Map<number, string>();
  if (userIds.size > 0) {
    for (const u of await db.selectFrom('users').select(['id', 'email']).where('id', 'in', [...userIds]).execute()) emails.set(u.id, u.email);
  }
  const byEmail = <T extends { user_email: string }>(m: Map<number, T>) =>
    [...m.entries()].map(([id, s]) => ({ ...s, user_email: emails.get(id) ?? `user-${id}` })).sort((x, y) => x.user_email.localeCompare(y.user_email));
  for (const p of perProject) stats.push({ project_hash: p.hash, annotator_stats: byEmail(p.a), reviewer_stats: byEmail(p.r) });
  return { window: { start: new Date(start).toISOString(), end: new Date(end).toISOString() }, projects_stats: stats };
}
