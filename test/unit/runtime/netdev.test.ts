import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNetDev } from '../../../src/runtime/index.ts';

test('net/dev: per-interface rx and tx counters, loopback left out', () => {
  const s = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0:    1962      21    1    2    0     0          0         0      796       9    3    4    0     0       0          0
`;
  assert.deepEqual(parseNetDev(s), {
    eth0: {
      rx_bytes: 1962,
      rx_packets: 21,
      rx_errors: 1,
      rx_dropped: 2,
      tx_bytes: 796,
      tx_packets: 9,
      tx_errors: 3,
      tx_dropped: 4,
    },
  });
  assert.deepEqual(parseNetDev(''), {});
});
