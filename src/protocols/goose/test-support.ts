// Test support: annotated hex fixtures and a recording AnalyzerContext (with the per-PDU trace hook).
import type { AnalyzerContext, AssetFact, Direction, OperationEvent } from '../_core/types.ts';

/** Hex digits with `//` comments and any whitespace; throws on anything else. */
export function hex(annotated: string): Uint8Array {
  const digits = annotated
    .split('\n')
    .map((l) => l.replace(/\/\/.*$/, ''))
    .join('')
    .replace(/\s+/g, '');
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) throw new Error(`not an even run of hex digits: ${digits}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => parseInt(h, 16));
}

export type Ev =
  | { t: 'op'; op: OperationEvent }
  | { t: 'fact'; fact: AssetFact }
  | { t: 'anomaly'; code: string }
  | { t: 'confirm' }
  | { t: 'violate'; code: string }
  | { t: 'pdu'; dir: Direction; code: number };

/** Records everything an analyzer reports, the per-PDU trace hook included. */
export class Ctx implements AnalyzerContext {
  readonly events: Ev[] = [];
  readonly pdu = (dir: Direction, code: number): void => {
    this.events.push({ t: 'pdu', dir, code });
  };
  operation(op: OperationEvent): void {
    this.events.push({ t: 'op', op: { ...op } });
  }
  fact(fact: AssetFact): void {
    this.events.push({ t: 'fact', fact });
  }
  anomaly(code: string): void {
    this.events.push({ t: 'anomaly', code });
  }
  confirm(): void {
    this.events.push({ t: 'confirm' });
  }
  violate(code: string): void {
    this.events.push({ t: 'violate', code });
  }
  ops(): OperationEvent[] {
    return this.events.flatMap((e) => (e.t === 'op' ? [e.op] : []));
  }
  facts(): AssetFact[] {
    return this.events.flatMap((e) => (e.t === 'fact' ? [e.fact] : []));
  }
  anomalies(): string[] {
    return this.events.flatMap((e) => (e.t === 'anomaly' ? [e.code] : []));
  }
  pdus(): number[] {
    return this.events.flatMap((e) => (e.t === 'pdu' ? [e.code] : []));
  }
  kinds(): string[] {
    return this.events.filter((e) => e.t !== 'pdu').map((e) => e.t);
  }
}

export function fromHex(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
}
