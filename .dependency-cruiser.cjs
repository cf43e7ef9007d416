/**
 * The layer rules of ikekm (docs/architecture.md), checked on every `npm test`
 * (test/architecture/layers.test.ts). Bottom to top:
 *
 *   src/result.ts, src/wire  →  src/crypto, src/policy  →  src/pki  →  src/config  →  src/ikev2, src/timers,
 *   src/kernel, src/log, src/transport, src/record  →  machines/  →  src/engine  →  src/daemon,
 *   src/control, src/replay, src/inspector  →  src/demo, src/cli  →  bin/
 *
 * Beside them, src/load is the load generator (`ikekm load`): an initiator made of the protocol
 * layer's exchanges alone, with no machine, engine or daemon (it must outrun the one it loads).
 * src/viz draws the machines' state charts (npm run viz): it reads machines/ and
 * what is below, and nothing imports it.
 *
 * A module may import its own layer and the ones below; never one above, and never in a cycle.
 * Type-only imports count: a type is a dependency too.
 */
const below = (...folders) => `^(${folders.join('|')})`;
const UPPER = ['machines/', 'src/viz/', 'src/engine/', 'src/daemon/', 'src/control/', 'src/replay/', 'src/inspector/', 'src/demo/', 'src/cli/', 'bin/'];

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Import cycles make the layers meaningless and the load order fragile.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'wire-is-the-bottom',
      comment: 'The codec depends on nothing but itself and src/result.ts.',
      severity: 'error',
      from: { path: '^src/wire/' },
      to: { path: '^(src|machines|bin)/', pathNot: below('src/wire/', 'src/result\\.ts$') },
    },
    {
      name: 'crypto-and-policy-know-only-the-wire',
      comment: 'Transforms, key derivation, proposal syntax and traffic selectors are protocol-neutral.',
      severity: 'error',
      from: { path: below('src/crypto/', 'src/policy/') },
      to: { path: '^(src|machines|bin)/', pathNot: below('src/crypto/', 'src/policy/', 'src/wire/', 'src/result\\.ts$', 'src/ports\\.ts$') },
    },
    {
      name: 'pki-knows-only-crypto-and-the-wire',
      comment: 'Certificates, names, revocation and keys: what the configuration and the protocol read, knowing neither.',
      severity: 'error',
      from: { path: '^src/pki/' },
      to: { path: '^(src|machines|bin)/', pathNot: below('src/pki/', 'src/crypto/', 'src/wire/', 'src/result\\.ts$', 'src/ports\\.ts$') },
    },
    {
      name: 'config-below-the-protocol',
      comment: 'The configuration model is what the protocol reads; it never imports the protocol.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: { path: below('src/ikev2/', 'src/kernel/', 'src/transport/', 'src/record/', 'src/log/', ...UPPER) },
    },
    {
      name: 'nothing-below-the-machines-knows-them',
      comment: 'The protocol logic, codecs and ports serve the machines; the machines are above them.',
      severity: 'error',
      from: { path: below('src/wire/', 'src/crypto/', 'src/policy/', 'src/pki/', 'src/config/', 'src/ikev2/', 'src/timers/', 'src/kernel/', 'src/log/', 'src/transport/', 'src/record/', 'src/ports\\.ts$', 'src/result\\.ts$') },
      to: { path: below(...UPPER) },
    },
    {
      name: 'machines-act-through-effects',
      comment: 'Machines decide; the engine and its ports act. They never import the engine, the kernel, the transport or the log.',
      severity: 'error',
      from: { path: '^machines/' },
      to: { path: below('src/engine/', 'src/daemon/', 'src/control/', 'src/demo/', 'src/cli/', 'src/kernel/', 'src/transport/', 'src/log/', 'src/record/', 'bin/') },
    },
    {
      name: 'engine-below-the-daemon',
      comment: 'The engine is a library the daemon, the demo and tests wire to ports.',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: below('src/daemon/', 'src/control/', 'src/replay/', 'src/inspector/', 'src/demo/', 'src/cli/', 'bin/') },
    },
    {
      name: 'daemon-and-control-below-the-cli',
      comment: 'The command line uses the daemon and the control socket, not the reverse.',
      severity: 'error',
      from: { path: below('src/daemon/', 'src/control/', 'src/replay/', 'src/inspector/') },
      to: { path: below('src/demo/', 'src/cli/', 'bin/') },
    },
    {
      name: 'the-inspector-is-a-client',
      comment: 'The inspector page reads records and a daemon\'s control socket; it never runs a daemon or an engine of its own.',
      severity: 'error',
      from: { path: '^src/inspector/' },
      to: { path: below('src/daemon/', 'src/engine/(?!engine-journal\\.ts$)', 'machines/') },
    },
    {
      name: 'control-is-a-protocol-not-a-daemon',
      comment: 'The control socket protocol and its client stand alone; the daemon serves it.',
      severity: 'error',
      from: { path: '^src/control/' },
      to: { path: '^src/daemon/' },
    },
    {
      name: 'the-load-generator-stands-on-the-exchanges',
      comment: 'ikekm load builds and checks its messages with src/ikev2 and below; it runs no machine, engine or daemon of ours.',
      severity: 'error',
      from: { path: '^src/load/' },
      to: { path: below(...UPPER) },
    },
    {
      name: 'charts-are-for-readers',
      comment: 'The state charts are drawn from the machines (npm run viz); nothing in the product depends on them.',
      severity: 'error',
      from: { path: '^(src|machines|bin)/', pathNot: '^src/viz/' },
      to: { path: '^src/viz/' },
    },
    {
      name: 'charts-read-the-machine-definitions',
      comment: 'A chart is drawn from a machine definition built on inert ports, never from a running engine or daemon.',
      severity: 'error',
      from: { path: '^src/viz/' },
      to: { path: below('src/engine/', 'src/daemon/', 'src/control/', 'src/replay/', 'src/inspector/', 'src/demo/', 'src/cli/', 'bin/') },
    },
    {
      name: 'product-does-not-import-tests',
      severity: 'error',
      from: { path: '^(src|machines|bin)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: require('node:path').join(__dirname, 'tsconfig.json') },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
