import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAssets, isPublicIp } from './classify.ts';
import { testAsset, testComm } from './testing.ts';
import type { AccessClass } from '../protocols/_core/types.ts';
import type { Asset, Communication } from './types.ts';

function asset(id: string, kind: Asset['kind'] = 'device', over: Partial<Asset> = {}): Asset {
  return testAsset(id, { kind, ...over });
}

function comm(
  client: string,
  server: string,
  protocol: string,
  ops: Record<string, [AccessClass, number]>,
  confirmed = true,
): Communication {
  return testComm(client, server, protocol, ops, confirmed);
}

test('servers of controller protocols are controllers, pollers HMIs, programmers engineering workstations', () => {
  const assets = [
    asset('plc'),
    asset('hmi'),
    asset('ews'),
    asset('rtu'),
    asset('scada'),
    asset('router', 'router'),
    asset('quiet'),
  ];
  classifyAssets(assets, [
    comm('hmi', 'plc', 'modbus', { 'modbus.read_holding_registers': ['read', 500] }),
    comm('ews', 'plc', 's7comm', { 's7comm.download_block': ['program', 3], 's7comm.read_var': ['read', 40] }),
    comm('scada', 'rtu', 'dnp3', { 'dnp3.read': ['read', 120] }),
    comm('router', 'plc', 'modbus', { 'modbus.read_coils': ['read', 50] }),
    comm('quiet', 'plc', 'modbus', { 'modbus.read_coils': ['read', 2] }),
  ]);
  const role = (id: string): string => assets.find((a) => a.id === id)!.role;
  assert.equal(role('plc'), 'plc');
  assert.match(assets[0]!.roleEvidence[0]!, /serves (modbus|s7comm) to \d clients/);
  assert.equal(role('hmi'), 'hmi');
  assert.equal(role('ews'), 'engineering_workstation');
  assert.match(assets[2]!.roleEvidence[0]!, /s7comm.download_block ×3/);
  assert.equal(role('rtu'), 'rtu');
  assert.equal(role('scada'), 'scada_server');
  assert.equal(role('router'), 'network_device');
  assert.equal(role('quiet'), 'unknown', 'two reads are not evidence of an HMI');
});

test('unconfirmed protocols (named by port) suggest nothing', () => {
  const assets = [asset('a'), asset('b')];
  classifyAssets(assets, [comm('a', 'b', 'modbus', { 'modbus.read_coils': ['read', 100] }, false)]);
  assert.deepEqual(
    assets.map((a) => a.role),
    ['unknown', 'unknown'],
  );
});

test('each inferred role has a confidence and a source; a person-set role wins with confidence 1', () => {
  const assets = [asset('plc'), asset('hmi')];
  const comms = [comm('hmi', 'plc', 'modbus', { 'modbus.read_holding_registers': ['read', 500] })];
  classifyAssets(assets, comms);
  assert.equal(assets[0]!.roleSource, 'inferred');
  assert.ok(assets[0]!.roleConfidence! > 0.5 && assets[0]!.roleConfidence! < 1);
  classifyAssets(assets, comms, new Map([['plc', { role: 'rtu', note: 'it is an RTU in a PLC case' }]]));
  assert.equal(assets[0]!.role, 'rtu');
  assert.equal(assets[0]!.roleSource, 'person');
  assert.equal(assets[0]!.roleConfidence, 1);
  assert.match(assets[0]!.roleEvidence[0]!, /set by a person: it is an RTU/);
  // Inference runs again on every call, but never over the choice.
  classifyAssets(assets, comms, new Map([['plc', { role: 'rtu' }]]));
  assert.equal(assets[0]!.role, 'rtu');
});

test('Purdue levels follow roles, with reasons; network devices and unknowns take their peers level', () => {
  const assets = [
    asset('plc'),
    asset('hmi'),
    asset('sw', 'device', { lldp: { capabilities: ['bridge'] } }),
    asset('mystery'),
    asset('laptop', 'device', { protocols: { served: [], used: ['http', 'dns'] } }),
  ];
  classifyAssets(assets, [
    comm('hmi', 'plc', 'modbus', { 'modbus.read_holding_registers': ['read', 500] }),
    comm('sw', 'plc', 'snmp', {}),
    comm('mystery', 'plc', 'unknown', {}),
    comm('laptop', 'web', 'http', {}),
  ]);
  const l = (id: string): unknown => assets.find((a) => a.id === id)!.level?.value;
  assert.equal(l('plc'), 1);
  assert.equal(l('hmi'), 2);
  assert.equal(l('sw'), 1, 'a switch next to a PLC is at the PLC level');
  assert.match(assets[2]!.level!.reasons[0]!, /network device; 1 of its peers is at level 1/);
  assert.equal(l('mystery'), 1);
  assert.equal(assets[4]!.role, 'it_host');
  assert.equal(l('laptop'), 4);
  assert.match(assets[0]!.level!.reasons[0]!, /role plc sits at level 1 \(basic control\)/);
});

test('criticality defaults by role, network devices in the control levels are high, a person overrides', () => {
  const assets = [asset('plc'), asset('hmi'), asset('sw', 'device', { lldp: { capabilities: ['bridge'] } })];
  const comms = [
    comm('hmi', 'plc', 'modbus', { 'modbus.read_holding_registers': ['read', 500] }),
    comm('sw', 'plc', 'snmp', {}),
  ];
  classifyAssets(assets, comms);
  assert.deepEqual(
    assets.map((a) => a.criticality?.value),
    ['high', 'medium', 'high'],
  );
  classifyAssets(assets, comms, new Map([['hmi', { criticality: 'high' }]]));
  assert.equal(assets[1]!.criticality?.value, 'high');
  assert.equal(assets[1]!.criticality?.source, 'person');
});

test('a person-set level wins; a chosen role moves the inferred level with it', () => {
  const assets = [asset('plc'), asset('hmi')];
  const comms = [comm('hmi', 'plc', 'modbus', { 'modbus.read_holding_registers': ['read', 500] })];
  classifyAssets(
    assets,
    comms,
    new Map([
      ['hmi', { role: 'historian' }],
      ['plc', { level: 0 }],
    ]),
  );
  assert.equal(assets[1]!.level?.value, 3);
  assert.equal(assets[0]!.level?.value, 0);
  assert.equal(assets[0]!.level?.source, 'person');
});

test('an IT host that serves IT and reaches into control is the DMZ (3.5); internet addresses are level 5', () => {
  const assets = [
    asset('plc'),
    asset('hmi'),
    asset('jump', 'device', { protocols: { served: ['rdp'], used: ['http'] } }),
    asset('office', 'device', { protocols: { served: [], used: ['rdp', 'http'] } }),
    asset('ip:8.8.8.8', 'device', { ips: ['8.8.8.8'], protocols: { served: ['dns'], used: [] } }),
  ];
  classifyAssets(assets, [
    comm('hmi', 'plc', 'modbus', { 'modbus.read_holding_registers': ['read', 500] }),
    comm('jump', 'hmi', 'http', {}),
    comm('office', 'jump', 'rdp', {}),
    comm('office', 'web', 'http', {}),
    comm('office', 'ip:8.8.8.8', 'dns', {}),
  ]);
  assert.equal(assets[2]!.level?.value, 3.5, assets[2]!.level?.reasons.join('; '));
  assert.equal(assets[3]!.level?.value, 4);
  assert.equal(assets[4]!.level?.value, 5);
});

test('isPublicIp: private, loopback, link-local, CGNAT, multicast and documentation ranges are not public', () => {
  for (const ip of [
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '127.0.0.1',
    '169.254.1.1',
    '100.64.0.1',
    '224.0.0.1',
    '192.0.2.5',
    'fe80::1',
    'fd00::1',
    '::1',
  ])
    assert.equal(isPublicIp(ip), false, ip);
  for (const ip of ['8.8.8.8', '172.32.0.1', '208.73.217.142', '2001:4860::8888'])
    assert.equal(isPublicIp(ip), true, ip);
});

test('identity device types name roles; PROFINET IO devices are field devices at level 0', () => {
  const assets = [
    asset('cpu', 'device', {
      identity: [{ protocol: 'enip', product: '1756-L61', extra: { deviceType: 'Programmable Logic Controller' } }],
    }),
    asset('io', 'device', {
      identity: [{ protocol: 'profinet', product: 'IC200PNS001', extra: { deviceRole: 'io_device' } }],
    }),
  ];
  classifyAssets(assets, []);
  assert.equal(assets[0]!.role, 'plc');
  assert.match(assets[0]!.roleEvidence[0]!, /enip identity says "Programmable Logic Controller/);
  assert.equal(assets[1]!.level?.value, 0);
  assert.match(assets[1]!.level.reasons[0]!, /PROFINET IO device IC200PNS001/);
});
