// Runs dist/berth.cjs with a V8 code cache beside it (Node 20 has no built-in compile cache):
// parsing and compiling the bundle is most of the CLI's start-up after node's own.
// Copied into dist/ by the build; the cache is written by the build and refreshed when V8
// rejects it (another node version).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const file = path.join(__dirname, 'berth.cjs');
const cacheFile = `${file}.v8cache`;
const source = fs.readFileSync(file, 'utf8');
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
const mod = { exports: {}, filename: file, id: file, loaded: false };
script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, __dirname);
if (cachedData === undefined || script.cachedDataRejected) {
  process.on('exit', () => {
    try {
      fs.writeFileSync(`${cacheFile}.tmp${process.pid}`, script.createCachedData());
      fs.renameSync(`${cacheFile}.tmp${process.pid}`, cacheFile);
    } catch {
      // read-only install: run without a cache
    }
  });
}
