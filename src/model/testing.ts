// Small builders of assets and communications for the intel tests.

import type { AccessClass } from '../protocols/_core/types.ts';
import type { Asset, Communication } from './types.ts';

const T = '2024-01-01T00:00:00.000000Z';

export function testAsset(id: string, over: Partial<Asset> = {}): Asset {
  return {
    id,
    kind: 'device',
    macs: [],
    ips: [],
    vendor: null,
    names: [],
    vlans: [],
    role: 'unknown',
    roleEvidence: [],
    identity: [],
    protocols: { served: [], used: [] },
    firstSeen: T,
    lastSeen: T,
    packets: 0,
    bytes: 0,
    ...over,
  };
}

export function testComm(
  client: string,
  server: string,
  protocol: string,
  ops: Record<string, [AccessClass, number]> = {},
  confirmed = true,
): Communication {
  return {
    id: `${client}>${server}/tcp/0/${protocol}`,
    client,
    server,
    transport: 'tcp',
    port: 0,
    protocol,
    confirmed,
    vlans: [],
    flows: 1,
    packets: 10,
    bytes: 1000,
    packetsToServer: 5,
    packetsToClient: 5,
    bytesToServer: 500,
    bytesToClient: 500,
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
