import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeLldp, type LldpPdu } from './decode.ts';
import { formatMac } from '../../core/text.ts';

/** Hex with `//` comments and any whitespace. */
function fromHex(annotated: string): Uint8Array {
  const hex = annotated.replace(/\/\/.*$/gm, '').replace(/\s+/g, '');
  assert.match(hex, /^(?:[0-9a-f]{2})*$/i);
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function value(bytes: Uint8Array): { v: LldpPdu; anomalies: readonly string[]; consumed: number } {
  const d = decodeLldp(bytes);
  assert.equal(d.kind, 'ok', JSON.stringify(d));
  if (d.kind !== 'ok') throw new Error('unreachable');
  return { v: d.value, anomalies: d.anomalies, consumed: d.consumed };
}

const ascii = (s: string): string => Buffer.from(s, 'latin1').toString('hex');

// it/zeek-lldp.pcap frame 1, after ethertype 88cc. tshark: chassis MAC 00:22:2d:81:db:10, port
// "1" (locally assigned), TTL 120, "Port #1", system SMCGS8P-Smart, capabilities bridge/bridge,
// management IPv4 192.168.2.10 ifIndex 1. Three bytes of padding and the FCS follow End.
const SMC_SWITCH = `
  0207 04 00222d81db10          // Chassis ID, len 7: subtype 4 (MAC)
  0402 07 31                    // Port ID, len 2: subtype 7 (local) "1"
  0602 0078                     // TTL 120
  0807 ${ascii('Port #1')}      // Port Description
  0a0d ${ascii('SMCGS8P-Smart')} // System Name
  0c23 ${ascii('SMCGS8P-Smart - SMCGS8P-Smart v3.20')} // System Description
  0e04 0004 0004                // System Capabilities: bridge, enabled: bridge
  100c 05 01 c0a8020a 02 00000001 00  // Mgmt address: len 5, IPv4, ifIndex 1, no OID
  0000                          // End of LLDPDU
  000000 bb14272c               // Ethernet padding and FCS (not LLDP)
`;

test('an SMC switch (real capture, it/zeek-lldp.pcap)', () => {
  const bytes = fromHex(SMC_SWITCH);
  const { v, anomalies, consumed } = value(bytes);
  assert.deepEqual(anomalies, []);
  assert.equal(consumed, bytes.length - 7);
  assert.deepEqual(v.chassisId, {
    subtype: 4,
    subtypeName: 'mac_address',
    value: '00:22:2d:81:db:10',
    mac: 0x00222d81db10,
  });
  assert.deepEqual(v.portId, { subtype: 7, subtypeName: 'local', value: '1' });
  assert.equal(v.ttl, 120);
  assert.equal(v.portDescription, 'Port #1');
  assert.equal(v.systemName, 'SMCGS8P-Smart');
  assert.equal(v.systemDescription, 'SMCGS8P-Smart - SMCGS8P-Smart v3.20');
  assert.deepEqual(v.capabilities, ['bridge']);
  assert.deepEqual(v.enabledCapabilities, ['bridge']);
  assert.equal(v.capabilityBits, 4);
  assert.deepEqual(v.managementAddresses, [
    { family: 1, address: '192.168.2.10', interfaceSubtype: 2, interfaceNumber: 1 },
  ]);
  assert.equal(v.orgTlvCount, 0);
});

// it/lldp-siemens.pcapng frame 2: a SIMATIC KTP700 HMI. tshark: chassis "hmixb110d0" (local), port
// "port-001", TTL 20, capabilities 0x0084 (bridge, station), mgmt 192.168.0.2 ifIndex 2 with an
// OID, PROFINET Port Status and Chassis MAC e0:dc:a0:29:c6:e7, 802.3 MAC/PHY and max frame size.
const SIEMENS_HMI = `
  020b 07 ${ascii('hmixb110d0')}         // Chassis ID: local
  0409 07 ${ascii('port-001')}           // Port ID: local
  0602 0014                              // TTL 20
  0829 ${ascii('Siemens, SIMATIC S7, Ethernet Port, X1 P1')} // Port Description
  0c4a ${ascii('Siemens, SIMATIC HMI, KTP700 Basic, 6AV2 123-2GB03-0AX0, HW:0, SW.V 13.0.1')}
  0e04 0084 0084                         // capabilities: bridge + station
  1014 05 01 c0a80002 02 00000002 08 2b0601040181c06e  // mgmt 192.168.0.2, OID 1.3.6.1.4.1.24686
  fe08 000ecf 02 00000000                // PROFINET: Port Status
  fe0a 000ecf 05 e0dca029c6e7            // PROFINET: Chassis MAC
  fe09 00120f 01 03 6c01 0010            // 802.3: MAC/PHY configuration
  fe06 00120f 04 05f2                    // 802.3: maximum frame size 1522
  0000                                   // End
`;

test('a Siemens HMI with PROFINET and 802.3 TLVs (real capture, it/lldp-siemens.pcapng)', () => {
  const { v, anomalies } = value(fromHex(SIEMENS_HMI));
  assert.deepEqual(anomalies, []);
  assert.equal(v.chassisId.value, 'hmixb110d0');
  assert.equal(v.chassisId.subtypeName, 'local');
  assert.equal(v.portId.value, 'port-001');
  assert.equal(v.ttl, 20);
  assert.equal(v.systemName, undefined);
  assert.equal(v.portDescription, 'Siemens, SIMATIC S7, Ethernet Port, X1 P1');
  assert.match(v.systemDescription!, /KTP700 Basic, 6AV2 123-2GB03-0AX0/);
  assert.deepEqual(v.capabilities, ['bridge', 'station']);
  assert.deepEqual(v.managementAddresses, [
    { family: 1, address: '192.168.0.2', interfaceSubtype: 2, interfaceNumber: 2 },
  ]);
  assert.equal(v.orgTlvCount, 4);
  assert.deepEqual(v.orgTlvs, [
    { oui: 0x000ecf, ouiName: 'profinet', subtype: 2, length: 4 },
    { oui: 0x000ecf, ouiName: 'profinet', subtype: 5, length: 6 },
    { oui: 0x00120f, ouiName: 'ieee_802.3', subtype: 1, length: 5 },
    { oui: 0x00120f, ouiName: 'ieee_802.3', subtype: 4, length: 2 },
  ]);
  assert.equal(formatMac(v.profinetChassisMac!), 'e0:dc:a0:29:c6:e7');
});

test('network-address ids, IPv6 and MAC management addresses, LLDP-MED inventory', () => {
  const { v, anomalies } = value(
    fromHex(`
      0206 05 01 0a000001               // Chassis ID: network address, IPv4 10.0.0.1
      0407 03 001b1b010203              // Port ID: MAC
      0602 0000                         // TTL 0 (shutdown)
      0e04 07ff 0010                    // all of bits 0-10, enabled: router
      1018 11 02 fe800000000000000000000000000001 03 00000005 00  // IPv6 mgmt, ifIndex 5 (port)
      100e 07 06 001b1b010203 01 00000000 00                        // 802 (MAC) mgmt
      fe08 0012bb 08 ${ascii('SN42')}   // LLDP-MED serial number
      fe0b 0012bb 09 ${ascii('Siemens')} // LLDP-MED manufacturer
      fe0b 0012bb 0a ${ascii('S7-1500')} // LLDP-MED model
      fe08 0012bb 06 ${ascii('V2.9')}   // LLDP-MED firmware
      fe04 00ffff 01                    // unknown organisation
      0000
    `),
  );
  assert.deepEqual(anomalies, []);
  assert.deepEqual(v.chassisId, { subtype: 5, subtypeName: 'network_address', value: '10.0.0.1' });
  assert.equal(v.portId.subtypeName, 'mac_address');
  assert.equal(v.portId.value, '00:1b:1b:01:02:03');
  assert.equal(v.ttl, 0);
  assert.deepEqual(v.capabilities, [
    'other',
    'repeater',
    'bridge',
    'wlan_ap',
    'router',
    'telephone',
    'docsis',
    'station',
    'c_vlan',
    's_vlan',
    'tpmr',
  ]);
  assert.deepEqual(v.enabledCapabilities, ['router']);
  assert.deepEqual(v.managementAddresses, [
    { family: 2, address: 'fe80::1', interfaceSubtype: 3, interfaceNumber: 5 },
    { family: 6, address: '00:1b:1b:01:02:03', interfaceSubtype: 1, interfaceNumber: 0 },
  ]);
  assert.deepEqual(v.inventory, {
    serialNumber: 'SN42',
    manufacturer: 'Siemens',
    model: 'S7-1500',
    firmwareRevision: 'V2.9',
  });
  assert.deepEqual(v.orgTlvs.at(-1), { oui: 0xffff, subtype: 1, length: 0 });
});

test('oddities on an ok PDU: order, duplicates, reserved types, bad lengths, no End', () => {
  const d = decodeLldp(
    fromHex(`
      0403 07 3178                      // Port ID first
      0203 07 6869                      // Chassis ID second
      0a02 6869                         // System name where TTL belongs; no TTL at all
      0a02 6a6b                         // duplicate system name
      1202 0000                         // reserved type 9
      0e02 0004                         // capabilities of the wrong length
      1003 05 01 00                     // management address too short
      fe02 0000                         // org TLV shorter than OUI + subtype
    `),
  );
  assert.equal(d.kind, 'ok');
  if (d.kind !== 'ok') return;
  assert.equal(d.value.systemName, 'hi');
  assert.equal(d.value.capabilities, undefined);
  assert.equal(d.value.orgTlvCount, 1);
  assert.deepEqual(d.anomalies, [
    'lldp.bad_tlv_order',
    'lldp.duplicate_tlv',
    'lldp.reserved_tlv',
    'lldp.bad_tlv_length',
    'lldp.bad_management_address',
    'lldp.missing_ttl',
    'lldp.missing_end',
  ]);
});

test('malformed: missing or empty ids, TLV running past the end', () => {
  assert.deepEqual(decodeLldp(fromHex('0602 0078 0000')), {
    kind: 'malformed',
    code: 'lldp.missing_chassis_id',
    offset: 0,
  });
  assert.deepEqual(decodeLldp(fromHex('0201 04 0000')), { kind: 'malformed', code: 'lldp.bad_chassis_id', offset: 0 });
  assert.deepEqual(decodeLldp(fromHex('0203 07 6869 0602 0078 0000')), {
    kind: 'malformed',
    code: 'lldp.missing_port_id',
    offset: 0,
  });
  assert.deepEqual(decodeLldp(fromHex('0207 04 00222d81db')), { kind: 'malformed', code: 'lldp.truncated', offset: 2 });
  assert.deepEqual(decodeLldp(new Uint8Array(0)), { kind: 'malformed', code: 'lldp.missing_chassis_id', offset: 0 });
});

test('property: total and never over-consumes, on random bytes and on mutated real PDUs', () => {
  const seeds = [SMC_SWITCH, SIEMENS_HMI].map(fromHex);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const d = decodeLldp(b);
      if (d.kind === 'ok') assert.ok(d.consumed <= b.length);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(),
      (which, edits, cut) => {
        const b = seeds[which]!.slice();
        for (const [at, v] of edits) b[at % b.length] = v;
        const part = b.subarray(0, cut % (b.length + 1));
        const d = decodeLldp(part);
        if (d.kind === 'ok') assert.ok(d.consumed <= part.length);
      },
    ),
    { numRuns: 3000 },
  );
});
