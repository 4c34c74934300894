
import { startTestDaemon } from '../test/helpers/daemon.ts';
import { busyboxTar } from '../test/helpers/fixtures.ts';
const d = await startTestDaemon();
await d.berth(['import','-c','CMD ["sh"]', busyboxTar(), 'busybox']);
const fs = await import('node:fs'); const crypto = await import('node:crypto');
const ctx = process.env.T + '/ctx'; fs.mkdirSync(ctx + '/data', {recursive:true});
for (let i=0;i<1000;i++) fs.writeFileSync(ctx+'/data/f'+i, crypto.randomBytes(50*1024));
fs.writeFileSync(ctx+'/Dockerfile', fs.readFileSync('/tmp/Dockerfile.bb'));
fs.writeFileSync(ctx+'/Dockerfile.parallel', fs.readFileSync('/tmp/Dockerfile.pp'));
const t0=Date.now(); let r = await d.berth(['build','--progress=plain','--network','none',ctx]); console.log(r.stderr.split('\n').filter(l=>/DONE|CACHED|^#\d+ \[/.test(l)).join('\n'), Date.now()-t0);
const t1=Date.now(); r = await d.berth(['build','--progress=plain','--network','none',ctx]); console.log('cached', Date.now()-t1);
fs.writeFileSync(ctx+'/data/f500', crypto.randomBytes(50*1024));
const t2=Date.now(); r = await d.berth(['build','--progress=plain','--network','none',ctx]); console.log(r.stderr.split('\n').filter(l=>/DONE|CACHED/.test(l)).join('\n'), 'changed', Date.now()-t2);
const t3=Date.now(); r = await d.berth(['build','--progress=plain','--network','none','-f',ctx+'/Dockerfile.parallel',ctx]); console.log(r.stderr.split('\n').filter(l=>/DONE|CACHED|^#\d+ \[/.test(l)).join('\n'), 'parallel', Date.now()-t3);
await d.cleanup();
