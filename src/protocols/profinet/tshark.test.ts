// Differential test: our Profinet decoding (frame ids, DCP header and blocks, cyclic APDU status,
// alarm RTA header, PTCP sequence ids), the per-PDU codes and the identity facts of the analyzer,
// against tshark on every capture of ../shared/pcaps/profinet. The reference is checked in
// (testdata/), so this runs where tshark is absent; PLANTGUARD_UPDATE_GOLDEN=1 regenerates it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeProfinetFrame, type ProfinetFrame } from './decode.ts';
import { ProfinetAnalyzer } from './index.ts';
import { Ctx, fromHex } from './test-support.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REFERENCE = join(HERE, 'testdata', 'tshark-reference.json');
const PCAPS = join(HERE, '..', '..', '..', '..', 'shared', 'pcaps', 'profinet');
const ETHERTYPE = 0x8892;
const FIELDS = [
  'pn_rt.frame_id',
  'pn_rt.cycle_counter',
  'pn_rt.ds',
  'pn_rt.transfer_status',
  'pn_dcp.service_id',
  'pn_dcp.service_type',
  'pn_dcp.xid',
  'pn_dcp.response_delay',
  'pn_dcp.data_length',
  'pn_dcp.suboption_device_nameofstation',
  'pn_dcp.suboption_device_devicevendorvalue',
  'pn_dcp.suboption_vendor_id',
  'pn_dcp.suboption_device_id',
  'pn_dcp.suboption_device_role',
  'pn_dcp.suboption_ip_ip',
  'pn_dcp.suboption_ip_subnetmask',
  'pn_dcp.suboption_ip_standard_gateway',
  'pn_dcp.block_error',
  'pn_io.alarm_dst_endpoint',
  'pn_io.alarm_src_endpoint',
  'pn_io.pdu_type.type',
  'pn_io.send_seq_num',
  'pn_io.ack_seq_num',
  'pn_io.var_part_len',
  'pn_io.error_code',
  'pn_io.error_decode',
  'pn_io.error_code1',
  'pn_io.error_code2',
  'pn_ptcp.sequence_id',
] as const;

interface Row {
  /** capture file and frame number */
  readonly at: string;
  readonly src: string;
  readonly dst: string;
  /** Payload after the ethertype (VLAN tags removed), hex. */
  readonly payload: string;
  readonly tshark: Record<string, string>;
}

const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100]);

/** Frames of one capture with the ethertype, as tshark sees them (two passes: raw bytes, then fields). */
function tsharkFrames(file: string): Row[] {
  const display = `eth.type == 0x${ETHERTYPE.toString(16)} || vlan.etype == 0x${ETHERTYPE.toString(16)}`;
  const raw = spawnSync('tshark', ['-r', join(PCAPS, file), '-Y', display, '-T', 'json', '-x', '-J', 'frame'], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  assert.equal(raw.status, 0, raw.stderr);
  const bytes = new Map<string, string>();
  for (const p of JSON.parse(raw.stdout) as Array<{ _source: { layers: Record<string, unknown> } }>) {
    const layers = p._source.layers;
    bytes.set((layers.frame as Record<string, string>)['frame.number']!, (layers.frame_raw as [string])[0]);
  }
  const r = spawnSync(
    'tshark',
    [
      ...['-r', join(PCAPS, file), '-Y', display, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|'],
      ...['-e', 'frame.number', ...FIELDS.flatMap((f) => ['-e', f])],
    ],
    { encoding: 'utf8', maxBuffer: 256 << 20 },
  );
  assert.equal(r.status, 0, r.stderr);
  const rows: Row[] = [];
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [frame, ...values] = line.split('\t');
    const whole = bytes.get(frame!);
    if (whole === undefined) continue;
    const b = fromHex(whole);
    let off = 12;
    while (VLAN_TPIDS.has((b[off]! << 8) | b[off + 1]!) && off + 6 <= b.length) off += 4;
    const tshark: Record<string, string> = {};
    FIELDS.forEach((f, i) => {
      if (values[i]) tshark[f] = values[i];
    });
    rows.push({ at: `${file}#${frame}`, src: mac(b, 6), dst: mac(b, 0), payload: whole.slice(2 * (off + 2)), tshark });
  }
  return rows;
}

function mac(b: Uint8Array, off: number): string {
  return Array.from(b.subarray(off, off + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

function generate(): Row[] {
  const files = readdirSync(PCAPS)
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .sort();
  return files.flatMap(tsharkFrames);
}

const h2 = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;
const h4 = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;
const h8 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/** Our fields under tshark's names, for one frame. */
function ours(f: ProfinetFrame): Record<string, string> {
  const o: Record<string, number | string> = { 'pn_rt.frame_id': f.frameId };
  switch (f.kind) {
    case 'cyclic':
      o['pn_rt.cycle_counter'] = f.cycleCounter;
      o['pn_rt.ds'] = h2(f.dataStatus);
      o['pn_rt.transfer_status'] = f.transferStatus;
      break;
    case 'dcp': {
      const p = f.dcp;
      o['pn_dcp.service_id'] = p.serviceId;
      o['pn_dcp.service_type'] = p.serviceType;
      o['pn_dcp.xid'] = h8(p.xid);
      if (p.responseDelay >= 0) o['pn_dcp.response_delay'] = p.responseDelay;
      o['pn_dcp.data_length'] = p.dataLength;
      const names: string[] = [];
      const types: string[] = [];
      const vendors: string[] = [];
      const devices: string[] = [];
      const roles: string[] = [];
      const ips: string[][] = [[], [], []];
      const errors: string[] = [];
      for (const b of p.blocks) {
        const v = b.value;
        if (v.kind === 'text' && b.option === 2 && b.suboption === 2) names.push(v.text);
        if (v.kind === 'text' && b.option === 2 && b.suboption === 1) types.push(v.text);
        if (v.kind === 'device_id' && b.suboption === 3) {
          vendors.push(h4(v.vendorId));
          devices.push(h4(v.deviceId));
        }
        if (v.kind === 'device_role') roles.push(h2(v.role));
        if (v.kind === 'ip') {
          ips[0]!.push(v.ip);
          ips[1]!.push(v.netmask);
          ips[2]!.push(v.gateway);
        }
        if (v.kind === 'response') errors.push(String(v.error));
      }
      const put = (k: string, xs: string[]): void => {
        if (xs.length > 0) o[k] = xs.join('|');
      };
      put('pn_dcp.suboption_device_nameofstation', names);
      put('pn_dcp.suboption_device_devicevendorvalue', types);
      put('pn_dcp.suboption_vendor_id', vendors);
      put('pn_dcp.suboption_device_id', devices);
      put('pn_dcp.suboption_device_role', roles);
      put('pn_dcp.suboption_ip_ip', ips[0]!);
      put('pn_dcp.suboption_ip_subnetmask', ips[1]!);
      put('pn_dcp.suboption_ip_standard_gateway', ips[2]!);
      put('pn_dcp.block_error', errors);
      break;
    }
    case 'alarm': {
      const a = f.rta;
      o['pn_io.alarm_dst_endpoint'] = h4(a.dstEndpoint);
      o['pn_io.alarm_src_endpoint'] = h4(a.srcEndpoint);
      o['pn_io.pdu_type.type'] = h2(a.pduType);
      o['pn_io.send_seq_num'] = h4(a.sendSeqNum);
      o['pn_io.ack_seq_num'] = h4(a.ackSeqNum);
      o['pn_io.var_part_len'] = h4(a.varPartLength);
      if (a.pnioStatus !== undefined) {
        o['pn_io.error_code'] = h2(a.pnioStatus >>> 24);
        o['pn_io.error_decode'] = h2((a.pnioStatus >>> 16) & 0xff);
        o['pn_io.error_code1'] = (a.pnioStatus >>> 8) & 0xff;
        o['pn_io.error_code2'] = a.pnioStatus & 0xff;
      }
      break;
    }
    case 'ptcp':
      if (f.sequenceId !== undefined) o['pn_ptcp.sequence_id'] = f.sequenceId;
      break;
    case 'fragment':
    case 'reserved':
      break;
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
}

function loadReference(): Row[] | null {
  const update = process.env.PLANTGUARD_UPDATE_GOLDEN === '1';
  const canGenerate = spawnSync('tshark', ['-v']).status === 0 && existsSync(PCAPS);
  if (update && canGenerate) {
    const rows = generate();
    mkdirSync(dirname(REFERENCE), { recursive: true });
    writeFileSync(REFERENCE, `${JSON.stringify(rows, null, 2)}\n`); // prettier-stable
    return rows;
  }
  return existsSync(REFERENCE) ? (JSON.parse(readFileSync(REFERENCE, 'utf8')) as Row[]) : null;
}

/** Disagreements with tshark that are tshark's, by frame; none so far. */
const EXPLAINED: Readonly<Record<string, string>> = {};

test('Profinet frames, PDU codes and identity agree with tshark on real captures', (t) => {
  if (!existsSync(PCAPS) && !existsSync(REFERENCE)) {
    t.skip(`no captures at ${PCAPS} and no checked-in reference`);
    return;
  }
  const rows = loadReference();
  if (rows === null) {
    t.skip('no tshark reference (run with PLANTGUARD_UPDATE_GOLDEN=1 where tshark is installed)');
    return;
  }
  const analyzers = new Map<string, { a: ProfinetAnalyzer; ctx: Ctx }>();
  let pdus = 0;
  let agreeing = 0;
  let fields = 0;
  let identities = 0;
  const kinds = new Map<string, number>();
  const disagreements: string[] = [];
  for (const row of rows) {
    const bytes = fromHex(row.payload);
    const d = decodeProfinetFrame(bytes);
    pdus++;
    const problems: string[] = [];
    if (d.kind !== 'ok') problems.push(`not decoded: ${JSON.stringify(d)}`);
    else {
      kinds.set(d.value.kind, (kinds.get(d.value.kind) ?? 0) + 1);
      const mine = ours(d.value);
      for (const [field, theirs] of Object.entries(row.tshark)) {
        const v = mine[field];
        if (v === undefined) problems.push(`${field}: tshark ${theirs}, ours absent`);
        else if (v !== theirs) problems.push(`${field}: tshark ${theirs}, ours ${v}`);
        else fields++;
      }
      for (const field of Object.keys(mine)) {
        if (!(field in row.tshark)) problems.push(`${field}: ours ${mine[field]}, tshark absent`);
      }
    }
    // The analyzer, one per (source, destination) as in the pipeline: exactly one PDU code per
    // frame, the DCP service id or else the frame id.
    const key = `${row.src}>${row.dst}`;
    let s = analyzers.get(key);
    if (s === undefined) {
      const ctx = new Ctx();
      s = { a: new ProfinetAnalyzer(ctx), ctx };
      analyzers.set(key, s);
    }
    const before = s.ctx.events.length;
    s.a.data(0, bytes, pdus);
    const added = s.ctx.events.slice(before);
    const codes = added.flatMap((e) => (e.t === 'pdu' ? [e.code] : []));
    const expected = Number(row.tshark['pn_dcp.service_id'] ?? row.tshark['pn_rt.frame_id']);
    if (codes.length !== 1 || codes[0] !== expected) problems.push(`pdu codes ${codes.join(',')} != ${expected}`);
    // Identity of an Identify response: the sender's name, type of station, vendor/device id and IP.
    if (row.tshark['pn_dcp.service_id'] === '5' && row.tshark['pn_dcp.service_type'] === '1') {
      const fact = s.ctx.facts().findLast((f) => f.kind === 'identity');
      const want = {
        name: row.tshark['pn_dcp.suboption_device_nameofstation'],
        product: row.tshark['pn_dcp.suboption_device_devicevendorvalue'],
        productCode: `${row.tshark['pn_dcp.suboption_vendor_id']}/${row.tshark['pn_dcp.suboption_device_id']}`,
        ip: row.tshark['pn_dcp.suboption_ip_ip'],
      };
      const got =
        fact?.kind === 'identity'
          ? {
              name: fact.extra?.nameOfStation,
              product: fact.product,
              productCode: fact.productCode,
              ip: fact.extra?.ip,
            }
          : undefined;
      if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`identity ${JSON.stringify(got)}`);
      else identities++;
    }
    if (problems.length === 0) agreeing++;
    else if (EXPLAINED[row.at] === undefined) disagreements.push(`${row.at}: ${problems.join('; ')}`);
  }
  t.diagnostic(
    `${pdus} frames, ${agreeing} agree (${((100 * agreeing) / pdus).toFixed(2)}%), ${fields} fields, ` +
      `${identities} identities; ${[...kinds].map(([k, n]) => `${k} ${n}`).join(', ')}`,
  );
  assert.deepEqual(disagreements, []);
  assert.ok(agreeing / pdus >= 0.999);
  assert.ok(pdus >= 170, `frames: ${pdus}`);
  assert.ok(identities >= 2, `identities: ${identities}`);
  for (const k of ['dcp', 'cyclic', 'alarm', 'ptcp', 'fragment']) assert.ok(kinds.has(k), `${k} frames covered`);
});
