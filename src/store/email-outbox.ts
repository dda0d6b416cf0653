// The local email outbox: where email goes when no SMTP server is configured (GET /v1/outbox),
// so a new user sees what would have been sent and nothing is lost.
import type { Db } from './db.js';

export async function keepInOutbox(db: Db, m: { orgId: number; deliveryId: number; to: string[]; subject: string; text: string; html: string }): Promise<void> {
  await db
    .insertInto('outbox')
    .values({ org_id: m.orgId, delivery_id: m.deliveryId, recipients: JSON.stringify(m.to), subject: m.subject, text: m.text, html: m.html, created_at: Date.now() })
    .execute();
}
