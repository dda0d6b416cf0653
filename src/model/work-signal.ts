// Which channels a wake-up names (domain/routing.ts signalWork, store/connect.ts's coalesced
// NOTIFY, delivery/dispatcher.ts wake): several signals folded into one name the union of
// their channels, and name none (wake for everything) as soon as one of them named none.

export class WorkChannels {
  // null once a signal named no channels.
  private named: Set<number> | null = new Set();

  /** Folds in one signal; `channels` undefined or empty: it did not say which. */
  add(channels?: readonly number[]): void {
    if (!channels || channels.length === 0) this.named = null;
    else if (this.named) for (const c of channels) this.named.add(c);
  }

  /** The channels named, or undefined when the signals folded in name none (or more than `most`). */
  list(most = Infinity): number[] | undefined {
    return this.named && this.named.size > 0 && this.named.size <= most ? [...this.named] : undefined;
  }
}
