// The reactive events a notification can trigger on, with the info-icon text saying when each
// fires (the Encord seed's "Use the info icon next to the event type").
export const REACTIVE_EVENTS: { type: string; label: string; when: string }[] = [
  { type: 'task.submitted', label: 'Task submitted', when: 'When an annotator submits a task from an Annotate stage for review.' },
  { type: 'task.completed', label: 'Task completed', when: 'When a task reaches the Complete stage: its last label was approved, or it was submitted with no review required.' },
  { type: 'review.accepted', label: 'Review accepted', when: 'When a reviewer accepts a label.' },
  { type: 'review.rejected', label: 'Review rejected', when: 'When a reviewer rejects a label; the task goes back to annotation.' },
  { type: 'annotation.created', label: 'Annotation created', when: 'When a label is added to a task.' },
  { type: 'annotation.updated', label: 'Annotation updated', when: 'When a label is edited.' },
  { type: 'annotation.deleted', label: 'Annotation deleted', when: 'When a label is deleted.' },
  { type: 'task.created', label: 'Task created', when: 'When tasks are imported into a project.' },
  { type: 'task.deleted', label: 'Task deleted', when: 'When a task is deleted.' },
  { type: 'project.created', label: 'Project created', when: 'When a project is created.' },
  { type: 'project.updated', label: 'Project updated', when: 'When a project’s title, description, configuration or workflow changes.' },
  { type: 'project.status_changed', label: 'Project status changed', when: 'When a project’s status changes (for example from in_progress to completed).' },
  { type: 'project.deleted', label: 'Project deleted', when: 'When a project is deleted.' },
];

export const DIGEST_WHEN = 'Daily at 17:00 UTC: a summary of the last 24 hours per project, with each annotator’s and reviewer’s statistics. Quiet days are skipped.';

export const eventLabel = (type: string) => REACTIVE_EVENTS.find((e) => e.type === type)?.label ?? type;
