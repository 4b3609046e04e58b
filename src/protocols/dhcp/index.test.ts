import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnalyzerContext, AssetFact } from '../_core/types.ts';
import { dhcpProtocol } from './index.ts';

/** Hex with `//` comments and any whitespace. */
function fromHex(annotated: string): Uint8Array {
  const hex = annotated.replace(/\/\/.*$/gm, '').replace(/\s+/g, '');
  assert.match(hex, /^(?:[0-9a-f]{2})*$/i);
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function recorder(): { ctx: AnalyzerContext; facts: AssetFact[]; calls: string[] } {
  const facts: AssetFact[] = [];
  const calls: string[] = [];
  const ctx: AnalyzerContext = {
    operation: () => calls.push('operation'),
    fact: (f) => facts.push(f),
    anomaly: (c) => calls.push(`anomaly ${c}`),
    confirm: () => calls.push('confirm'),
    violate: (c) => calls.push(`violate ${c}`),
  };
  return { ctx, facts, calls };
}

const zeros = (n: number): string => '00'.repeat(n);
/** BOOTP header: op, yiaddr and chaddr vary; then the magic cookie. */
const bootp = (op: string, yiaddr: string, chaddr: string): string =>
  `${op} 01 06 00 0000abcd 0000 0000 00000000 ${yiaddr} ${zeros(8)} ${chaddr} ${zeros(10)} ${zeros(192)} 63825363`;

const MAC = 0x001b1b010203;

test('dhcpProtocol registration', () => {
  assert.equal(dhcpProtocol.name, 'dhcp');
  assert.equal(dhcpProtocol.transport, 'udp');
  assert.deepEqual(dhcpProtocol.ports, [67, 68]);
});

test('a client request and the server ACK give dhcp facts', () => {
  const { ctx, facts, calls } = recorder();
  const a = dhcpProtocol.createAnalyzer(ctx);
  a.data(
    0,
    fromHex(`${bootp('01', '00000000', '001b1b010203')}
      35 01 03                       // REQUEST
      32 04 c0a8000a                 // requested 192.168.0.10
      0c 04 706c6331                 // host name plc1
      3c 08 4d53465420352e30         // vendor class "MSFT 5.0"
      37 04 01 03 06 0f              // PRL
      ff`),
    0,
  );
  a.data(1, fromHex(`${bootp('02', 'c0a8000a', '001b1b010203')} 35 01 05 36 04 c0a80001 ff`), 0);
  // An OFFER assigns nothing yet.
  a.data(1, fromHex(`${bootp('02', 'c0a8000b', '001b1b010203')} 35 01 02 ff`), 0);
  assert.deepEqual(calls, ['confirm']);
  assert.deepEqual(facts, [
    {
      kind: 'dhcp',
      mac: MAC,
      hostname: 'plc1',
      vendorClass: 'MSFT 5.0',
      parameterRequestList: [1, 3, 6, 15],
      requestedIp: '192.168.0.10',
    },
    { kind: 'dhcp', mac: MAC, assignedIp: '192.168.0.10' },
  ]);
});

test('garbage first violates with dhcp.not_dhcp and detaches', () => {
  const { ctx, facts, calls } = recorder();
  const a = dhcpProtocol.createAnalyzer(ctx);
  a.data(0, fromHex('474554202f20485454502f312e310d0a'), 0);
  a.data(0, fromHex(`${bootp('01', '00000000', '001b1b010203')} 35 01 01 0c 01 61 ff`), 0);
  assert.deepEqual(calls, ['violate dhcp.not_dhcp']);
  assert.deepEqual(facts, []);
});

test('oddities after confirmation are anomalies', () => {
  const { ctx, facts, calls } = recorder();
  const a = dhcpProtocol.createAnalyzer(ctx);
  a.data(0, fromHex(`${bootp('01', '00000000', '001b1b010203')} 35 01 01 ff`), 0);
  // Client id naming another MAC; server message type from a client; zero chaddr; short datagram.
  a.data(0, fromHex(`${bootp('01', '00000000', '001b1b010203')} 35 01 03 3d 07 01 001b1b999999 ff`), 0);
  a.data(0, fromHex(`${bootp('01', '00000000', '001b1b010203')} 35 01 05 ff`), 0);
  a.data(0, fromHex(`${bootp('01', '00000000', '000000000000')} 35 01 01 0c 01 61 ff`), 0);
  a.data(0, fromHex('0101'), 0);
  assert.deepEqual(calls, [
    'confirm',
    'anomaly dhcp.client_id_mismatch',
    'anomaly dhcp.op_type_mismatch',
    'anomaly dhcp.zero_chaddr',
    'anomaly dhcp.truncated',
  ]);
  assert.deepEqual(facts, []);
});
