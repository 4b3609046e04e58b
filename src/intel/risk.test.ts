import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAssets } from '../model/classify.ts';
import { testAsset, testComm } from '../model/testing.ts';
import { assessRisk, riskContext } from './risk.ts';
import { emptyZoneState, reconcileZones, suggestZones } from './zones.ts';

test('risk adds criticality, exposure, vulnerabilities and risky operations, each shown as a factor', () => {
  const assets = [
    testAsset('plc', { ips: ['10.0.1.10'] }),
    testAsset('hmi', { ips: ['10.0.1.20'] }),
    testAsset('ews', { ips: ['10.0.1.30'] }),
    testAsset('office', { ips: ['10.9.0.5'], protocols: { served: [], used: ['http', 'dns', 'modbus'] } }),
  ];
  const comms = [
    testComm('hmi', 'plc', 'modbus', { 'modbus.read_holding_registers': ['read', 100] }),
    testComm('ews', 'plc', 's7comm', { 's7comm.download_block': ['program', 2] }),
    testComm('office', 'plc', 'modbus', { 'modbus.write_single_register': ['write', 3] }),
    testComm('office', 'web', 'http'),
  ];
  classifyAssets(assets, comms);
  const zones = reconcileZones(emptyZoneState(), suggestZones(assets, comms));
  const ctx = riskContext(assets, comms, zones);
  const plc = assessRisk(assets[0]!, [{ advisoryId: 'ICSA-1', status: 'affected', maxCvss: 9.8 }], ctx);
  assert.deepEqual(
    plc.factors.map((f) => [f.factor, f.points]),
    [
      ['criticality', 30],
      ['exposure', 25],
      ['vulnerabilities', 29],
      ['operations', 20],
    ],
  );
  assert.equal(plc.score, 100);
  assert.equal(plc.rating, 'high');
  assert.match(plc.factors[1]!.detail, /reached from 2 other zones; reached from 1 IT host/);
  assert.match(
    plc.factors[3]!.detail,
    /received 2 program\/control operations from 1 client; received 3 writes from 1 client/,
  );
  const possibly = assessRisk(assets[0]!, [{ advisoryId: 'ICSA-1', status: 'possibly_affected', maxCvss: 9.8 }], ctx);
  assert.equal(possibly.factors.find((f) => f.factor === 'vulnerabilities')!.points, 15);
  const office = assessRisk(assets[3]!, [], ctx);
  assert.deepEqual(
    office.factors.map((f) => f.factor),
    ['criticality'],
  );
  assert.equal(office.rating, 'low');
});
