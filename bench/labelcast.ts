// The one module through which the bench reaches Labelcast's source: when src/ is reshaped,
// only these paths change. Everything else in bench/ imports Labelcast from here.
export { Dispatcher } from '../src/delivery/dispatcher.js';
export { createMetrics } from '../src/delivery/metrics.js';
export { loadDeliverySettings, type DeliverySettings } from '../src/model/delivery-settings.js';
export { loadMessagingSettings } from '../src/model/messaging-settings.js';
export { command, type Actor, type Services } from '../src/domain/context.js';
export { createOrganization } from '../src/domain/organizations.js';
export { createNotification } from '../src/domain/notifications.js';
export { createProject, updateProject } from '../src/domain/projects.js';
export { computeDigest } from '../src/domain/digest-stats.js';
export { openStore, type Store } from '../src/store/connect.js';
export type { DatabaseKind } from '../src/store/kind.js';
export { keyFrom, keyring } from '../src/store/seal.js';
