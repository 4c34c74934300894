// The pull/push progress renderer against byte strings derived from moby's pkg/jsonmessage
// (docker CLI 28.2): bar width 50 plus '>', shown only wider than 110 columns; sizes padded to
// 8 and printed with go-units HumanSize (4 significant digits: 1.057MB); cursor-up/erase/cursor-down per layer ID on a tty.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  displayJsonMessages,
  displayMessage,
  goSeconds,
  type ProgressMessage,
  progressText,
} from '../../../src/cli/progress.ts';

async function render(msgs: ProgressMessage[], tty: boolean, cols = 200): Promise<string> {
  let s = '';
  const out = {
    isTTY: tty,
    write: (t: string) => (s += t),
    getWindowSize: (): [number, number] => [cols, 40],
  };
  async function* gen() {
    yield* msgs;
  }
  await displayJsonMessages(gen(), out);
  return s;
}

test('progress text: bar, padded sizes, percentage truncated then halved', () => {
  const bar = `[${'='.repeat(12)}>${' '.repeat(38)}] `;
  // 25% of 3.4MB: int(25.0)/2 = 12 '=' then '>' then 38 spaces
  assert.equal(progressText({ current: 850_000, total: 3_400_000 }, 200), `${bar}   850kB/3.4MB`);
  assert.equal(progressText({ current: 850_000, total: 3_400_000 }, 110), '   850kB/3.4MB');
  assert.equal(
    progressText({ current: 3_400_000, total: 3_400_000 }, 111),
    `[${'='.repeat(50)}>] ${'   3.4MB/3.4MB'}`,
  );
  assert.equal(progressText({ current: 999_999_950, total: 2_000_000_000 }, 100), '  1000MB/2GB');
  assert.equal(progressText({ current: 1_056_777, total: 1_056_777 }, 60), ' 1.057MB/1.057MB');
  assert.equal(progressText({ current: 0, total: 0 }, 200), '');
  assert.equal(progressText({ current: 12 }, 200), '     12B');
  assert.equal(progressText({ current: 3, units: 'layers' }, 200), '3 layers');
  assert.equal(progressText({ current: 3, total: 5, units: 'layers' }, 60), '3/5 layers');
  assert.equal(progressText({ current: 6, total: 5, units: 'layers' }, 60), '6 layers');
  assert.equal(progressText({ current: 6000, total: 5000 }, 60), '     6kB');
  assert.equal(progressText({ current: 1, total: 2, hidecounts: true }, 60), '');
});

test('time left: Go integer nanoseconds, rounded to seconds, only wider than 50 and below 100%', () => {
  const now = 1_700_000_100_000; // ms
  const start = 1_700_000_000; // 100 s ago
  // perEntry = 100s / 1000 = 0.1s; left = 3000 * 0.1s = 300s = "5m0s"
  assert.equal(progressText({ current: 1000, total: 4000, start }, 100, now), '     1kB/4kB 5m0s');
  assert.equal(progressText({ current: 1000, total: 4000, start }, 50, now), '     1kB/4kB');
  assert.equal(progressText({ current: 4000, total: 4000, start }, 100, now), '     4kB/4kB');
  assert.equal(goSeconds(0), '0s');
  assert.equal(goSeconds(3725), '1h2m5s');
});

test('display: plain lines without a tty, progress updates dropped, deprecated progress text kept', () => {
  assert.equal(
    displayMessage({ status: 'Downloading', id: 'a', progressDetail: { current: 1, total: 2 } }, false, 200),
    '',
  );
  assert.equal(
    displayMessage({ status: 'Pulling fs layer', id: 'a', progressDetail: {} }, false, 200),
    'a: Pulling fs layer\n',
  );
  assert.equal(displayMessage({ status: 'Digest: sha256:x' }, false, 200), 'Digest: sha256:x\n');
  assert.equal(
    displayMessage({ status: 'Extracting', id: 'a', progress: '[=>] 1B' }, false, 200),
    'a: Extracting [=>] 1B',
  );
  assert.equal(displayMessage({ stream: 'Step 1\n' }, false, 200), 'Step 1\n');
  assert.equal(displayMessage({ status: 'x', id: 'a', from: 'img' }, false, 200), 'a: (from img) x\n');
});

test('tty: a new ID opens a line, later updates go up, erase, redraw and come back down', async () => {
  const a = { id: 'aaa', status: 'Pulling fs layer', progressDetail: {} };
  const b = { id: 'bbb', status: 'Pulling fs layer', progressDetail: {} };
  const upd = { id: 'aaa', status: 'Downloading', progressDetail: { current: 500, total: 1000 } };
  const got = await render(
    [{ status: 'Pulling from library/busybox', id: 'latest' }, a, b, upd, { status: 'Digest: sha256:x' }],
    true,
    80,
  );
  assert.equal(
    got,
    'latest: Pulling from library/busybox\n' +
      '\n\x1b[1A\x1b[2K\raaa: Pulling fs layer \r\x1b[1B' +
      '\n\x1b[1A\x1b[2K\rbbb: Pulling fs layer \r\x1b[1B' +
      '\x1b[2A\x1b[2K\raaa: Downloading     500B/1kB\r\x1b[2B' +
      'Digest: sha256:x\n',
  );
});

test('no tty: only status lines, the same stream', async () => {
  const got = await render(
    [
      { status: 'Pulling from library/busybox', id: 'latest' },
      { id: 'aaa', status: 'Pulling fs layer', progressDetail: {} },
      { id: 'aaa', status: 'Downloading', progressDetail: { current: 500, total: 1000 } },
      { id: 'aaa', status: 'Pull complete', progressDetail: {} },
      { aux: { Tag: 'x' } },
      { status: 'Status: Downloaded newer image for busybox:latest' },
    ],
    false,
  );
  assert.equal(
    got,
    'latest: Pulling from library/busybox\naaa: Pulling fs layer\naaa: Pull complete\nStatus: Downloaded newer image for busybox:latest\n',
  );
});

test('an error message stops the stream with its text', async () => {
  await assert.rejects(
    render([{ status: 'a' }, { errorDetail: { message: 'boom' }, error: 'boom' }], false),
    /boom/,
  );
});
