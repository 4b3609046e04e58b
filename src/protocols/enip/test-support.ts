// Test support: annotated hex fixtures (one field per line, `//` comments) turned into bytes.

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
