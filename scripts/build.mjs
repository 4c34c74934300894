// Bundles the two entry points with esbuild: one file each, so `berth` starts without
// resolving hundreds of modules (the CLI's start-up time is a benchmarked goal).
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
  // esm bundles need a require() for the few CommonJS dependencies.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __berthCreateRequire } from 'node:module'; const require = __berthCreateRequire(import.meta.url);",
  },
};

await Promise.all([
  build({ ...common, entryPoints: ['src/cmd/berth.ts'], outfile: 'dist/berth.mjs' }),
  build({ ...common, entryPoints: ['src/cmd/berthd.ts'], outfile: 'dist/berthd.mjs' }),
]);
