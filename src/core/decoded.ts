// The result of decoding untrusted bytes: a value, a request for more bytes, or "malformed" with a
// stable dotted code. Decoders are total: they return one of these and never throw on bad input.

export type Decoded<T> =
  | { readonly kind: 'ok'; readonly value: T; readonly consumed: number; readonly anomalies: readonly string[] }
  | { readonly kind: 'incomplete'; readonly needed: number }
  | { readonly kind: 'malformed'; readonly code: string; readonly offset: number };

const NO_ANOMALIES: readonly string[] = Object.freeze([]);

export function ok<T>(value: T, consumed: number, anomalies: readonly string[] = NO_ANOMALIES): Decoded<T> {
  return { kind: 'ok', value, consumed, anomalies };
}

export function incomplete<T>(needed: number): Decoded<T> {
  return { kind: 'incomplete', needed };
}

export function malformed<T>(code: string, offset: number): Decoded<T> {
  return { kind: 'malformed', code, offset };
}
