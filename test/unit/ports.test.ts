import { expect, test } from 'vitest';
import { boundUdpPorts } from '../../mixer/ports.ts';

// Captured from this machine's /proc/net/udp (columns after `inode` trimmed).
const PROC_NET_UDP = [
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
  '  123: 0100007F:5DC0 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1001',
  '  124: 0100007F:5DC1 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1002',
  '  125: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1003',
  '  126: 0A00020F:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1004',
  '',
].join('\n');

test('boundUdpPorts() reads the ports bound on 127.0.0.1 or on any address, in hex', () => {
  expect([...boundUdpPorts(PROC_NET_UDP)].sort()).toEqual([24000, 24001, 5353]);
});

test('boundUdpPorts() of an empty or unreadable table is empty', () => {
  expect(boundUdpPorts('').size).toBe(0);
  expect(boundUdpPorts('header only\n').size).toBe(0);
});
