// LLDPDUs (IEEE 802.1AB-2016 §8: TLV format §8.4, mandatory TLVs §8.5.2-8.5.4, optional §8.5.5-8.5.9),
// with organisationally specific TLVs counted and the LLDP-MED inventory (ANSI/TIA-1057 §10.2.6) read.

import { malformed, ok, type Decoded } from '../../core/decoded.ts';
import { decodeWith } from '../../core/reader.ts';
import {
  formatIpv4,
  formatIpv6,
  formatMac,
  hex,
  ipv4FromBytes,
  macFromBytes,
  printable,
  utf8Text,
} from '../../core/text.ts';

/** TLVs read per LLDPDU; a frame holds far fewer. */
export const MAX_LLDP_TLVS = 256;
/** Management addresses and organisationally specific TLVs kept (all are counted). */
export const MAX_LLDP_MANAGEMENT_ADDRESSES = 8;
export const MAX_LLDP_ORG_TLVS = 32;

/** System capability bits, bit 0 first (§8.5.8.1; c_vlan, s_vlan, tpmr from 802.1Q). */
export const LLDP_CAPABILITIES = [
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
] as const;
export type LldpCapability = (typeof LLDP_CAPABILITIES)[number];

const CHASSIS_SUBTYPES = [
  'reserved',
  'chassis_component',
  'interface_alias',
  'port_component',
  'mac_address',
  'network_address',
  'interface_name',
  'local',
] as const;
const PORT_SUBTYPES = [
  'reserved',
  'interface_alias',
  'port_component',
  'mac_address',
  'network_address',
  'interface_name',
  'agent_circuit_id',
  'local',
] as const;

/** Organisation OUIs named in `orgTlvs`. */
export const LLDP_ORG_NAMES: Readonly<Record<number, string>> = {
  0x0080c2: 'ieee_802.1',
  0x00120f: 'ieee_802.3',
  0x000ecf: 'profinet',
  0x0012bb: 'tia_lldp_med',
  0x00015c: 'cisco',
  0x00014f: 'ieee_802.1qbg',
};

export interface LldpId {
  readonly subtype: number;
  readonly subtypeName: string;
  /** MAC subtype as aa:bb:.., network address as IP text, anything else as printable text. */
  readonly value: string;
  /** The MAC, for the MAC address subtype. */
  readonly mac?: number;
}

export interface LldpManagementAddress {
  /** IANA address family: 1 IPv4, 2 IPv6, 6 IEEE 802 (MAC). */
  readonly family: number;
  readonly address: string;
  readonly interfaceSubtype: number;
  readonly interfaceNumber: number;
}

export interface LldpOrgTlv {
  readonly oui: number;
  readonly ouiName?: string;
  readonly subtype: number;
  readonly length: number;
}

/** LLDP-MED inventory (TIA OUI 00-12-BB, subtypes 5 to 11). */
export interface LldpInventory {
  readonly hardwareRevision?: string;
  readonly firmwareRevision?: string;
  readonly softwareRevision?: string;
  readonly serialNumber?: string;
  readonly manufacturer?: string;
  readonly model?: string;
  readonly assetId?: string;
}

export interface LldpPdu {
  readonly chassisId: LldpId;
  readonly portId: LldpId;
  /** Seconds; 0 means "forget this neighbour" (shutdown LLDPDU, §9.2.7.1). */
  readonly ttl?: number;
  readonly portDescription?: string;
  readonly systemName?: string;
  readonly systemDescription?: string;
  readonly capabilities?: readonly LldpCapability[];
  readonly enabledCapabilities?: readonly LldpCapability[];
  /** Raw capability bitmaps beside their names. */
  readonly capabilityBits?: number;
  readonly enabledCapabilityBits?: number;
  readonly managementAddresses: readonly LldpManagementAddress[];
  /** Organisationally specific TLVs seen (type 127); the first MAX_LLDP_ORG_TLVS are in `orgTlvs`. */
  readonly orgTlvCount: number;
  readonly orgTlvs: readonly LldpOrgTlv[];
  /** PROFINET "Chassis MAC" TLV (IEC 61158-6-10, OUI 00-0E-CF subtype 5). */
  readonly profinetChassisMac?: number;
  readonly inventory?: LldpInventory;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function note(anomalies: string[], code: string): void {
  if (!anomalies.includes(code)) anomalies.push(code);
}

function capabilityNames(bits: number): LldpCapability[] {
  return LLDP_CAPABILITIES.filter((_, i) => (bits & (1 << i)) !== 0);
}

/** Address in the IANA family numbering used by network-address ids and management addresses. */
function addressText(family: number, a: Uint8Array): string {
  if (family === 1 && a.length === 4) return formatIpv4(ipv4FromBytes(a, 0));
  if (family === 2 && a.length === 16) return formatIpv6(a, 0);
  if (family === 6 && a.length === 6) return formatMac(macFromBytes(a, 0));
  return hex(a);
}

function readId(v: Uint8Array, names: readonly string[], macSubtype: number, netSubtype: number): LldpId | undefined {
  if (v.length < 2) return undefined;
  const subtype = v[0]!;
  const body = v.subarray(1);
  const subtypeName = names[subtype] ?? 'reserved';
  if (subtype === macSubtype && body.length === 6) {
    const mac = macFromBytes(body, 0);
    return { subtype, subtypeName, value: formatMac(mac), mac };
  }
  if (subtype === netSubtype && body.length >= 2)
    return { subtype, subtypeName, value: addressText(body[0]!, body.subarray(1)) };
  return { subtype, subtypeName, value: printable(body, 255).trim() };
}

function descriptive(v: Uint8Array): string {
  return utf8Text(v, 255).trim();
}

const INVENTORY_FIELDS: Readonly<Record<number, keyof LldpInventory>> = {
  5: 'hardwareRevision',
  6: 'firmwareRevision',
  7: 'softwareRevision',
  8: 'serialNumber',
  9: 'manufacturer',
  10: 'model',
  11: 'assetId',
};

/** Decodes one LLDPDU: the Ethernet payload after ethertype 0x88cc, up to and including End. */
export function decodeLldp(bytes: Uint8Array): Decoded<LldpPdu> {
  return decodeWith(bytes, 'lldp.truncated', (r) => {
    const anomalies: string[] = [];
    let chassisId: LldpId | undefined;
    let portId: LldpId | undefined;
    const p: Mutable<Omit<LldpPdu, 'chassisId' | 'portId'>> = { managementAddresses: [], orgTlvCount: 0, orgTlvs: [] };
    const mgmt: LldpManagementAddress[] = [];
    const orgs: LldpOrgTlv[] = [];
    let inventory: Mutable<LldpInventory> | undefined;
    const seen = new Set<number>();
    let ended = false;
    for (let n = 0; n < MAX_LLDP_TLVS && r.remaining > 0; n++) {
      const at = r.pos;
      const head = r.u16();
      const type = head >> 9;
      const v = r.take(head & 0x1ff);
      // §8.5.2-8.5.4: Chassis ID, Port ID and TTL come first, in that order.
      if ((n === 0 && type !== 1) || (n === 1 && type !== 2) || (n === 2 && type !== 3))
        note(anomalies, 'lldp.bad_tlv_order');
      if (type === 0) {
        if (v.length !== 0) note(anomalies, 'lldp.bad_tlv_length');
        ended = true;
        break;
      }
      if (type >= 1 && type <= 7 && seen.has(type)) {
        note(anomalies, 'lldp.duplicate_tlv');
        continue;
      }
      seen.add(type);
      switch (type) {
        case 1:
          chassisId = readId(v, CHASSIS_SUBTYPES, 4, 5);
          if (!chassisId) return malformed('lldp.bad_chassis_id', at);
          break;
        case 2:
          portId = readId(v, PORT_SUBTYPES, 3, 4);
          if (!portId) return malformed('lldp.bad_port_id', at);
          break;
        case 3:
          if (v.length < 2) note(anomalies, 'lldp.bad_tlv_length');
          else p.ttl = (v[0]! << 8) | v[1]!;
          break;
        case 4:
          p.portDescription = descriptive(v);
          break;
        case 5:
          p.systemName = descriptive(v);
          break;
        case 6:
          p.systemDescription = descriptive(v);
          break;
        case 7:
          if (v.length !== 4) note(anomalies, 'lldp.bad_tlv_length');
          else {
            p.capabilityBits = (v[0]! << 8) | v[1]!;
            p.enabledCapabilityBits = (v[2]! << 8) | v[3]!;
            p.capabilities = capabilityNames(p.capabilityBits);
            p.enabledCapabilities = capabilityNames(p.enabledCapabilityBits);
          }
          break;
        case 8: {
          // §8.5.9: address string length (subtype + address, 2..32), subtype, address,
          // interface numbering subtype, interface number, OID length, OID.
          const len = v[0] ?? 0;
          if (v.length < 9 || len < 2 || len > 32 || 1 + len + 6 > v.length) {
            note(anomalies, 'lldp.bad_management_address');
            break;
          }
          if (mgmt.length < MAX_LLDP_MANAGEMENT_ADDRESSES) {
            const family = v[1]!;
            const i = 1 + len;
            mgmt.push({
              family,
              address: addressText(family, v.subarray(2, 1 + len)),
              interfaceSubtype: v[i]!,
              interfaceNumber: ((v[i + 1]! << 24) | (v[i + 2]! << 16) | (v[i + 3]! << 8) | v[i + 4]!) >>> 0,
            });
          }
          break;
        }
        case 127: {
          p.orgTlvCount++;
          if (v.length < 4) {
            note(anomalies, 'lldp.bad_tlv_length');
            break;
          }
          const oui = (v[0]! << 16) | (v[1]! << 8) | v[2]!;
          const subtype = v[3]!;
          const info = v.subarray(4);
          if (orgs.length < MAX_LLDP_ORG_TLVS) {
            const ouiName = LLDP_ORG_NAMES[oui];
            orgs.push(ouiName ? { oui, ouiName, subtype, length: info.length } : { oui, subtype, length: info.length });
          }
          if (oui === 0x000ecf && subtype === 5 && info.length === 6) p.profinetChassisMac = macFromBytes(info, 0);
          const field = oui === 0x0012bb ? INVENTORY_FIELDS[subtype] : undefined;
          if (field) {
            inventory ??= {};
            inventory[field] ??= printable(info, 255).trim();
          }
          break;
        }
        default:
          // Types 9-126 are reserved.
          note(anomalies, 'lldp.reserved_tlv');
          break;
      }
    }
    if (!chassisId) return malformed('lldp.missing_chassis_id', 0);
    if (!portId) return malformed('lldp.missing_port_id', 0);
    if (p.ttl === undefined) note(anomalies, 'lldp.missing_ttl');
    if (!ended) note(anomalies, r.remaining > 0 ? 'lldp.too_many_tlvs' : 'lldp.missing_end');
    p.managementAddresses = mgmt;
    p.orgTlvs = orgs;
    if (inventory) p.inventory = inventory;
    return ok({ chassisId, portId, ...p }, r.pos, anomalies);
  });
}
