// StartGates: a wait whose hook open() already runs is not cut short by an abort (the caller would
// go on while the hook still connects, leaving what it made with nobody to close it); a wait
// aborted before open() resolves at once and its hook never runs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StartGates } from '../../../src/containers/start-gates.ts';

describe('StartGates', () => {
  test('an abort after open() took the gate waits for the hook to finish', async () => {
    const gates = new StartGates();
    const ac = new AbortController();
    let release!: () => void;
    let hookDone = false;
    const hook = () =>
      new Promise<void>((r) => {
        release = () => {
          hookDone = true;
          r();
        };
      });
    let waitDone = false;
    const waited = gates.wait('c1', false, hook, ac.signal).then(() => {
      waitDone = true;
    });
    const opened = gates.open('c1');
    ac.abort();
    await new Promise((r) => setImmediate(r));
    assert.equal(waitDone, false, 'the wait resolved while its hook was still running');
    release();
    await waited;
    await opened;
    assert.equal(hookDone, true);
    gates.close('c1');
  });

  test('an abort before open() resolves the wait and the hook never runs', async () => {
    const gates = new StartGates();
    const ac = new AbortController();
    let ran = false;
    const waited = gates.wait(
      'c2',
      false,
      async () => {
        ran = true;
      },
      ac.signal,
    );
    ac.abort();
    await waited;
    await gates.open('c2');
    assert.equal(ran, false);
    gates.close('c2');
  });

  test('a hook that fails rejects its wait', async () => {
    const gates = new StartGates();
    const waited = gates.wait(
      'c3',
      false,
      async () => {
        throw new Error('boom');
      },
      new AbortController().signal,
    );
    await gates.open('c3');
    await assert.rejects(waited, /boom/);
    gates.close('c3');
  });
});
