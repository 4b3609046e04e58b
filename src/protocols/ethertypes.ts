// Names of layer-2 protocols by ethertype (IEEE registry), for the protocol breakdown and for
// communications that never reach IP (Profinet RT, GOOSE, Sampled Values, EtherCAT, PTP...).

const NAMES: Readonly<Record<number, string>> = {
  0x0800: 'ipv4',
  0x0806: 'arp',
  0x0842: 'wake-on-lan',
  0x22f0: 'avtp',
  0x22f3: 'trill',
  0x6002: 'dec-mop',
  0x8035: 'rarp',
  0x809b: 'appletalk',
  0x8137: 'ipx',
  0x86dd: 'ipv6',
  0x8808: 'ethernet-flow-control',
  0x8809: 'slow-protocols',
  0x8819: 'cobranet',
  0x8847: 'mpls',
  0x8848: 'mpls',
  0x8863: 'pppoe-discovery',
  0x8864: 'pppoe',
  0x887b: 'homeplug',
  0x888e: 'eapol',
  0x8892: 'profinet',
  0x889a: 'hyperscsi',
  0x88a2: 'ata-over-ethernet',
  0x88a4: 'ethercat',
  0x88ab: 'powerlink',
  0x88b8: 'goose',
  0x88b9: 'gse-management',
  0x88ba: 'sv',
  0x88cc: 'lldp',
  0x88cd: 'sercos-iii',
  0x88e1: 'homeplug-av',
  0x88e3: 'mrp',
  0x88e5: 'macsec',
  0x88e7: 'pbb',
  0x88f7: 'ptp',
  0x88f8: 'nc-si',
  0x88fb: 'prp',
  0x8902: 'cfm',
  0x8906: 'fcoe',
  0x8914: 'fcoe-init',
  0x8915: 'roce',
  0x891d: 'tte',
  0x892f: 'hsr',
  0x9000: 'loopback',
};

/**
 * IEEE 802.3 frames have a length where the ethertype would be and an 802.2 LLC header after it;
 * PlantGuard keys them as LLC_SAP_BASE + their service access point (DSAP = SSAP).
 */
export const LLC_SAP_BASE = 0x10000;

const LLC_SAPS: Readonly<Record<number, string>> = {
  0x42: 'stp',
  0x82: 'bacnet',
  0xaa: 'snap',
  0xe0: 'ipx',
  0xf0: 'netbios',
  0xfe: 'osi',
};

export function etherTypeName(et: number): string {
  if (et === 0) return 'llc';
  if (et >= LLC_SAP_BASE)
    return LLC_SAPS[et - LLC_SAP_BASE] ?? `llc-sap-0x${(et - LLC_SAP_BASE).toString(16).padStart(2, '0')}`;
  return NAMES[et] ?? `ethertype-0x${et.toString(16).padStart(4, '0')}`;
}

const IP_PROTOCOLS: Readonly<Record<number, string>> = {
  1: 'icmp',
  2: 'igmp',
  4: 'ipip',
  6: 'tcp',
  8: 'egp',
  17: 'udp',
  41: 'ipv6-in-ipv4',
  46: 'rsvp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'icmpv6',
  88: 'eigrp',
  89: 'ospf',
  103: 'pim',
  112: 'vrrp',
  115: 'l2tp',
  132: 'sctp',
};

export function ipProtocolName(p: number): string {
  return IP_PROTOCOLS[p] ?? `ip-proto-${p}`;
}
