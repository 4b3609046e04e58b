import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeDhcp, type DhcpMessage } from './decode.ts';
import { formatMac } from '../../core/text.ts';

/** Hex with `//` comments and any whitespace. */
function fromHex(annotated: string): Uint8Array {
  const hex = annotated.replace(/\/\/.*$/gm, '').replace(/\s+/g, '');
  assert.match(hex, /^(?:[0-9a-f]{2})*$/i);
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

const zeros = (n: number): string => '00'.repeat(n);

function value(bytes: Uint8Array): { v: DhcpMessage; anomalies: readonly string[]; consumed: number } {
  const d = decodeDhcp(bytes);
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return { v: d.value, anomalies: d.anomalies, consumed: d.consumed };
}

// profinet/profinet-mixed-dcp-rt-lldp.pcap frame 118: a SCALANCE X208 switch's DHCPDISCOVER.
// tshark: Discover, chaddr 00:0e:8c:ef:75:c5, Host Name siemens-x208-switch, PRL 1,28,3.
const SIEMENS_DISCOVER = `
  01 01 06 00           // op BOOTREQUEST, htype Ethernet, hlen 6, hops 0
  3cfef3b6              // xid
  0000 0000             // secs, flags (unicast)
  00000000 00000000     // ciaddr, yiaddr
  00000000 00000000     // siaddr, giaddr
  000e8cef75c5 ${zeros(10)}  // chaddr + padding
  ${zeros(64)}          // sname
  ${zeros(128)}         // file
  63825363              // magic cookie
  35 01 01              // 53 message type: DISCOVER
  39 02 024e            // 57 max message size 590
  37 03 01 1c 03        // 55 parameter request list: 1, 28, 3
  0c 13 7369656d656e732d783230382d737769746368  // 12 host name "siemens-x208-switch"
  3d 07 00 000e8cef75c5 // 61 client id: type 0, then the MAC
  ff                    // end
`;

test('DISCOVER from a Siemens switch (real capture)', () => {
  const bytes = fromHex(SIEMENS_DISCOVER);
  const { v, anomalies, consumed } = value(bytes);
  assert.equal(consumed, bytes.length);
  assert.deepEqual(anomalies, []);
  assert.equal(v.op, 1);
  assert.equal(v.xid, 0x3cfef3b6);
  assert.equal(v.messageType, 1);
  assert.equal(v.messageTypeName, 'discover');
  assert.equal(formatMac(v.clientMac!), '00:0e:8c:ef:75:c5');
  assert.equal(v.hostname, 'siemens-x208-switch');
  assert.deepEqual(v.parameterRequestList, [1, 28, 3]);
  assert.deepEqual(v.clientId, { type: 0, value: '000e8cef75c5' });
  assert.deepEqual(v.optionCodes, [53, 57, 55, 12, 61]);
  assert.equal(v.ciaddr, '0.0.0.0');
  assert.equal(v.broadcast, false);
});

// it/malcolm-dhcp.pcap frame 6: DHCPACK. tshark: yiaddr 192.168.15.250, server id 192.168.15.101,
// lease 86093 s, domain "powerpuff", chaddr 00:90:f5:91:cd:1f, file "pxelinux.0".
const ACK = `
  02 01 06 00 b1556169 0000 0000                 // BOOTREPLY, xid, secs, flags
  00000000                                       // ciaddr
  c0a80ffa                                       // yiaddr 192.168.15.250
  c0a80f65                                       // siaddr 192.168.15.101
  00000000                                       // giaddr
  0090f591cd1f ${zeros(10)}                      // chaddr
  ${zeros(64)}                                   // sname
  7078656c696e75782e30 ${zeros(118)}             // file "pxelinux.0"
  63825363
  35 01 05                                       // ACK
  36 04 c0a80f65                                 // 54 server id
  33 04 0001504d                                 // 51 lease time 86093
  01 04 ffffff00                                 // 1 subnet mask
  1c 04 c0a80fff                                 // 28 broadcast
  02 04 ffffb9b0                                 // 2 time offset
  03 04 c0a80f65                                 // 3 router
  0f 09 706f776572707566 66                      // 15 domain name "powerpuff"
  06 04 c0a80f65  2a 04 c0a80f65                 // 6 DNS, 42 NTP
  04 04 c0a80f65  05 04 c0a80f65                 // 4 time server, 5 name server
  fc 21 687474703a2f2f64656c6179732e706f776572707566662f70726f78792e706163  // 252 WPAD URL
  ff
`;

test('ACK from a real capture', () => {
  const { v, anomalies } = value(fromHex(ACK));
  assert.deepEqual(anomalies, []);
  assert.equal(v.op, 2);
  assert.equal(v.messageTypeName, 'ack');
  assert.equal(v.yiaddr, '192.168.15.250');
  assert.equal(v.siaddr, '192.168.15.101');
  assert.equal(v.serverId, '192.168.15.101');
  assert.equal(v.leaseTime, 86093);
  assert.equal(v.domainName, 'powerpuff');
  assert.equal(formatMac(v.clientMac!), '00:90:f5:91:cd:1f');
  assert.deepEqual(v.optionCodes, [53, 54, 51, 1, 28, 2, 3, 15, 6, 42, 4, 5, 252]);
});

// it/malcolm-dhcp.pcap frame 78: a relayed DHCPREQUEST from a Raspberry Pi. tshark: Request,
// client id type 1 b8:27:eb:b8:53:c8, vendor class "dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709",
// host name "raspberrypi", PRL 1,121,33,3,6,12,15,28,42,51,54,58,59,100,101,119.
const RELAYED_REQUEST = `
  01 01 06 01 068c4847 0000 0000                 // hops 1
  3e0cad7b 00000000 00000000 3e0cad79            // ciaddr 62.12.173.123, giaddr 62.12.173.121
  b827ebb853c8 ${zeros(10)} ${zeros(64)} ${zeros(128)}
  63825363
  35 01 03                                       // REQUEST
  3d 07 01 b827ebb853c8                          // 61 client id: Ethernet + MAC
  39 02 05c0                                     // 57 max size 1472
  a1 36 68747470733a2f2f6d756463746c2e6578616d706c652e636f6d2f2e77656c6c2d6b6e6f776e2f6d75642f76312f7261736270313031
  3c 2d 6468637063642d362e31312e353a4c696e75782d342e312e31382d76372b3a61726d76376c3a42434d32373039
  0c 0b 7261737062657272797069                   // 12 "raspberrypi"
  91 01 01                                       // 145 forcerenew nonce capable
  37 10 01 79 21 03 06 0c 0f 1c 2a 33 36 3a 3b 64 65 77  // 55 PRL
  ff
`;

test('relayed REQUEST with vendor class and client id (real capture)', () => {
  const { v } = value(fromHex(RELAYED_REQUEST));
  assert.equal(v.messageTypeName, 'request');
  assert.equal(v.hops, 1);
  assert.equal(v.ciaddr, '62.12.173.123');
  assert.equal(v.giaddr, '62.12.173.121');
  assert.equal(v.hostname, 'raspberrypi');
  assert.equal(v.vendorClass, 'dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709');
  assert.deepEqual(v.parameterRequestList, [1, 121, 33, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59, 100, 101, 119]);
  assert.equal(formatMac(v.clientId!.mac!), 'b8:27:eb:b8:53:c8');
  assert.equal(v.clientId!.type, 1);
});

/** A BOOTREQUEST header for hand-built cases. */
const header = (op = '01', htype = '01 06'): string =>
  `${op} ${htype} 00 00000001 0000 8000 ${zeros(16)} 001b1b010203 ${zeros(10)} ${zeros(192)} 63825363`;

test('requested IP, FQDN in wire and ASCII forms, broadcast flag', () => {
  const wire = value(
    fromHex(`${header()}
      35 01 03                          // REQUEST
      32 04 c0a8000a                    // 50 requested IP 192.168.0.10
      51 0f 05 00 00 04 706c6331 05 706c616e74 00 // 81 FQDN, E flag: plc1.plant
      ff`),
  );
  assert.equal(wire.v.requestedIp, '192.168.0.10');
  assert.equal(wire.v.fqdn, 'plc1.plant');
  assert.equal(wire.v.broadcast, true);
  const ascii = value(fromHex(`${header()} 35 01 03 51 0d 00 ff ff 706c63312e706c616e74 ff`));
  assert.equal(ascii.v.fqdn, 'plc1.plant');
  const partial = value(fromHex(`${header()} 35 01 03 51 08 04 00 00 04 706c6331 ff`));
  assert.equal(partial.v.fqdn, 'plc1');
});

test('oddities are anomalies on an ok message', () => {
  // No end option, an option whose length runs past the end.
  const t = decodeDhcp(fromHex(`${header()} 35 01 01 00 00 0c 09 6869`));
  assert.equal(t.kind, 'ok');
  if (t.kind === 'ok') assert.deepEqual(t.anomalies, ['dhcp.truncated_option', 'dhcp.missing_end']);
  // Repeated option, wrong lengths, unknown message type, non-Ethernet hardware.
  const r = value(fromHex(`${header('01', '06 06')} 35 01 63 0c 01 61 0c 01 62 32 03 010203 33 00 3d 01 01 ff`));
  assert.deepEqual(r.anomalies, ['dhcp.not_ethernet', 'dhcp.repeated_option', 'dhcp.bad_option_length']);
  assert.equal(r.v.messageTypeName, 'unknown');
  assert.equal(r.v.hostname, 'a');
  assert.equal(r.v.clientMac, undefined);
  assert.equal(r.v.requestedIp, undefined);
  // BOOTP: no option 53.
  assert.equal(value(fromHex(`${header()} ff`)).v.messageTypeName, 'bootp');
});

test('not DHCP: bad op, no magic cookie, too short', () => {
  assert.deepEqual(decodeDhcp(fromHex(`${header('03')} ff`)), { kind: 'malformed', code: 'dhcp.bad_op', offset: 0 });
  const noCookie = fromHex(`${header()} ff`);
  noCookie[236] = 0;
  assert.deepEqual(decodeDhcp(noCookie), { kind: 'malformed', code: 'dhcp.bad_magic_cookie', offset: 236 });
  assert.equal(decodeDhcp(fromHex(SIEMENS_DISCOVER).subarray(0, 239)).kind, 'malformed');
  assert.deepEqual(decodeDhcp(new Uint8Array(0)), { kind: 'malformed', code: 'dhcp.truncated', offset: 0 });
});

test('property: total and never over-consumes, on random bytes and on mutated real messages', () => {
  const seeds = [SIEMENS_DISCOVER, ACK, RELAYED_REQUEST].map(fromHex);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (b, cookie) => {
      if (cookie && b.length >= 240) {
        b[0] = 1;
        b.set([0x63, 0x82, 0x53, 0x63], 236);
      }
      const d = decodeDhcp(b);
      if (d.kind === 'ok') assert.ok(d.consumed <= b.length);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.integer({ min: 236, max: 400 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(),
      (which, edits, cut) => {
        const b = seeds[which]!.slice();
        for (const [at, v] of edits) b[at % b.length] = v;
        const part = b.subarray(0, cut % (b.length + 1));
        const d = decodeDhcp(part);
        if (d.kind === 'ok') assert.ok(d.consumed <= part.length);
      },
    ),
    { numRuns: 2000 },
  );
});
