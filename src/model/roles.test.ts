import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suggestRoles } from './roles.ts';
import type { AccessClass } from '../protocols/_core/types.ts';
import type { Asset, Communication } from './types.ts';

const T = '2024-01-01T00:00:00.000000Z';

function asset(id: string, role: Asset['role'] = 'unknown'): Asset {
  return {
    id,
    kind: 'device',
    macs: [],
    ips: [],
    vendor: null,
    names: [],
    vlans: [],
    role,
    roleEvidence: [],
    identity: [],
    protocols: { served: [], used: [] },
    firstSeen: T,
    lastSeen: T,
    packets: 0,
    bytes: 0,
  };
}

function comm(
  client: string,
  server: string,
  protocol: string,
  ops: Record<string, [AccessClass, number]>,
  confirmed = true,
): Communication {
  return {
    id: `${client}>${server}`,
    client,
    server,
    transport: 'tcp',
    port: 502,
    protocol,
    confirmed,
    vlans: [],
    flows: 1,
    packets: 0,
    bytes: 0,
    packetsToServer: 0,
    packetsToClient: 0,
    bytesToServer: 0,
    bytesToClient: 0,
    firstSeen: T,
    lastSeen: T,
    operations: Object.fromEntries(
      Object.entries(ops).map(([name, [access, count]]) => [
        name,
        { code: 1, access, count, responses: count, exceptions: 0, firstSeen: T, lastSeen: T },
      ]),
    ),
  };
}

test('servers of controller protocols are controllers, pollers HMIs, programmers engineering workstations', () => {
  const assets = [
    asset('plc'),
    asset('hmi'),
    asset('ews'),
    asset('rtu'),
    asset('scada'),
    asset('router', 'network_device'),
    asset('quiet'),
  ];
  suggestRoles(assets, [
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
  suggestRoles(assets, [comm('a', 'b', 'modbus', { 'modbus.read_coils': ['read', 100] }, false)]);
  assert.deepEqual(
    assets.map((a) => a.role),
    ['unknown', 'unknown'],
  );
});
