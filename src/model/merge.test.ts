import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeDocuments } from './merge.ts';
import { emptyDocument, type AnalysisDocument, type Asset, type Communication } from './types.ts';

function asset(id: string, macs: string[], ips: string[], packets = 10): Asset {
  return {
    id,
    kind: 'device',
    macs,
    ips,
    vendor: null,
    names: [],
    vlans: [],
    role: 'unknown',
    roleEvidence: [],
    identity: [],
    protocols: { served: [], used: [] },
    firstSeen: '2024-01-01T00:00:00.000000Z',
    lastSeen: '2024-01-01T00:00:01.000000Z',
    packets,
    bytes: packets * 100,
  };
}

function comm(client: string, server: string, count: number, range: [number, number]): Communication {
  return {
    id: `${client}>${server}/tcp/502/modbus`,
    client,
    server,
    transport: 'tcp',
    port: 502,
    protocol: 'modbus',
    confirmed: true,
    vlans: [],
    flows: 1,
    packets: count * 2,
    bytes: count * 150,
    packetsToServer: count,
    packetsToClient: count,
    bytesToServer: count * 70,
    bytesToClient: count * 80,
    firstSeen: '2024-01-01T00:00:00.000000Z',
    lastSeen: '2024-01-01T00:00:01.000000Z',
    operations: {
      'modbus.read_holding_registers': {
        code: 3,
        access: 'read',
        count,
        responses: count,
        exceptions: 0,
        ranges: { holding_register: [range] },
        firstSeen: '2024-01-01T00:00:00.000000Z',
        lastSeen: '2024-01-01T00:00:01.000000Z',
      },
    },
  };
}

function doc(assets: Asset[], communications: Communication[]): AnalysisDocument {
  return { ...emptyDocument(), assets, communications };
}

test('merging the same analysis twice keeps one asset per device and sums the counters', () => {
  const a = doc(
    [asset('mac:00:00:00:00:00:01', ['00:00:00:00:00:01'], ['10.0.0.1']), asset('ip:10.0.0.9', [], ['10.0.0.9'])],
    [comm('ip:10.0.0.9', 'mac:00:00:00:00:00:01', 5, [0, 9])],
  );
  const m = mergeDocuments(mergeDocuments(emptyDocument(), a), a);
  assert.equal(m.assets.length, 2);
  assert.equal(m.assets.find((x) => x.id === 'mac:00:00:00:00:00:01')!.packets, 20);
  assert.equal(m.communications.length, 1);
  assert.equal(m.communications[0]!.operations['modbus.read_holding_registers']!.count, 10);
});

test('an IP-only asset that later shows its MAC takes the MAC id, and its communications follow', () => {
  const first = doc(
    [asset('ip:10.0.0.9', [], ['10.0.0.9']), asset('mac:00:00:00:00:00:01', ['00:00:00:00:00:01'], ['10.0.0.1'])],
    [comm('ip:10.0.0.9', 'mac:00:00:00:00:00:01', 5, [0, 9])],
  );
  const second = doc(
    [
      asset('mac:00:00:00:00:00:09', ['00:00:00:00:00:09'], ['10.0.0.9']),
      asset('mac:00:00:00:00:00:01', ['00:00:00:00:00:01'], ['10.0.0.1']),
    ],
    [comm('mac:00:00:00:00:00:09', 'mac:00:00:00:00:00:01', 3, [10, 19])],
  );
  const m = mergeDocuments(first, second);
  assert.deepEqual(
    m.assets.map((x) => x.id),
    ['mac:00:00:00:00:00:01', 'mac:00:00:00:00:00:09'],
  );
  assert.equal(m.communications.length, 1);
  const c = m.communications[0]!;
  assert.equal(c.client, 'mac:00:00:00:00:00:09');
  assert.equal(c.operations['modbus.read_holding_registers']!.count, 8);
  assert.deepEqual(c.operations['modbus.read_holding_registers']!.ranges, { holding_register: [[0, 19]] });
});

test('inputs are not modified', () => {
  const a = doc([asset('ip:10.0.0.9', [], ['10.0.0.9'])], []);
  const before = JSON.stringify(a);
  mergeDocuments(a, a);
  assert.equal(JSON.stringify(a), before);
});
