// Negative test on real traffic: every TCP flow of non-ISO captures (Modbus, HTTP, TLS, SMB, ...),
// fed to the port-102 analyzer as if it ran on port 102, is never named or confirmed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCaptureSources } from '../../capture/open.ts';
import { decodeFrame } from '../link/decode.ts';
import { FRAME, PacketView } from '../link/packet.ts';
import { IsoTsapAnalyzer } from './index.ts';
import { RecordingContext } from './test-support.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const PCAPS = join(HERE, '..', '..', '..', '..', 'shared', 'pcaps');
const CAPTURES = [
  'modbus/zeek-modbus-and-non-modbus-on-502.pcap',
  'it/http.pcap',
  'iec61850/sample-mms-and-goose.pcap', // its non-102 flows: SMB, NetBIOS, portmap
  'enip/controllogix-logix5000-download-upload-run.pcap',
  'it/malcolm-tls.pcap',
  'it/malcolm-telnet.pcap',
];

test('real non-ISO TCP flows are neither named nor confirmed by the port-102 analyzer', async (t) => {
  if (!existsSync(PCAPS)) {
    t.skip(`no captures at ${PCAPS}`);
    return;
  }
  let flows = 0;
  for (const file of CAPTURES) {
    const [source] = await openCaptureSources([join(PCAPS, file)]);
    const byKey = new Map<string, { a: IsoTsapAnalyzer; ctx: RecordingContext }>();
    const v = new PacketView();
    for await (const b of source!.batches()) {
      for (let i = 0; i < b.count; i++) {
        decodeFrame(b.data, b.offset[i]!, b.capLen[i]!, b.linkType[i]!, v);
        if (v.status !== FRAME.ok || v.ipProto !== 6 || v.payloadLength === 0) continue;
        if (v.srcPort === 102 || v.dstPort === 102) continue;
        const toLow = v.dstPort < v.srcPort;
        const key = toLow
          ? `${v.srcIp}:${v.srcPort}>${v.dstIp}:${v.dstPort}`
          : `${v.dstIp}:${v.dstPort}>${v.srcIp}:${v.srcPort}`;
        let f = byKey.get(key);
        if (f === undefined) {
          const ctx = new RecordingContext();
          f = { a: new IsoTsapAnalyzer(ctx), ctx };
          byKey.set(key, f);
        }
        f.a.data(toLow ? 0 : 1, b.data.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength), b.tsMicros[i]!);
      }
    }
    for (const [key, f] of byKey) {
      f.a.end();
      flows++;
      const named = f.ctx.events.filter((e) => e.t === 'rename' || e.t === 'confirm' || e.t === 'op');
      assert.deepEqual(named, [], `${file} ${key}`);
    }
  }
  assert.ok(flows >= 200, `flows: ${flows}`);
  t.diagnostic(`${flows} flows`);
});
