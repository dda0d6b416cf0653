// Events read from their rows render from their stored JSON (model/event.ts lazyEvent,
// dialects/standard.ts): the body must be the very text the parse-and-serialize path gives,
// and an event whose fields were read (and perhaps changed) must never be sent as its
// stored text.
import { describe, expect, it } from 'vitest';
import { renderStandardBody, standard } from '../../src/dialects/standard.js';
import { keptBodyRenderer } from '../../src/dialects/index.js';
import { eventFromRow } from '../../src/domain/events.js';
import { storedJson, type CanonicalEvent } from '../../src/model/event.js';
import { afterColumn, afterText } from '../../src/store/queue/event-rows.js';

const actor = { user_id: 7, email: 'ann@example.com', api_key_id: null };
const project = { id: 3, title: 'Cats "and" dogs \u00e9 \u2028', description: '', workflow: { stages: [{ id: 1, kind: 'annotate', title: 'Annotate' }] } };

function row(type: string, data: object, before?: unknown, after?: unknown) {
  return {
    seq: 1,
    id: '01a22516-2555-7000-acf2-6402cc5ac769',
    org_id: 1,
    project_id: 3 as number | null,
    type,
    occurred_at: 1795918538069,
    actor: JSON.stringify(actor),
    data: JSON.stringify(data),
    before: before === undefined ? null : JSON.stringify(before),
    after: after === undefined ? null : JSON.stringify(after),
    deliveries_left: 1,
  };
}

/** The same event built eagerly: what eventFromRow gave before its fields became lazy. */
function eager(r: ReturnType<typeof row>): CanonicalEvent {
  const ev: CanonicalEvent = { id: r.id, type: r.type as CanonicalEvent['type'], occurred_at: new Date(r.occurred_at).toISOString(), org_id: r.org_id, project_id: r.project_id, actor: JSON.parse(r.actor), data: JSON.parse(r.data) };
  if (r.before !== null) ev.before = JSON.parse(r.before);
  const after = afterText(r);
  if (after !== null) ev.after = JSON.parse(after);
  return ev;
}

/** The row as writeEvent stores it: an `after` found in the data kept as a reference. */
function stored(r: ReturnType<typeof row>): ReturnType<typeof row> {
  return { ...r, after: afterColumn(r.data, r.after) };
}

const renamed = { ...project, title: 'new' };
const spliceable = [
  ['an update with both snapshots', row('project.updated', { project, changed: ['title'] }, project, renamed)],
  ['an update whose after is kept inside its data', stored(row('project.updated', { project: renamed, changed: ['title'] }, project, renamed))],
  ['a creation with an after snapshot only', row('project.created', { project }, undefined, project)],
  ['empty data', row('project.deleted', {})],
  ['no project', { ...row('project.deleted', { note: 'x' }), project_id: null }],
] as const;

describe('a stored event rendered as a Standard Webhooks body', () => {
  it.each(spliceable)('%s: spliced from its stored JSON, the same text as parsing it', (_name, r) => {
    const ev = eventFromRow(r);
    const body = renderStandardBody(ev);
    // Nothing was parsed: the splice was taken (the slower path would have read the fields).
    expect(storedJson(ev)).not.toBeNull();
    expect(body).toBe(renderStandardBody(eager(r)));
    expect(JSON.parse(body)).toEqual(JSON.parse(renderStandardBody(eager(r))));
  });

  it.each([
    ['a data key the body sets itself', row('task.submitted', { task: { id: 1 }, actor: 'someone else' })],
    ['the project state key', row('task.completed', { task: { id: 1 }, project_state: { open: 1 } })],
    ['a nested project_id (a false alarm, still right)', row('task.created', { tasks: [{ id: 1, project_id: 3 }] })],
  ] as const)('%s: rendered from parsed fields, the same text as before', (_name, r) => {
    expect(renderStandardBody(eventFromRow(r))).toBe(renderStandardBody(eager(r)));
  });

  it('renders a field changed after it was read, never its stored text', () => {
    const ev = eventFromRow(spliceable[0][1]);
    (ev.data as { changed: string[] }).changed.push('description');
    expect(storedJson(ev)).toBeNull();
    expect(JSON.parse(renderStandardBody(ev)).data.changed).toEqual(['title', 'description']);
  });

  it('reads like a plain object: spread copies carry the fields, not the stored text', () => {
    const ev = eventFromRow(spliceable[0][1]);
    const copy = { ...ev, data: { replaced: true } };
    expect(storedJson(copy)).toBeNull();
    expect(copy.actor).toEqual(actor);
    expect(JSON.parse(renderStandardBody(copy)).data).toMatchObject({ replaced: true, actor });
    expect(Object.keys(eventFromRow(spliceable[3][1]))).toEqual(['id', 'type', 'occurred_at', 'org_id', 'project_id', 'actor', 'data']);
  });
});

// The attempt log stores 'standard/1' instead of a Standard Webhooks body and renders it again
// when the attempt is read (dialects/dialect.ts KeptBody). So this format's text is pinned:
// if these expectations fail, the body changed, and attempts already recorded would show a
// body they were not sent with: give the new format a new name and keep this one's renderer.
describe("the kept body format 'standard/1'", () => {
  it('renders the same text it always has, on both paths', () => {
    expect(standard.keptBody?.name).toBe('standard/1');
    const render = keptBodyRenderer('standard/1')!;
    expect(render(eventFromRow(spliceable[0][1]))).toBe(
      '{"type":"project.updated","timestamp":"2026-11-29T02:15:38.069Z","data":{"event_id":"01a22516-2555-7000-acf2-6402cc5ac769","project_id":3,' +
        '"actor":{"user_id":7,"email":"ann@example.com","api_key_id":null},' +
        '"project":{"id":3,"title":"Cats \\"and\\" dogs \u00e9 \u2028","description":"","workflow":{"stages":[{"id":1,"kind":"annotate","title":"Annotate"}]}},"changed":["title"],' +
        '"before":{"id":3,"title":"Cats \\"and\\" dogs \u00e9 \u2028","description":"","workflow":{"stages":[{"id":1,"kind":"annotate","title":"Annotate"}]}},' +
        '"after":{"id":3,"title":"new","description":"","workflow":{"stages":[{"id":1,"kind":"annotate","title":"Annotate"}]}}}}',
    );
    // The parsed path (a key the body sets itself): the project state never goes out.
    expect(render(eventFromRow(row('task.completed', { task: { id: 1 }, project_state: { open: 1 } })))).toBe(
      '{"type":"task.completed","timestamp":"2026-11-29T02:15:38.069Z","data":{"event_id":"01a22516-2555-7000-acf2-6402cc5ac769","project_id":3,' +
        '"actor":{"user_id":7,"email":"ann@example.com","api_key_id":null},"task":{"id":1}}}',
    );
  });

  it('is looked up by its exact name only', () => {
    expect(keptBodyRenderer('standard')).toBeUndefined();
    expect(keptBodyRenderer('standard/2')).toBeUndefined();
  });
});

// store/queue/event-rows.ts: an `after` that is text of the event's data is stored as where
// it sits there, and read back as that very text.
describe("an event's after kept by reference into its data", () => {
  const data = JSON.stringify({ project, changed: ['title'] });
  const after = JSON.stringify(project);

  it('stores a reference when the data holds the text, and reads back the same text', () => {
    const column = afterColumn(data, after);
    expect(column).toMatch(/^@data:\d+:\d+$/);
    expect(column!.length).toBeLessThan(after.length);
    expect(afterText({ data, after: column })).toBe(after);
  });

  it('stores the text itself when the data does not hold it, or when it is short', () => {
    const other = JSON.stringify({ ...project, title: 'other' });
    expect(afterColumn(data, other)).toBe(other);
    expect(afterColumn('{"n":1,"m":[1,2]}', '[1,2]')).toBe('[1,2]');
    expect(afterColumn(data, null)).toBeNull();
    for (const text of [other, '[1,2]', '"@data:1:2"', 'null']) expect(afterText({ data, after: text })).toBe(text);
    expect(afterText({ data, after: null })).toBeNull();
  });
});
