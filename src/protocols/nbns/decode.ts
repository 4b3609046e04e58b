// NetBIOS Name Service messages (RFC 1002 §4.2): DNS-like header and sections, names in first-level
// encoding (RFC 1001 §14.1), NB address records (§4.2.2.2, NB_FLAGS) and node status (§4.2.18).

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { decodeWith, type Reader } from '../../core/reader.ts';
import { formatIpv4, ipv4FromBytes, macFromBytes, printable } from '../../core/text.ts';
import { BadName, note, nameText, readNameLabels } from '../dns/name.ts';

/** Records decoded per section; past this the rest of the message is left undecoded (anomaly). */
export const MAX_NBNS_RECORDS_PER_SECTION = 64;
/** Addresses kept per NB record, names kept per node status record. */
export const MAX_NBNS_ADDRESSES = 32;
export const MAX_NBNS_NODE_NAMES = 64;

export const NBNS_OPCODES: Readonly<Record<number, string>> = {
  0: 'query',
  5: 'registration',
  6: 'release',
  7: 'wack',
  8: 'refresh',
  // Windows uses 9 for refresh and 15 for multi-homed registration.
  9: 'refresh',
  15: 'multihomed_registration',
};

export const NBNS_TYPES: Readonly<Record<number, string>> = { 1: 'A', 2: 'NS', 10: 'NULL', 32: 'NB', 33: 'NBSTAT' };

/** Owner node types from NB_FLAGS (§4.2.1.3). */
export const NBNS_NODE_TYPES = ['b', 'p', 'm', 'h'] as const;

export interface NetbiosName {
  /** Up to 15 characters, trailing spaces removed ("*" for the wildcard). */
  readonly name: string;
  /** The 16th byte: 0x00 workstation, 0x20 server, 0x1c domain controllers, ... */
  readonly suffix: number;
  /** NetBIOS scope, as dotted labels; '' when none. */
  readonly scope: string;
}

export interface NbnsAddress {
  readonly ip: string;
  /** G bit: a group name, shared by many hosts. */
  readonly group: boolean;
  readonly nodeType: (typeof NBNS_NODE_TYPES)[number];
}

export interface NbnsNodeName {
  readonly name: string;
  readonly suffix: number;
  readonly group: boolean;
  /** NAME_FLAGS as sent (group, node type, deregistering, conflict, active, permanent). */
  readonly flags: number;
}

export type NbnsRdata =
  | { readonly kind: 'nb'; readonly addresses: readonly NbnsAddress[] }
  /** Node status response: the host's name table and its unit id (usually its MAC). */
  | { readonly kind: 'nbstat'; readonly names: readonly NbnsNodeName[]; readonly unitId?: number }
  | { readonly kind: 'raw'; readonly length: number };

export interface NbnsQuestion {
  readonly name: NetbiosName;
  readonly type: number;
  readonly typeName: string;
  readonly class: number;
}

export interface NbnsRecord {
  readonly name: NetbiosName;
  readonly type: number;
  readonly typeName: string;
  readonly class: number;
  readonly ttl: number;
  readonly rdlength: number;
  readonly data: NbnsRdata;
}

export interface NbnsMessage {
  readonly id: number;
  readonly response: boolean;
  readonly opcode: number;
  readonly opcodeName: string;
  readonly authoritative: boolean;
  readonly truncated: boolean;
  readonly recursionDesired: boolean;
  readonly recursionAvailable: boolean;
  readonly broadcast: boolean;
  readonly rcode: number;
  readonly questions: readonly NbnsQuestion[];
  readonly answers: readonly NbnsRecord[];
  readonly authority: readonly NbnsRecord[];
  readonly additional: readonly NbnsRecord[];
}

const MIN_QUESTION = 1 + 32 + 1 + 4; // encoded name + type + class
const MIN_RECORD = 2 + 10; // compressed name + type, class, ttl, rdlength

/** The 16 bytes of a first-level encoded label (two letters 'A'..'P' per byte), or undefined. */
export function decodeNetbiosLabel(label: Uint8Array): Uint8Array | undefined {
  if (label.length !== 32) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const hi = label[2 * i]! - 0x41;
    const lo = label[2 * i + 1]! - 0x41;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** 15 name bytes as text: NUL padding dropped, trailing spaces trimmed, others made printable. */
function nameBytesText(b: Uint8Array): string {
  return printable(b, 15).replace(/ +$/, '');
}

function readNetbiosName(r: Reader): NetbiosName {
  const res = readNameLabels(r.bytes, r.pos, r.end);
  if (!res.ok) throw new BadName(`nbns.${res.code}`, res.offset);
  const raw = res.labels[0] ? decodeNetbiosLabel(res.labels[0]) : undefined;
  if (!raw) throw new BadName('nbns.bad_name', r.pos);
  r.pos = res.next;
  return {
    name: nameBytesText(raw.subarray(0, 15)),
    suffix: raw[15]!,
    scope: res.labels.length > 1 ? nameText(res.labels.slice(1)) : '',
  };
}

function readNb(v: Uint8Array, anomalies: string[]): NbnsRdata {
  if (v.length % 6 !== 0) note(anomalies, 'nbns.bad_rdata_length');
  const addresses: NbnsAddress[] = [];
  for (let i = 0; i + 6 <= v.length && addresses.length < MAX_NBNS_ADDRESSES; i += 6) {
    const flags = (v[i]! << 8) | v[i + 1]!;
    addresses.push({
      ip: formatIpv4(ipv4FromBytes(v, i + 2)),
      group: (flags & 0x8000) !== 0,
      nodeType: NBNS_NODE_TYPES[(flags >> 13) & 3]!,
    });
  }
  return { kind: 'nb', addresses };
}

function readNbstat(v: Uint8Array, anomalies: string[]): NbnsRdata {
  const count = v[0] ?? 0;
  if (v.length < 1 + count * 18) {
    note(anomalies, 'nbns.bad_rdata_length');
    return { kind: 'raw', length: v.length };
  }
  const names: NbnsNodeName[] = [];
  for (let i = 0; i < Math.min(count, MAX_NBNS_NODE_NAMES); i++) {
    const at = 1 + i * 18;
    const flags = (v[at + 16]! << 8) | v[at + 17]!;
    names.push({
      name: nameBytesText(v.subarray(at, at + 15)),
      suffix: v[at + 15]!,
      group: (flags & 0x8000) !== 0,
      flags,
    });
  }
  const stats = 1 + count * 18;
  return stats + 6 <= v.length ? { kind: 'nbstat', names, unitId: macFromBytes(v, stats) } : { kind: 'nbstat', names };
}

function readRecord(r: Reader, anomalies: string[]): NbnsRecord {
  const name = readNetbiosName(r);
  const type = r.u16();
  const cls = r.u16();
  const ttl = r.u32();
  const rdlength = r.u16();
  const v = r.take(rdlength);
  let data: NbnsRdata = { kind: 'raw', length: rdlength };
  if (type === 32) data = readNb(v, anomalies);
  else if (type === 33) data = readNbstat(v, anomalies);
  return { name, type, typeName: NBNS_TYPES[type] ?? `TYPE${type}`, class: cls, ttl, rdlength, data };
}

/** Decodes one NetBIOS Name Service message (UDP 137 payload). */
export function decodeNbns(bytes: Uint8Array): Decoded<NbnsMessage> {
  return decodeWith(bytes, 'nbns.truncated', (r) => {
    const id = r.u16();
    const flags = r.u16();
    const qd = r.u16();
    const an = r.u16();
    const ns = r.u16();
    const ar = r.u16();
    if (qd * MIN_QUESTION + (an + ns + ar) * MIN_RECORD > r.remaining) return malformed('nbns.bad_count', 4);
    const anomalies: string[] = [];
    const opcode = (flags >> 11) & 0xf;
    const opcodeName = NBNS_OPCODES[opcode];
    if (opcodeName === undefined) note(anomalies, 'nbns.unknown_opcode');
    if ((flags & 0x0060) !== 0) note(anomalies, 'nbns.reserved_flags');
    const questions: NbnsQuestion[] = [];
    const sections: [NbnsRecord[], NbnsRecord[], NbnsRecord[]] = [[], [], []];
    let stopped = false;
    try {
      for (let i = 0; i < qd && !stopped; i++) {
        if (i === MAX_NBNS_RECORDS_PER_SECTION) stopped = true;
        else {
          const name = readNetbiosName(r);
          const type = r.u16();
          questions.push({ name, type, typeName: NBNS_TYPES[type] ?? `TYPE${type}`, class: r.u16() });
        }
      }
      const counts = [an, ns, ar] as const;
      for (let s = 0; s < 3 && !stopped; s++) {
        for (let i = 0; i < counts[s]! && !stopped; i++) {
          if (i === MAX_NBNS_RECORDS_PER_SECTION) stopped = true;
          else sections[s]!.push(readRecord(r, anomalies));
        }
      }
    } catch (e) {
      if (e instanceof BadName) return malformed(e.code, e.offset);
      throw e;
    }
    if (stopped) note(anomalies, 'nbns.too_many_records');
    else if (r.remaining > 0) note(anomalies, 'nbns.trailing_bytes');
    return ok(
      {
        id,
        response: (flags & 0x8000) !== 0,
        opcode,
        opcodeName: opcodeName ?? 'unknown',
        authoritative: (flags & 0x0400) !== 0,
        truncated: (flags & 0x0200) !== 0,
        recursionDesired: (flags & 0x0100) !== 0,
        recursionAvailable: (flags & 0x0080) !== 0,
        broadcast: (flags & 0x0010) !== 0,
        rcode: flags & 0xf,
        questions,
        answers: sections[0],
        authority: sections[1],
        additional: sections[2],
      },
      r.pos,
      anomalies,
    );
  });
}
