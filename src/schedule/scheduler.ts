// The scheduler role: closes email windows and runs due digests on a short tick. Every step
// is idempotent by a unique key in the database, so running it in every worker process is
// safe: they race on the keys, not on locks held in memory.
import type { FastifyBaseLogger } from 'fastify';
import type { Services } from '../domain/context.js';
import { closeEmailWindows } from './email-batches.js';
import { runDueDigests } from './digests.js';
import { runDuePeriodic } from './periodic.js';
import { expireActionRuns } from './action-ttl.js';

export class Scheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly svc: Services,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick().then(() => undefined);
      await this.running;
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.svc.delivery.scheduleTickMs);
    };
    this.timer = setTimeout(() => void loop(), 0);
  }

  async tick(now = Date.now()): Promise<{ emails: number; digests: number }> {
    try {
      const emails = await closeEmailWindows(this.svc.store, this.svc.delivery.emailWindowMs, now);
      const digests = (await runDueDigests(this.svc.store, now)) + (await runDuePeriodic(this.svc.store, now));
      await expireActionRuns(this.svc.store, now);
      if (emails + digests > 0) {
        this.svc.wake();
        this.svc.store.notifyWork();
      }
      return { emails, digests };
    } catch (err) {
      this.log.error({ err }, 'scheduler tick failed; will try again');
      return { emails: 0, digests: 0 };
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
