// Differential test: our decoded Modbus fields against tshark's on the shared real captures. The
// tshark reference is checked in (testdata/), so this runs where tshark is absent;
// PLANTGUARD_UPDATE_GOLDEN=1 regenerates it when tshark and ../shared/pcaps (beside the checkout) are present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeModbusAdu, type ModbusAdu } from './decode.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const REFERENCE = join(HERE, 'testdata', 'tshark-reference.json');
const PCAPS = join(HERE, '..', '..', '..', '..', 'shared', 'pcaps', 'modbus');
/** Capture and how many Modbus packets of it to keep in the reference. */
const CAPTURES: ReadonlyArray<readonly [string, number]> = [
  ['icsnpp-modbus-example.pcap', 1000],
  ['digitalbond-modbus-test-data-part1.pcap', 1000],
  ['modbus-fc43-read-device-id-eit.pcap', 1000],
  ['zeek-modbus-and-non-modbus-on-502.pcap', 1000],
  ['plant1-modbustcp-11slaves.pcap', 120],
  ['modbus-test-polling.pcap', 60],
  ['lemay-characterization-6rtu-labeled.pcap', 60],
];
const FIELDS = [
  'mbtcp.trans_id',
  'mbtcp.unit_id',
  'modbus.func_code',
  'modbus.exception_code',
  'modbus.reference_num',
  'modbus.word_cnt',
  'modbus.bit_cnt',
  'modbus.byte_cnt',
  'modbus.and_mask',
  'modbus.or_mask',
  'modbus.read_reference_num',
  'modbus.read_word_cnt',
  'modbus.write_reference_num',
  'modbus.write_word_cnt',
  'modbus.diagnostic_code',
  'modbus.mei',
  'modbus.read_device_id',
  'modbus.object_id',
  'modbus.conformity_level',
  'modbus.more_follows',
  'modbus.num_objects',
  'modbus.object_str_value',
] as const;

interface Row {
  /** capture file and frame number */
  readonly at: string;
  readonly dir: 0 | 1;
  readonly payload: string;
  readonly tshark: Record<string, string>;
}

function generate(): Row[] {
  const rows: Row[] = [];
  for (const [file, max] of CAPTURES) {
    const r = spawnSync(
      'tshark',
      [
        '-r',
        join(PCAPS, file),
        '-Y',
        'mbtcp && tcp.len > 0',
        '-T',
        'fields',
        '-E',
        'separator=/t',
        '-E',
        'aggregator=|',
        '-e',
        'frame.number',
        '-e',
        'tcp.srcport',
        '-e',
        'tcp.payload',
        ...FIELDS.flatMap((f) => ['-e', f]),
      ],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    assert.equal(r.status, 0, r.stderr);
    for (const line of r.stdout.split('\n').filter(Boolean).slice(0, max)) {
      const [frame, sport, payload, ...values] = line.split('\t');
      const tshark: Record<string, string> = {};
      FIELDS.forEach((f, i) => {
        if (values[i]) tshark[f] = values[i];
      });
      rows.push({ at: `${file}#${frame}`, dir: sport === '502' ? 1 : 0, payload: payload!, tshark });
    }
  }
  return rows;
}

/** Our fields under tshark's names, for one ADU. */
function ours(adu: ModbusAdu): Record<string, string> {
  const o: Record<string, number | string> = {
    'mbtcp.trans_id': adu.transactionId,
    'mbtcp.unit_id': adu.unit,
    'modbus.func_code': adu.functionCode,
  };
  const bitFc = adu.functionCode === 1 || adu.functionCode === 2 || adu.functionCode === 15;
  const count = bitFc ? 'modbus.bit_cnt' : 'modbus.word_cnt';
  const p = adu.pdu;
  switch (p.kind) {
    case 'exception':
      o['modbus.exception_code'] = p.exceptionCode;
      break;
    case 'read_request':
      o['modbus.reference_num'] = p.address;
      o[count] = p.quantity;
      break;
    case 'read_response':
      o['modbus.byte_cnt'] = p.byteCount;
      break;
    case 'write_single':
    case 'fifo_request':
      o['modbus.reference_num'] = p.address;
      break;
    case 'write_multiple':
      o['modbus.reference_num'] = p.address;
      o[count] = p.quantity;
      o['modbus.byte_cnt'] = p.byteCount;
      break;
    case 'write_multiple_response':
      o['modbus.reference_num'] = p.address;
      o[count] = p.quantity;
      break;
    case 'mask_write':
      o['modbus.reference_num'] = p.address;
      o['modbus.and_mask'] = `0x${p.andMask.toString(16).padStart(4, '0')}`;
      o['modbus.or_mask'] = `0x${p.orMask.toString(16).padStart(4, '0')}`;
      break;
    case 'read_write_request':
      o['modbus.read_reference_num'] = p.readAddress;
      o['modbus.read_word_cnt'] = p.readQuantity;
      o['modbus.write_reference_num'] = p.writeAddress;
      o['modbus.write_word_cnt'] = p.writeQuantity;
      o['modbus.byte_cnt'] = p.byteCount;
      break;
    case 'diagnostics':
      o['modbus.diagnostic_code'] = p.subFunction;
      break;
    case 'device_id_request':
      o['modbus.mei'] = 14;
      o['modbus.read_device_id'] = p.readDeviceIdCode;
      o['modbus.object_id'] = p.objectId;
      break;
    case 'device_id_response':
      o['modbus.mei'] = 14;
      o['modbus.read_device_id'] = p.readDeviceIdCode;
      o['modbus.conformity_level'] = `0x${p.conformityLevel.toString(16).padStart(2, '0')}`;
      o['modbus.more_follows'] = `0x${p.moreFollows.toString(16).padStart(2, '0')}`;
      o['modbus.num_objects'] = p.objectCount;
      if (p.objects.length > 0) o['modbus.object_str_value'] = p.objects.map((x) => x.value).join('|');
      break;
    case 'empty':
    case 'exception_status':
    case 'comm_event_counter':
    case 'comm_event_log':
    case 'server_id':
    case 'file_record_read':
    case 'file_record_read_response':
    case 'file_record_write':
    case 'fifo_response':
    case 'mei':
    case 'raw':
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

test('decoded fields agree with tshark on real captures', (t) => {
  const rows = loadReference();
  if (rows === null) {
    t.skip('no tshark reference (run with PLANTGUARD_UPDATE_GOLDEN=1 where tshark is installed)');
    return;
  }
  let compared = 0;
  let adus = 0;
  const seenCodes = new Set<number>();
  for (const row of rows) {
    const bytes = Uint8Array.from(row.payload.match(/../g) ?? [], (h) => parseInt(h, 16));
    // Decode every ADU in the segment; segments holding partial ADUs are left to the framer tests.
    const decoded: ModbusAdu[] = [];
    let off = 0;
    while (off < bytes.length) {
      const d = decodeModbusAdu(bytes.subarray(off), row.dir);
      if (d.kind !== 'ok') break;
      decoded.push(d.value);
      off += d.consumed;
    }
    if (off !== bytes.length || decoded.length === 0) continue;
    adus += decoded.length;
    // tshark joins the values of several ADUs with '|'; compare only fields both sides report
    // for every ADU of the segment.
    const mine = decoded.map(ours);
    for (const [field, theirs] of Object.entries(row.tshark)) {
      if (!mine.every((m) => field in m)) continue;
      assert.equal(mine.map((m) => m[field]).join('|'), theirs, `${row.at} ${field}`);
      compared++;
    }
    for (const a of decoded) seenCodes.add(a.functionCode);
  }
  t.diagnostic(`${adus} ADUs, ${compared} fields compared`);
  assert.ok(adus >= 350, `ADUs decoded: ${adus}`);
  assert.ok(compared >= 1500, `fields compared: ${compared}`);
  for (const code of [1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 20, 21, 22, 23, 24, 43]) {
    assert.ok(seenCodes.has(code), `function ${code} covered`);
  }
});
