// The dialects' pure parts, as plain function calls.
import { describe, expect, it } from 'vitest';
import { encordTimestamp } from '../../src/dialects/encord.js';
import { deriveConfig } from '../../src/dialects/label-config.js';
import { actionFor } from '../../src/dialects/label-studio.js';
import { dialect } from '../../src/dialects/index.js';
import { seed } from '../helpers/shape.js';

describe('Label Studio label config', () => {
  it.each(['label-studio-TASKS_DELETED', 'label-studio-ANNOTATION_UPDATED', 'label-studio-PROJECT_CREATED'])('derives control_weights and data_types as in %s', (name) => {
    const p = seed(name).project;
    expect(deriveConfig(p.label_config)).toEqual({ control_weights: p.control_weights, data_types: p.data_types });
  });
});

describe('encord', () => {
  it('formats timestamps with microseconds and an offset, like the seed', () => {
    expect(encordTimestamp('2024-03-25T15:18:55.406Z')).toBe('2024-03-25T15:18:55.406000+00:00');
    expect(encordTimestamp('2024-03-25T15:18:55Z')).toBe('2024-03-25T15:18:55.000000+00:00');
  });
  it('expresses only task submissions and completions', () => {
    const d = dialect('encord');
    expect(['task.submitted', 'task.completed'].every(d.supports)).toBe(true);
    expect(['task.created', 'annotation.created', 'review.accepted', 'project.created'].some(d.supports)).toBe(false);
  });
});

describe('label-studio actions', () => {
  it('names single and bulk imports as the seed does', () => {
    expect(actionFor({ type: 'task.created', data: { tasks: [{}] } })).toBe('TASK_CREATED');
    expect(actionFor({ type: 'task.created', data: { tasks: [{}, {}] } })).toBe('TASKS_CREATED');
    expect(actionFor({ type: 'task.deleted', data: { tasks: [{}] } })).toBe('TASK_DELETED');
    expect(actionFor({ type: 'task.deleted', data: { tasks: [{}, {}] } })).toBe('TASKS_DELETED');
    expect(actionFor({ type: 'project.status_changed', data: {} })).toBe('PROJECT_UPDATED');
    expect(actionFor({ type: 'task.submitted', data: {} })).toBeNull();
  });
});

describe('superannotate parts', () => {
  it('splits an import into one message per item', () => {
    const d = dialect('superannotate');
    expect(d.parts({ type: 'task.created', data: { tasks: [{}, {}, {}] } })).toBe(3);
    expect(d.parts({ type: 'project.updated', data: {} })).toBe(1);
    expect(d.supports('annotation.created')).toBe(false);
  });
});
