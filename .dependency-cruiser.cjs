// The layer rules of docs/architecture.md, checked by `npm run lint:deps` (part of `npm test`).
// Each layer may import only the layers listed below it; nothing imports upwards and nothing
// imports in a circle. Type-only imports count too (tsPreCompilationDeps): a type that has to
// be imported from a higher layer is a sign that it lives in the wrong place.
const LAYERS = [
  // [name, folder, may import]
  ['model', 'src/model', []],
  ['store', 'src/store', ['model']],
  ['dialects', 'src/dialects', ['model']],
  ['transports', 'src/transports', ['model']],
  ['domain', 'src/domain', ['store', 'dialects', 'model']],
  ['delivery', 'src/delivery', ['domain', 'store', 'dialects', 'transports', 'model']],
  ['schedule', 'src/schedule', ['delivery', 'domain', 'store', 'dialects', 'model']],
  ['api', 'src/api', ['schedule', 'delivery', 'domain', 'store', 'dialects', 'model']],
];
const folderOf = Object.fromEntries(LAYERS.map(([name, folder]) => [name, folder]));
const ours = LAYERS.map(([, folder]) => folder);

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'An import cycle: split the shared part into a lower module.', from: {}, to: { circular: true } },
    ...LAYERS.map(([name, folder, may]) => ({
      name: `layer-${name}`,
      severity: 'error',
      comment: `${folder} may import only ${may.length ? may.map((m) => folderOf[m]).join(', ') : 'nothing of ours'} (docs/architecture.md)`,
      from: { path: `^${folder}/` },
      to: {
        path: `^src/`,
        pathNot: [`^${folder}/`, ...may.map((m) => `^${folderOf[m]}/`)],
      },
    })),
    {
      name: 'no-unknown-folder',
      severity: 'error',
      comment: 'Every module of src/ lives in a layer folder, or is wiring at src/ top level (cli, server, config).',
      from: { path: '^src/' },
      to: { path: '^src/[^/]+/', pathNot: ours.map((f) => `^${f}/`) },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
