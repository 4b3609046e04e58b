import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAssets } from '../model/classify.ts';
import { testAsset, testComm } from '../model/testing.ts';
import { crossLevelFindings } from './findings.ts';

test('an IT host writing to a PLC skips levels 2–3; internet addresses talking to level 1 are findings', () => {
  const assets = [
    testAsset('plc', { ips: ['10.0.1.10'] }),
    testAsset('hmi', { ips: ['10.0.1.20'] }),
    testAsset('office', { ips: ['10.9.0.5'], protocols: { served: [], used: ['http', 'dns', 'modbus'] } }),
    testAsset('ip:203.0.113.9', { ips: ['203.0.113.9'] }),
    testAsset('ip:8.8.4.4', { ips: ['8.8.4.4'], protocols: { served: ['dns'], used: [] } }),
  ];
  const comms = [
    testComm('hmi', 'plc', 'modbus', { 'modbus.read_holding_registers': ['read', 100] }),
    testComm('office', 'plc', 'modbus', { 'modbus.write_single_register': ['write', 3] }),
    testComm('office', 'web', 'http'),
    testComm('office', 'ip:8.8.4.4', 'dns'),
    testComm('ip:8.8.4.4', 'plc', 'modbus', { 'modbus.read_coils': ['read', 1] }),
  ];
  classifyAssets(assets, comms);
  const f = crossLevelFindings(assets, comms);
  assert.deepEqual(
    f.map((x) => [x.kind, x.client, x.server, x.severity]),
    [
      ['internet_to_control', 'ip:8.8.4.4', 'plc', 'high'],
      ['level_skip', 'office', 'plc', 'high'],
    ],
  );
  assert.equal(
    f[1]!.text,
    '10.9.0.5 (it host, level 4) talks straight to 10.0.1.10 (plc, level 1) over modbus, including modbus.write_single_register ×3: skips levels 2, 3, 3.5',
  );
  assert.match(f[0]!.text, /internet-routable address in conversation with the control levels/);
  assert.ok(!f.some((x) => x.client === 'hmi'), 'HMI → PLC is one level: no finding');
  assert.ok(!f.some((x) => x.server === 'ip:8.8.4.4'), 'office → internet DNS is not a control-level finding');
});
