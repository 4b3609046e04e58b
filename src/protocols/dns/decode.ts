// DNS messages (RFC 1035 §4.1), the format mDNS (RFC 6762 §18) and LLMNR (RFC 4795 §2.1) share:
// header, questions, and answer/authority/additional records with A, AAAA, PTR, CNAME and NS data.

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { decodeWith, type Reader } from '../../core/reader.ts';
import { formatIpv4, formatIpv6, ipv4FromBytes } from '../../core/text.ts';
import { BadName, note, nameText, readNameLabels } from './name.ts';

/** Records decoded per section; past this the rest of the message is left undecoded (anomaly). */
export const MAX_DNS_RECORDS_PER_SECTION = 64;

export const DNS_TYPES = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  13: 'HINFO',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  35: 'NAPTR',
  41: 'OPT',
  43: 'DS',
  46: 'RRSIG',
  47: 'NSEC',
  48: 'DNSKEY',
  50: 'NSEC3',
  64: 'SVCB',
  65: 'HTTPS',
  251: 'IXFR',
  252: 'AXFR',
  255: 'ANY',
  257: 'CAA',
} as const satisfies Record<number, string>;

/** Mnemonic of an RR type, or `TYPE<n>` (RFC 3597 §5). */
export function dnsTypeName(type: number): string {
  return (DNS_TYPES as Readonly<Record<number, string>>)[type] ?? `TYPE${type}`;
}

export const DNS_OPCODES = ['query', 'iquery', 'status', 'unassigned', 'notify', 'update', 'dso'] as const;
export const DNS_RCODES = [
  'noerror',
  'formerr',
  'servfail',
  'nxdomain',
  'notimp',
  'refused',
  'yxdomain',
  'yxrrset',
  'nxrrset',
  'notauth',
  'notzone',
  'dsotypeni',
] as const;

export interface DnsQuestion {
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  /** Class without its top bit (usually 1, IN). */
  readonly class: number;
  /** mDNS "QU" bit: the top bit of the class (RFC 6762 §5.4). */
  readonly unicastResponse: boolean;
}

export type DnsRdata =
  | { readonly kind: 'a'; readonly address: string }
  | { readonly kind: 'aaaa'; readonly address: string }
  /** PTR, CNAME, NS: a domain name. */
  | { readonly kind: 'name'; readonly name: string }
  /** Any other type, or a known type whose data had the wrong length. */
  | { readonly kind: 'raw'; readonly length: number };

export interface DnsRecord {
  readonly name: string;
  readonly type: number;
  readonly typeName: string;
  readonly class: number;
  /** mDNS cache-flush bit: the top bit of the class (RFC 6762 §10.2). */
  readonly cacheFlush: boolean;
  readonly ttl: number;
  readonly rdlength: number;
  readonly data: DnsRdata;
}

export interface DnsMessage {
  readonly id: number;
  readonly response: boolean;
  readonly opcode: number;
  readonly opcodeName: string;
  /** Authoritative answer (DNS, mDNS); the "conflict" bit in LLMNR. */
  readonly authoritative: boolean;
  readonly truncated: boolean;
  readonly recursionDesired: boolean;
  readonly recursionAvailable: boolean;
  readonly rcode: number;
  readonly rcodeName: string;
  /** Section counts as the header states them. */
  readonly counts: {
    readonly questions: number;
    readonly answers: number;
    readonly authority: number;
    readonly additional: number;
  };
  readonly questions: readonly DnsQuestion[];
  readonly answers: readonly DnsRecord[];
  readonly authority: readonly DnsRecord[];
  readonly additional: readonly DnsRecord[];
}

const MIN_QUESTION = 5; // root name + type + class
const MIN_RECORD = 11; // root name + type + class + ttl + rdlength

function readName(r: Reader, end: number = r.end): string {
  const res = readNameLabels(r.bytes, r.pos, end);
  if (!res.ok) throw new BadName(`dns.${res.code}`, res.offset);
  r.pos = res.next;
  return nameText(res.labels);
}

function readQuestion(r: Reader): DnsQuestion {
  const name = readName(r);
  const type = r.u16();
  const cls = r.u16();
  return { name, type, typeName: dnsTypeName(type), class: cls & 0x7fff, unicastResponse: (cls & 0x8000) !== 0 };
}

function readRecord(r: Reader, anomalies: string[]): DnsRecord {
  const name = readName(r);
  const type = r.u16();
  const cls = r.u16();
  const ttl = r.u32();
  const rdlength = r.u16();
  r.need(rdlength);
  const at = r.pos;
  const end = at + rdlength;
  let data: DnsRdata = { kind: 'raw', length: rdlength };
  if (type === 1 || type === 28) {
    const want = type === 1 ? 4 : 16;
    if (rdlength !== want) note(anomalies, 'dns.bad_rdata_length');
    else if (type === 1) data = { kind: 'a', address: formatIpv4(ipv4FromBytes(r.bytes, at)) };
    else data = { kind: 'aaaa', address: formatIpv6(r.bytes, at) };
  } else if (type === 2 || type === 5 || type === 12) {
    const res = readNameLabels(r.bytes, at, end);
    if (!res.ok) throw new BadName(`dns.${res.code}`, res.offset);
    if (res.next !== end) note(anomalies, 'dns.bad_rdata_length');
    data = { kind: 'name', name: nameText(res.labels) };
  }
  r.pos = end;
  return {
    name,
    type,
    typeName: dnsTypeName(type),
    class: cls & 0x7fff,
    cacheFlush: (cls & 0x8000) !== 0,
    ttl,
    rdlength,
    data,
  };
}

/** Decodes one DNS/mDNS/LLMNR message (UDP payload; for TCP, after the 2-byte length). */
export function decodeDns(bytes: Uint8Array): Decoded<DnsMessage> {
  return decodeWith(bytes, 'dns.truncated', (r) => {
    const id = r.u16();
    const flags = r.u16();
    const qd = r.u16();
    const an = r.u16();
    const ns = r.u16();
    const ar = r.u16();
    if (qd * MIN_QUESTION + (an + ns + ar) * MIN_RECORD > r.remaining) return malformed('dns.bad_count', 4);
    const anomalies: string[] = [];
    const opcode = (flags >> 11) & 0xf;
    const rcode = flags & 0xf;
    if (opcode >= DNS_OPCODES.length || opcode === 3) anomalies.push('dns.unknown_opcode');
    const questions: DnsQuestion[] = [];
    const sections: [DnsRecord[], DnsRecord[], DnsRecord[]] = [[], [], []];
    let stopped = false;
    try {
      for (let i = 0; i < qd; i++) {
        if (i === MAX_DNS_RECORDS_PER_SECTION) {
          stopped = true;
          break;
        }
        questions.push(readQuestion(r));
      }
      const counts = [an, ns, ar] as const;
      for (let s = 0; s < 3 && !stopped; s++) {
        for (let i = 0; i < counts[s]!; i++) {
          if (i === MAX_DNS_RECORDS_PER_SECTION) {
            stopped = true;
            break;
          }
          sections[s]!.push(readRecord(r, anomalies));
        }
      }
    } catch (e) {
      if (e instanceof BadName) return malformed(e.code, e.offset);
      throw e;
    }
    if (stopped) anomalies.push('dns.too_many_records');
    else if (r.remaining > 0) anomalies.push('dns.trailing_bytes');
    return ok(
      {
        id,
        response: (flags & 0x8000) !== 0,
        opcode,
        opcodeName: DNS_OPCODES[opcode] ?? 'unassigned',
        authoritative: (flags & 0x0400) !== 0,
        truncated: (flags & 0x0200) !== 0,
        recursionDesired: (flags & 0x0100) !== 0,
        recursionAvailable: (flags & 0x0080) !== 0,
        rcode,
        rcodeName: DNS_RCODES[rcode] ?? 'unassigned',
        counts: { questions: qd, answers: an, authority: ns, additional: ar },
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
