// "Same keys and the same JSON types at every depth": the test-vector comparison for the
// seeds' example payloads.
import fs from 'node:fs';
import path from 'node:path';

export function seed(name: string): any {
  return JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/seeds', `${name}.json`), 'utf8'));
}

/** A value's shape: null, boolean, number, string, [element shape] or {key: shape}. */
export function shapeOf(v: unknown, extras: Set<string> = new Set(), at = ''): unknown {
  if (v === null) return 'null';
  if (Array.isArray(v)) {
    const shapes = v.map((x) => JSON.stringify(shapeOf(x, extras, at + '[]')));
    const distinct = [...new Set(shapes)];
    if (distinct.length > 1) throw new Error(`mixed element shapes at ${at || '(root)'}: ${distinct.join(' vs ')}`);
    return distinct.length ? [JSON.parse(distinct[0]!)] : [];
  }
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const p = at ? `${at}.${k}` : k;
      if (extras.has(p)) continue;
      out[k] = shapeOf((v as Record<string, unknown>)[k], extras, p);
    }
    return out;
  }
  return typeof v;
}

// The one addition to Label Studio's entities: the project's counters, which seed 003's key
// table lists for every payload's project though its examples leave them out.
export const LS_COUNTERS = [
  'task_number',
  'finished_task_number',
  'total_predictions_number',
  'total_annotations_number',
  'num_tasks_with_annotations',
  'useful_annotation_number',
  'ground_truth_number',
  'skipped_annotations_number',
].map((k) => `project.${k}`);
