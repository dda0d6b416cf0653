// The checks on a channel that need more than its input: a webhook or Slack URL against the
// operator's target policy, and a webhook dialect against the notification's triggers.
// Pure checks (headers, recipients, secrets, triggers) are in model/.
import type { Ctx } from './context.js';
import { dialect as dialectOf } from '../dialects/index.js';
import { literalRefusal } from '../model/addresses.js';
import type { DialectName } from '../model/dialect-names.js';
import { AppError } from '../model/errors.js';
import { firedKind, triggerSourceTypes, triggerType, type Trigger } from '../model/triggers.js';

export function checkUrl(ctx: Ctx, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('validation_failed', `url '${raw}' is not an absolute URL; use https://host/path.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('validation_failed', `url must use http or https, not ${url.protocol.replace(':', '')}.`);
  if (url.username || url.password) throw new AppError('validation_failed', 'url must not carry credentials; send them in a custom header (for example Authorization).');
  const why = literalRefusal(url, ctx.svc.targets);
  if (why) throw new AppError('target_not_allowed', `url ${url.host} is refused: ${why}.`);
  return url.toString();
}

/** Every explicit trigger must be one the channel's dialect can express. */
export function checkDialectTriggers(d: DialectName, triggers: Trigger[]): void {
  const dl = dialectOf(d);
  const types = triggers.flatMap((t) => {
    const fired = firedKind(t);
    if (fired) return [`pipeline.${fired}`];
    return typeof t !== 'string' && 'event' in t ? triggerSourceTypes(t) : [triggerType(t)];
  });
  const unsupported = types.filter((t) => t !== 'all' && !dl.supports(t));
  if (unsupported.length > 0) {
    throw new AppError('validation_failed', `The ${d} dialect has no message for ${unsupported.join(', ')}; remove those triggers or use the standard dialect.`);
  }
}
