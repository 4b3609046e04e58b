// Golden traces: real captures in, canonical JSON out, diffed with checked-in baselines.
// `npm run test:update` (PLANTGUARD_UPDATE_GOLDEN=1) rewrites the baselines for review.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeCaptures } from '../src/pipeline/analyze.ts';
import { canonical } from './helpers/canonical.ts';
import { NO_SHARED, REPO, sharedPcap } from './helpers/shared.ts';

const UPDATE = process.env.PLANTGUARD_UPDATE_GOLDEN === '1';

export const GOLDEN_CAPTURES = [
  'modbus/digitalbond-modbus-test-data-part1.pcap',
  'modbus/icsnpp-modbus-example.pcap',
  'modbus/modbus-fc43-read-device-id-eit.pcap',
  'modbus/modbus-test-polling.pcap',
  'modbus/plant1-modbustcp-11slaves.pcap',
  'modbus/zeek-modbus-and-non-modbus-on-502.pcap',
  'modbus/zeek-modbus-big.pcap',
  'modbus/lemay-characterization-6rtu-labeled.pcap',
  'it/malcolm-dhcp.pcap',
  'it/zeek-lldp.pcap',
  'it/lldp-siemens.pcapng',
  'profinet/profinet-mixed-dcp-rt-lldp.pcap',
  'mixed/mergecap-multi-protocol-per-packet-linktype.pcapng',
  's7comm/icsnpp-s7comm-plus.pcap',
  'enip/enip-list-identity.pcap',
  'dnp3/dnp3-full-exchange.pcap',
  'dnp3/dnp3-select-operate.pcap',
  'iec104/iec104-baselines.pcap',
  's7comm/step7-s300-stop-cpu.pcap',
  's7comm/icsnpp-s7ident-szl.pcap',
  's7comm/tia-s300-download-ob1.pcap',
  'enip/cip-stop-plc.pcap',
  'enip/icsnpp-enip-cip-example.pcap',
  'bacnet/bacnet-services.pcap',
  'opcua/open62541-read-service-test-data.pcap',
  'mqtt/zeek-mqtt.pcap',
  'iec61850/sample-mms-and-goose.pcap',
  'iec61850/mms-identify-getnamelist.pcap',
  'profinet/profinet-dcp-change-ip.pcap',
];

function goldenPath(rel: string): string {
  return join(REPO, 'test', 'golden', `${rel.replace(/\//g, '__').replace(/\.(pcapng|pcap)$/, '')}.json`);
}

async function check(name: string, inputs: string[], golden: string): Promise<void> {
  const doc = canonical(await analyzeCaptures(inputs));
  const text = JSON.stringify(doc, null, 1) + '\n';
  if (UPDATE || !existsSync(golden)) {
    writeFileSync(golden, text);
    if (!UPDATE) assert.fail(`${name}: no golden file yet; wrote ${golden} — review it and commit`);
    return;
  }
  const want = JSON.parse(readFileSync(golden, 'utf8')) as unknown;
  assert.deepEqual(JSON.parse(text), want, `${name}: output differs from ${golden} (npm run test:update rewrites it)`);
}

test('golden: bundled demo capture', async () => {
  await check('demo', [join(REPO, 'demo', 'plant-demo.pcap.gz')], join(REPO, 'test', 'golden', 'demo.json'));
});

for (const rel of GOLDEN_CAPTURES) {
  test(`golden: ${rel}`, { skip: NO_SHARED }, async () => {
    await check(rel, [sharedPcap(rel)], goldenPath(rel));
  });
}
