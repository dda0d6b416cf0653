// The "Full digest" statistics' shape, field for field as seed 000 defines them (computed by
// domain/digest-stats.ts), and the payload a digest delivery carries.

export interface AnnotatorStats {
  user_email: string;
  submitted_labels: number;
  accepted_labels: number;
  rejected_labels: number;
  avg_time_for_add?: number;
  avg_time_for_edit?: number;
  rejection_rate: number;
  total_add_or_edit_time: number;
}

export interface ReviewerStats {
  user_email: string;
  reject_count: number;
  accept_count: number;
  average_time: number;
  reviews_count: number;
  total_time: number;
  rejection_rate: number;
}

export interface ProjectStats {
  project_hash: string;
  annotator_stats: AnnotatorStats[];
  reviewer_stats: ReviewerStats[];
}

export interface Digest {
  window: { start: string; end: string };
  projects_stats: ProjectStats[];
}

export interface DigestPayload extends Digest {
  kind: 'digest';
  notification: { id: number; title: string };
}
