import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLocallyAdministered, isMulticastMac, lookupVendor, vendorNameList } from './index.ts';
import { OUI_INDEX_DIGITS, OUI_MA_L, OUI_MA_M, OUI_MA_S } from './oui.gen.js';

const mac = (s: string): number => parseInt(s.replace(/[:-]/g, ''), 16);

test('industrial vendors resolve from their MA-L blocks', () => {
  assert.equal(lookupVendor(mac('00:1b:1b:01:02:03')), 'Siemens');
  assert.equal(lookupVendor(mac('00:0e:8c:ef:75:c9')), 'Siemens');
  assert.equal(lookupVendor(mac('08:00:06:00:00:01')), 'Siemens'); // "SIEMENS AG" in the register
  assert.equal(lookupVendor(mac('00:00:bc:12:34:56')), 'Rockwell Automation');
  assert.equal(lookupVendor(mac('00:80:f4:0a:bb:ff')), 'Telemecanique Electrique');
  assert.equal(lookupVendor(mac('00:30:de:00:00:01')), 'WAGO Kontakttechnik');
  assert.equal(lookupVendor(mac('00:a0:45:00:00:01')), 'PHOENIX CONTACT Electronics');
  assert.equal(lookupVendor(mac('e0:dc:a0:29:c6:e7')), 'Siemens Industrial Automation Products Ltd Chengdu');
});

test('longer blocks win over the IEEE block they are carved from', () => {
  // 70:B3:D5 is an MA-L held by the IEEE Registration Authority for MA-S assignments.
  assert.equal(lookupVendor(mac('70:b3:d5:00:00:00')), 'IEEE Registration Authority');
  assert.equal(lookupVendor(mac('70:b3:d5:ff:7f:ff')), 'Cybercom');
  assert.equal(lookupVendor(mac('70:b3:d5:f2:f0:01')), 'Teleplatforms');
  // An MA-M block (28 bits): 74:1A:E0:9x:xx:xx is listed as Private.
  assert.equal(lookupVendor(mac('74:1a:e0:90:00:01')), 'Private');
  // IAB under 00:50:C2.
  assert.equal(lookupVendor(mac('00:50:c2:7d:50:01')), 'Deuta-Werke');
});

test('unknown and out-of-range MACs give undefined', () => {
  assert.equal(lookupVendor(mac('02:00:00:00:00:01')), undefined);
  assert.equal(lookupVendor(-1), undefined);
  assert.equal(lookupVendor(2 ** 48), undefined);
  assert.equal(lookupVendor(1.5), undefined);
});

test('I/G and U/L bits', () => {
  assert.equal(isMulticastMac(mac('01:80:c2:00:00:0e')), true);
  assert.equal(isMulticastMac(mac('ff:ff:ff:ff:ff:ff')), true);
  assert.equal(isMulticastMac(mac('00:1b:1b:01:02:03')), false);
  assert.equal(isLocallyAdministered(mac('5a:4f:34:b1:af:66')), true);
  assert.equal(isLocallyAdministered(mac('00:1b:1b:01:02:03')), false);
});

test('generated table is sorted, well-formed and indexes existing names', () => {
  const records = OUI_MA_L.join('');
  assert.equal(records.length % 9, 0);
  let prev = '';
  for (let i = 0; i < records.length; i += 9) {
    const p = records.slice(i, i + 6);
    assert.match(p, /^[0-9A-F]{6}$/);
    assert.ok(p > prev, `${p} after ${prev}`);
    prev = p;
  }
  assert.ok(vendorNameList().length > 20_000);
  assert.ok(vendorNameList().every((v) => v.length > 0 && v === v.trim()));
});

test('lookups agree with a plain scan of every record, at block edges and anywhere', async () => {
  const { default: fc } = await import('fast-check');
  // The reference: every record parsed, then the longest prefix that holds the MAC.
  const digits = OUI_INDEX_DIGITS;
  const parse = (chunks: readonly string[], hexDigits: number): Map<number, number> => {
    const width = hexDigits + 3;
    const m = new Map<number, number>();
    const all = chunks.join('');
    for (let off = 0; off + width <= all.length; off += width) {
      let idx = 0;
      for (let k = hexDigits; k < width; k++) idx = idx * 64 + digits.indexOf(all[off + k]!);
      m.set(parseInt(all.slice(off, off + hexDigits), 16), idx);
    }
    return m;
  };
  const blocks = [
    { bits: 36, m: parse(OUI_MA_S, 9) },
    { bits: 28, m: parse(OUI_MA_M, 7) },
    { bits: 24, m: parse(OUI_MA_L, 6) },
  ];
  const names = vendorNameList();
  const reference = (mac: number): string | undefined => {
    for (const b of blocks) {
      const idx = b.m.get(Math.floor(mac / 2 ** (48 - b.bits)));
      if (idx !== undefined) return names[idx];
    }
    return undefined;
  };
  // Every MA-L prefix's first and last address, and each MA-M/MA-S block's first address.
  for (const b of blocks)
    for (const key of b.m.keys()) {
      const first = key * 2 ** (48 - b.bits);
      assert.equal(lookupVendor(first), reference(first));
      if (b.bits === 24) assert.equal(lookupVendor(first + 2 ** 24 - 1), reference(first + 2 ** 24 - 1));
    }
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (mac) => lookupVendor(mac) === reference(mac)),
    { numRuns: 5000 },
  );
});
