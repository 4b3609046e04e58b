import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAssets } from '../model/classify.ts';
import { testAsset, testComm } from '../model/testing.ts';
import type { Asset, Communication } from '../model/types.ts';
import type { AccessClass } from '../protocols/_core/types.ts';
import type { ZoneError } from './zones.ts';
import {
  assignAssets,
  conduits,
  emptyZoneState,
  mergeZones,
  reconcileZones,
  releaseAssets,
  renameZone,
  splitZone,
  suggestZones,
  type ZoneState,
} from './zones.ts';

/** Two production lines on one subnet (each an HMI polling its PLCs), an engineering workstation, an office PC. */
function plant(): { assets: Asset[]; comms: Communication[] } {
  const a = (id: string, ip: string, name?: string): Asset =>
    testAsset(id, { ips: [ip], names: name !== undefined ? [{ name, source: 'dhcp' }] : [] });
  const assets = [
    a('plc1', '10.0.1.11', 'line1-plc1'),
    a('plc2', '10.0.1.12', 'line1-plc2'),
    a('hmi1', '10.0.1.21', 'line1-hmi'),
    a('plc3', '10.0.1.13', 'line2-plc3'),
    a('plc4', '10.0.1.14', 'line2-plc4'),
    a('hmi2', '10.0.1.22', 'line2-hmi'),
    a('ews', '10.0.1.50'),
    testAsset('office', { ips: ['10.9.0.5'], protocols: { served: [], used: ['http', 'dns', 'modbus'] } }),
  ];
  const read: Record<string, [AccessClass, number]> = { 'modbus.read_holding_registers': ['read', 100] };
  const comms = [
    testComm('hmi1', 'plc1', 'modbus', { ...read }),
    testComm('hmi1', 'plc2', 'modbus', { ...read }),
    testComm('hmi2', 'plc3', 'modbus', { ...read }),
    testComm('hmi2', 'plc4', 'modbus', { ...read }),
    testComm('ews', 'plc1', 's7comm', { 's7comm.download_block': ['program', 2] }),
    testComm('ews', 'plc3', 's7comm', { 's7comm.download_block': ['program', 2] }),
    testComm('office', 'plc4', 'modbus', { 'modbus.write_single_register': ['write', 3] }),
    testComm('office', 'web', 'http'),
    testComm('office', 'dns', 'dns'),
  ];
  classifyAssets(assets, comms);
  return { assets, comms };
}

function zoneOf(s: ZoneState, asset: string): string {
  const m = s.members.get(asset);
  return s.zones.find((z) => z.id === m?.zone)?.name ?? '(none)';
}

test('suggestion: level and subnet, split by communication cluster, named after the common name prefix', () => {
  const { assets, comms } = plant();
  const s = reconcileZones(emptyZoneState(), suggestZones(assets, comms));
  assert.equal(zoneOf(s, 'plc1'), 'L1-line1-controllers');
  assert.equal(zoneOf(s, 'plc2'), 'L1-line1-controllers');
  assert.equal(zoneOf(s, 'plc3'), 'L1-line2-controllers');
  assert.equal(zoneOf(s, 'hmi1'), 'L2-line1-supervisory');
  assert.equal(zoneOf(s, 'hmi2'), 'L2-line2-supervisory');
  // The engineering workstation talks to both lines: it is not part of either cluster.
  assert.match(zoneOf(s, 'ews'), /^L2-.*supervisory/);
  assert.equal(zoneOf(s, 'office'), 'L4-10-9-0-0-24-enterprise');
  const z = s.zones.find((x) => x.name === 'L1-line1-controllers')!;
  assert.match(z.reason, /level 1 \(basic control\); subnet 10\.0\.1\.0\/24; one of 2 groups/);
});

test('conduits list which zone talks to which, with services and operations, riskiest first', () => {
  const { assets, comms } = plant();
  const s = reconcileZones(emptyZoneState(), suggestZones(assets, comms));
  const cs = conduits(s, comms);
  const office = cs.find((c) => c.from === s.members.get('office')!.zone && c.to === s.members.get('plc4')!.zone)!;
  assert.deepEqual(office.services, ['modbus/tcp/0']);
  assert.deepEqual(office.operations, [{ name: 'modbus.write_single_register', access: 'write', count: 3 }]);
  const line1 = cs.find((c) => c.from === s.members.get('hmi1')!.zone)!;
  assert.equal(line1.communications, 2);
  assert.deepEqual(line1.pairs, [
    ['hmi1', 'plc1'],
    ['hmi1', 'plc2'],
  ]);
  assert.ok(!cs.some((c) => c.from === c.to), 'traffic inside a zone is not a conduit');
});

test("a person's renames, merges, splits and assignments survive a new suggestion", () => {
  const { assets, comms } = plant();
  let s = reconcileZones(emptyZoneState(), suggestZones(assets, comms));
  s = renameZone(s, 'L1-line1-controllers', 'Packaging PLCs');
  s = mergeZones(s, ['L2-line2-supervisory'], 'L2-line1-supervisory');
  s = splitZone(s, 'L1-line2-controllers', 'Safety PLC', ['plc4']);
  s = assignAssets(s, 'Packaging PLCs', ['ews']);
  const again = reconcileZones(s, suggestZones(assets, comms));
  assert.equal(zoneOf(again, 'plc1'), 'Packaging PLCs');
  assert.equal(zoneOf(again, 'ews'), 'Packaging PLCs', 'a pinned asset stays');
  assert.equal(zoneOf(again, 'hmi2'), 'L2-line1-supervisory', 'a merged zone stays merged');
  assert.equal(zoneOf(again, 'plc4'), 'Safety PLC');
  assert.equal(zoneOf(again, 'plc3'), 'L1-line2-controllers');
  assert.ok(!again.zones.some((z) => z.name === 'L2-line2-supervisory'));
  // A new PLC on line 1 lands in the renamed zone.
  const { assets: more, comms: mc } = plant();
  more.push(testAsset('plc5', { ips: ['10.0.1.15'], names: [{ name: 'line1-plc5', source: 'dhcp' }] }));
  mc.push(testComm('hmi1', 'plc5', 'modbus', { 'modbus.read_coils': ['read', 50] }));
  classifyAssets(more, mc);
  const third = reconcileZones(again, suggestZones(more, mc));
  assert.equal(zoneOf(third, 'plc5'), 'Packaging PLCs');
  // Released, an asset goes back to the suggestion.
  const released = reconcileZones(releaseAssets(third, ['ews']), suggestZones(more, mc));
  assert.match(zoneOf(released, 'ews'), /^L2-/);
});

test('zone edits refuse what makes no sense, with the reason', () => {
  const { assets, comms } = plant();
  const s = reconcileZones(emptyZoneState(), suggestZones(assets, comms));
  assert.throws(
    () => renameZone(s, 'nope', 'x'),
    (e: ZoneError) => e.code === 'zone.not_found' && /zones: /.test(e.message),
  );
  assert.throws(() => renameZone(s, 'L1-line1-controllers', 'L1-line2-controllers'), /already named/);
  assert.throws(() => renameZone(s, 'L1-line1-controllers', '  '), /1–80 printable/);
  assert.throws(() => mergeZones(s, ['L1-line1-controllers'], 'L1-line1-controllers'), /into itself/);
  assert.throws(() => splitZone(s, 'L1-line1-controllers', 'x', ['plc3']), /not in zone/);
  assert.throws(() => splitZone(s, 'L1-line1-controllers', 'x', []), /at least one asset/);
  assert.throws(() => renameZone(emptyZoneState(), 'a', 'b'), /run plantguard analyze --db first/);
});
