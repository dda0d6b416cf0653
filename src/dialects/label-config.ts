// What Label Studio derives from a labeling config (seed 003's project objects):
// control_weights, one entry per control tag (a tag with toName) listing its labels, and
// data_types, the task data keys object tags read ($image -> "Image"). A small tag scanner
// is enough: label configs are flat XML of self-describing tags.

const TAG = /<([A-Z][A-Za-z]*)\b([^>]*?)(\/?)>/g;
const ATTR = /([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*"([^"]*)"/g;
// Child tags that name a label or choice of their control.
const CHOICE_TAGS = new Set(['Label', 'Choice']);

function attrs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(ATTR)) out[m[1]!] = m[2]!;
  return out;
}

export interface DerivedConfig {
  control_weights: Record<string, { overall: number; type: string; labels: Record<string, number> }>;
  data_types: Record<string, string>;
}

export function deriveConfig(labelConfig: string): DerivedConfig {
  // Comments may hold example data (the seed's configs do); they are not tags.
  const xml = labelConfig.replace(/<!--[\s\S]*?-->/g, '');
  const control_weights: DerivedConfig['control_weights'] = {};
  const data_types: DerivedConfig['data_types'] = {};
  let current: string | null = null;
  for (const m of xml.matchAll(TAG)) {
    const [, tag, rawAttrs, selfClosing] = m;
    const a = attrs(rawAttrs!);
    if (a.toName && a.name) {
      control_weights[a.name] = { overall: 1.0, type: tag!, labels: {} };
      current = selfClosing ? null : a.name;
    } else if (CHOICE_TAGS.has(tag!) && current && a.value !== undefined) {
      control_weights[current]!.labels[a.value] = 1.0;
    } else if (a.name && a.value?.startsWith('$')) {
      data_types[a.value.slice(1)] = tag!;
    }
  }
  return { control_weights, data_types };
}
