// The webhook formats by name. The renderers live in dialects/; the names are here so a
// channel's stored config (model/channel-config.ts) can name its dialect without importing them.
export const DIALECT_NAMES = ['standard', 'encord', 'label-studio', 'superannotate'] as const;
export type DialectName = (typeof DIALECT_NAMES)[number];
