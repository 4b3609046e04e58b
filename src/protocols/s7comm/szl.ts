// System status lists (SZL) in Read SZL responses, and the device identity in SZL 0x0011 (module
// identification) and 0x001C (component identification); record layouts from the Siemens "System
// Software for S7-300/400, System and Standard Functions" manual, chapter 34 (SSL-IDs W#16#xy11, xy1C).

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { decodeWith } from '../../core/reader.ts';
import { printable } from '../../core/text.ts';

export interface SzlResponse {
  readonly szlId: number;
  readonly index: number;
  /** Length of one record in bytes. */
  readonly recordLength: number;
  /** Records announced. */
  readonly recordCount: number;
  /** Whole records present in this PDU (a long list continues in follow-up PDUs). */
  readonly records: readonly Uint8Array[];
}

/** Records read from one PDU (lists are at most a few dozen records). */
const MAX_RECORDS = 64;

/** A Read SZL response payload: SZL id, index, record length, record count, records. */
export function decodeSzlResponse(payload: Uint8Array): Decoded<SzlResponse> {
  return decodeWith(payload, 's7comm.bad_szl', (r) => {
    const szlId = r.u16();
    const index = r.u16();
    const recordLength = r.u16();
    const recordCount = r.u16();
    if (recordLength === 0 && recordCount > 0) return malformed('s7comm.bad_szl', 4);
    const records: Uint8Array[] = [];
    const n = Math.min(recordCount, MAX_RECORDS);
    for (let i = 0; i < n && r.remaining >= recordLength && recordLength > 0; i++) records.push(r.take(recordLength));
    return ok({ szlId, index, recordLength, recordCount, records }, r.pos);
  });
}

/** Identity fields found in SZL records (undefined when absent or blank). */
export interface SzlIdentity {
  productCode?: string;
  firmware?: string;
  serial?: string;
  model?: string;
  vendor?: string;
  extra?: Record<string, string>;
}

const text = (b: Uint8Array): string => printable(b, 64).replace(/\.+$/, '').trim();

/** Identity from a 0x0011 / 0x001C list (any partial-list extract, e.g. 0x0111); null otherwise. */
export function szlIdentity(szl: SzlResponse): SzlIdentity | null {
  const list = szl.szlId & 0xff;
  if (list !== 0x11 && list !== 0x1c) return null;
  const id: SzlIdentity = {};
  const extra: Record<string, string> = {};
  let hardware = '';
  for (const rec of szl.records) {
    if (rec.length < 2) continue;
    const index = (rec[0]! << 8) | rec[1]!;
    if (list === 0x11) {
      // Index (2), MLFB (20), BGTyp (2), Ausbg (2), Ausbe (2).
      if (rec.length < 28) continue;
      const mlfb = text(rec.subarray(2, 22));
      const ausbg = (rec[24]! << 8) | rec[25]!;
      const ausbe = (rec[26]! << 8) | rec[27]!;
      if (index === 0x0001 && mlfb !== '') id.productCode = mlfb;
      else if (index === 0x0006 && mlfb !== '') hardware = mlfb;
      else if (index === 0x0007 && ausbg >> 8 === 0x56) {
        // Firmware version: 'V', major in Ausbg; minor and patch in Ausbe.
        id.firmware = `V${ausbg & 0xff}.${ausbe >> 8}.${ausbe & 0xff}`;
      }
      continue;
    }
    const value = text(rec.subarray(2));
    if (value === '') continue;
    switch (index) {
      case 0x0001:
        extra.systemName = text(rec.subarray(2, 26));
        break;
      case 0x0002:
        extra.moduleName = text(rec.subarray(2, 26));
        break;
      case 0x0003:
        extra.plantDesignation = value;
        break;
      case 0x0004:
        if (/siemens/i.test(value)) id.vendor = 'Siemens';
        break;
      case 0x0005:
        id.serial = text(rec.subarray(2, 26));
        break;
      case 0x0007:
        id.model = value;
        break;
      case 0x0008:
        extra.memoryCardSerial = value;
        break;
      case 0x000b:
        extra.locationDesignation = value;
        break;
      default:
        break;
    }
  }
  if (id.productCode === undefined && hardware !== '') id.productCode = hardware;
  if (id.productCode?.startsWith('6ES7') === true) id.vendor = 'Siemens';
  for (const k of Object.keys(extra)) if (extra[k] === '') delete extra[k];
  if (Object.keys(extra).length > 0) id.extra = extra;
  return Object.keys(id).length > 0 ? id : null;
}
