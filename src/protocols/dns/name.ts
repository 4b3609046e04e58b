// Domain names on the wire (RFC 1035 §3.1, §4.1.4 message compression), shared by DNS, mDNS,
// LLMNR and NetBIOS Name Service. Bounded: 255 octets per name, at most 64 compression pointers.

/** Longest name on the wire, length octets included (RFC 1035 §2.3.4). */
export const MAX_NAME_OCTETS = 255;
/** Compression pointers followed per name; a loop hits this bound. */
export const MAX_NAME_POINTERS = 64;

export type NameResult =
  | { readonly ok: true; readonly labels: readonly Uint8Array[]; readonly next: number }
  | {
      readonly ok: false;
      readonly code: 'truncated' | 'bad_label_type' | 'name_too_long' | 'pointer_loop';
      readonly offset: number;
    };

/**
 * Reads the labels of the name at `start` in `msg`. Labels read in place must end before `end`
 * (the end of the record's data, say); a pointer may lead anywhere in `msg`. `next` is the offset
 * just after the name in place. Labels are zero-copy views of `msg`.
 */
export function readNameLabels(msg: Uint8Array, start: number, end: number = msg.length): NameResult {
  const labels: Uint8Array[] = [];
  let limit = Math.min(end, msg.length);
  let pos = start;
  let next = -1;
  let octets = 1;
  let pointers = 0;
  for (;;) {
    if (pos >= limit) return { ok: false, code: 'truncated', offset: pos };
    const len = msg[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      return { ok: true, labels, next };
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= limit) return { ok: false, code: 'truncated', offset: pos };
      if (next < 0) next = pos + 2;
      if (++pointers > MAX_NAME_POINTERS) return { ok: false, code: 'pointer_loop', offset: pos };
      pos = ((len & 0x3f) << 8) | msg[pos + 1]!;
      limit = msg.length;
      continue;
    }
    // 0x40 (extended label, RFC 6891 §5) and 0x80 are reserved or obsolete.
    if (kind !== 0) return { ok: false, code: 'bad_label_type', offset: pos };
    if (pos + 1 + len > limit) return { ok: false, code: 'truncated', offset: pos };
    octets += len + 1;
    if (octets > MAX_NAME_OCTETS) return { ok: false, code: 'name_too_long', offset: pos };
    labels.push(msg.subarray(pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Presentation form of one label (RFC 4343 §2.1): printable ASCII as is, '.' and '\' escaped,
 * valid UTF-8 kept (mDNS instance names are UTF-8, RFC 6763 §4.1.1), anything else as \DDD.
 */
export function labelText(label: Uint8Array): string {
  let plain = true;
  let high = false;
  for (let i = 0; i < label.length; i++) {
    const c = label[i]!;
    if (c < 0x20 || c === 0x7f || c === 0x2e || c === 0x5c) plain = false;
    else if (c >= 0x80) high = true;
  }
  if (plain && !high) return String.fromCharCode.apply(null, label as unknown as number[]);
  if (high) {
    let s: string | undefined;
    try {
      s = utf8.decode(label);
    } catch {
      s = undefined; // not UTF-8: escaped below
    }
    if (s !== undefined && !/[\u0000-\u001f\u007f-\u009f]/.test(s)) return s.replace(/[.\\]/g, (m) => `\\${m}`);
  }
  let out = '';
  for (const c of label) {
    if (c === 0x2e || c === 0x5c) out += `\\${String.fromCharCode(c)}`;
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += `\\${String(c).padStart(3, '0')}`;
  }
  return out;
}

/** Labels joined by '.', without the trailing dot; the root name is '.'. */
export function nameText(labels: readonly Uint8Array[]): string {
  if (labels.length === 0) return '.';
  return labels.map(labelText).join('.');
}

/** Thrown inside a decoder for a bad name; turned into `malformed` at the decoder's boundary. */
export class BadName extends Error {
  readonly code: string;
  readonly offset: number;
  constructor(code: string, offset: number) {
    super(code);
    this.code = code;
    this.offset = offset;
  }
}

/** Adds an anomaly code to a message's list once. */
export function note(anomalies: string[], code: string): void {
  if (!anomalies.includes(code)) anomalies.push(code);
}
