// TPKT framing (RFC 1006 §6) and COTP TPDU decoding (ISO 8073 / X.224 §13: CR, CC, DR, DC, DT, ER;
// the other codes are recognised and passed over). Class 0 is what RFC 1006 carries; the normal
// format of DT with a destination reference (classes 1–4) is accepted too.

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { decodeWith } from '../../core/reader.ts';
import {
  COTP_PARAM,
  DT_EOT,
  MAX_TPKT_LENGTH,
  MIN_LI,
  MIN_TPKT_LENGTH,
  TPDU,
  TPDU_NAMES,
  TPKT_HEADER_LENGTH,
  TPKT_VERSION,
} from './constants.ts';

/**
 * PDU length for PduFramer: the TPKT length when the 4-byte TPKT header and the COTP length
 * indicator and code describe a TPDU that fits it, 0 while fewer than 6 bytes are known, -1 when
 * these bytes cannot start a TPKT.
 */
export function frameTpkt(b: Uint8Array): number {
  const n = b.length;
  if (n === 0) return 0;
  if (b[0] !== TPKT_VERSION) return -1;
  if (n < 2) return 0;
  if (b[1] !== 0) return -1;
  if (n < 6) return 0;
  const len = (b[2]! << 8) | b[3]!;
  if (len < MIN_TPKT_LENGTH || len > MAX_TPKT_LENGTH) return -1;
  const li = b[4]!;
  const min = MIN_LI[b[5]! >> 4]!;
  if (min < 0 || li < min || li > len - TPKT_HEADER_LENGTH - 1) return -1;
  return len;
}

/** A decoded TPDU. Byte fields are views of the TPKT bytes (no copy). */
export type CotpTpdu =
  | {
      readonly kind: 'connect';
      /** TPDU.cr or TPDU.cc. */
      readonly code: number;
      readonly name: string;
      readonly credit: number;
      readonly dstRef: number;
      readonly srcRef: number;
      readonly protocolClass: number;
      readonly options: number;
      /** Negotiated maximum TPDU size in bytes (2^parameter), or 0 when absent. */
      readonly tpduSize: number;
      readonly callingTsap?: Uint8Array;
      readonly calledTsap?: Uint8Array;
    }
  | {
      readonly kind: 'disconnect';
      readonly code: number;
      readonly dstRef: number;
      readonly srcRef: number;
      readonly reason: number;
    }
  | { readonly kind: 'data'; readonly eot: boolean; readonly tpduNumber: number; readonly data: Uint8Array }
  | { readonly kind: 'error'; readonly dstRef: number; readonly cause: number }
  /** ED, EA, AK, RJ and DC: recognised, not used by class 0. */
  | { readonly kind: 'other'; readonly code: number; readonly name: string };

/**
 * Decodes one whole TPKT (as framed by `frameTpkt`): the COTP header and, for DT, the user data.
 * Malformed codes: `cotp.truncated`, `cotp.bad_tpkt`, `cotp.bad_length`, `cotp.unknown_tpdu`,
 * `cotp.bad_parameter`.
 */
export function decodeCotp(tpkt: Uint8Array): Decoded<CotpTpdu> {
  return decodeWith(tpkt, 'cotp.truncated', (r) => {
    if (r.u8() !== TPKT_VERSION || r.u8() !== 0) return malformed('cotp.bad_tpkt', 0);
    const len = r.u16();
    if (len < MIN_TPKT_LENGTH || len > tpkt.length) return malformed('cotp.bad_tpkt', 2);
    r.end = len;
    const li = r.u8();
    const headerEnd = TPKT_HEADER_LENGTH + 1 + li;
    if (headerEnd > len) return malformed('cotp.bad_length', 4);
    const first = r.u8();
    const code = first & 0xf0;
    const min = MIN_LI[code >> 4]!;
    if (min < 0) return malformed('cotp.unknown_tpdu', 5);
    if (li < min) return malformed('cotp.bad_length', 4);
    const anomalies: string[] = [];
    switch (code) {
      case TPDU.dt: {
        if (first !== TPDU.dt) anomalies.push('cotp.bad_dt_code');
        // Class 0/1 DT: LI 2 (code, EOT/NR). Classes 2–4 normal format add a destination reference.
        if (li >= 4) r.skip(2);
        const nr = r.u8();
        const data = tpkt.subarray(headerEnd, len);
        return ok({ kind: 'data', eot: (nr & DT_EOT) !== 0, tpduNumber: nr & 0x7f, data }, len, anomalies);
      }
      case TPDU.cr:
      case TPDU.cc: {
        const dstRef = r.u16();
        const srcRef = r.u16();
        const classOptions = r.u8();
        let tpduSize = 0;
        let callingTsap: Uint8Array | undefined;
        let calledTsap: Uint8Array | undefined;
        while (r.pos < headerEnd) {
          const p = r.u8();
          const plen = r.u8();
          if (r.pos + plen > headerEnd) return malformed('cotp.bad_parameter', r.pos - 2);
          const v = r.take(plen);
          if (p === COTP_PARAM.tpduSize && plen === 1) {
            // X.224 §13.3.4 b: 7 (128 octets) .. 13 (8192 octets).
            const e = v[0]!;
            if (e >= 7 && e <= 13) tpduSize = 1 << e;
            else anomalies.push('cotp.bad_tpdu_size');
          } else if (p === COTP_PARAM.callingTsap) callingTsap = v;
          else if (p === COTP_PARAM.calledTsap) calledTsap = v;
        }
        const base = {
          kind: 'connect' as const,
          code,
          name: TPDU_NAMES[code]!,
          credit: first & 0x0f,
          dstRef,
          srcRef,
          protocolClass: classOptions >> 4,
          options: classOptions & 0x0f,
          tpduSize,
        };
        const withCalling = callingTsap === undefined ? base : { ...base, callingTsap };
        return ok(calledTsap === undefined ? withCalling : { ...withCalling, calledTsap }, len, anomalies);
      }
      case TPDU.dr: {
        const dstRef = r.u16();
        const srcRef = r.u16();
        const reason = r.u8();
        return ok({ kind: 'disconnect', code, dstRef, srcRef, reason }, len, anomalies);
      }
      case TPDU.er: {
        const dstRef = r.u16();
        const cause = r.u8();
        return ok({ kind: 'error', dstRef, cause }, len, anomalies);
      }
      default:
        return ok({ kind: 'other', code, name: TPDU_NAMES[code] ?? 'unknown' }, len, anomalies);
    }
  });
}
