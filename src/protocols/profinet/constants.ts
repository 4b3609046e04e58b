// Profinet names and ranges: frame ids (IEC 61158-6-10 §4.2.3.4 FrameID), DCP services, options and
// suboptions (IEC 61158-6-10 §4.3.1.3), alarm (RTA) PDU types and alarm types (§5.2.x), vendor ids.

import type { AccessClass } from '../_core/types.ts';

/** Ethertype of Profinet real-time frames (RT, DCP, alarms, PTCP). */
export const PROFINET_ETHERTYPE = 0x8892;

/** Frame ids with a fixed meaning. */
export const FRAME_ID = {
  alarmHigh: 0xfc01,
  alarmLow: 0xfe01,
  dcpHello: 0xfefc,
  dcpGetSet: 0xfefd,
  dcpIdentifyRequest: 0xfefe,
  dcpIdentifyResponse: 0xfeff,
} as const;

/** What a frame id stands for (IEC 61158-6-10 Table "FrameID"). */
export type FrameKind =
  | 'dcp'
  | 'cyclic'
  | 'alarm'
  | 'ptcp'
  | 'fragment'
  /** Reserved or unassigned ranges (including acyclic ids other than the two alarm ids). */
  | 'reserved';

export function frameKind(frameId: number): FrameKind {
  if (frameId >= 0x0100 && frameId <= 0xfbff) return 'cyclic';
  if (frameId >= FRAME_ID.dcpHello && frameId <= FRAME_ID.dcpIdentifyResponse) return 'dcp';
  if (frameId === FRAME_ID.alarmHigh || frameId === FRAME_ID.alarmLow) return 'alarm';
  if (frameId >= 0xff00 && frameId <= 0xff43) return 'ptcp';
  // RTSync PDUs of RT_CLASS_3 synchronisation (with and without follow-up) are PTCP as well.
  if (frameId === 0x0020 || frameId === 0x0021 || frameId === 0x0080 || frameId === 0x0081) return 'ptcp';
  if (frameId >= 0xff80 && frameId <= 0xff8f) return 'fragment';
  return 'reserved';
}

/**
 * Real-time class of a cyclic frame id: 0x0100–0x7FFF RT_CLASS_3 (IRT), 0x8000–0xBFFF RT_CLASS_2,
 * 0xC000–0xFBFF RT_CLASS_1 (0xF800 up: multicast).
 */
export function rtClassName(frameId: number): string {
  if (frameId < 0x8000) return 'rt_class_3';
  if (frameId < 0xc000) return 'rt_class_2';
  return 'rt_class_1';
}

/** PTCP frame names (IEC 61158-6-10 §4.11, PTCP FrameIDs). */
export function ptcpName(frameId: number): string {
  if (frameId === 0x0020 || frameId === 0x0080) return 'rt_sync_fu';
  if (frameId === 0x0021 || frameId === 0x0081) return 'rt_sync';
  if (frameId <= 0xff01) return 'announce';
  if (frameId >= 0xff20 && frameId <= 0xff21) return 'follow_up';
  if (frameId === 0xff40) return 'delay_req';
  if (frameId === 0xff41) return 'delay_fu_res';
  if (frameId === 0xff42) return 'delay_fu';
  if (frameId === 0xff43) return 'delay_res';
  return 'ptcp';
}

/** DCP ServiceID. */
export const DCP_SERVICE = { get: 3, set: 4, identify: 5, hello: 6 } as const;

export const DCP_SERVICE_NAMES: Readonly<Record<number, string>> = {
  3: 'get',
  4: 'set',
  5: 'identify',
  6: 'hello',
};

/** DCP ServiceType: request, response success, response "request not supported". */
export const DCP_SERVICE_TYPE = { request: 0, responseSuccess: 1, responseUnsupported: 5 } as const;

export const DCP_SERVICE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'request',
  1: 'response_success',
  5: 'response_unsupported',
};

export const DCP_OPTION = {
  ip: 1,
  device: 2,
  dhcp: 3,
  lldp: 4,
  control: 5,
  deviceInitiative: 6,
  nme: 7,
  all: 0xff,
} as const;

export const DCP_CONTROL = {
  startTransaction: 1,
  endTransaction: 2,
  signal: 3,
  response: 4,
  factoryReset: 5,
  resetToFactory: 6,
} as const;

const OPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'ip',
  2: 'device',
  3: 'dhcp',
  4: 'lldp',
  5: 'control',
  6: 'device_initiative',
  7: 'nme_domain',
  0xff: 'all',
};

const SUBOPTION_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  1: { 1: 'mac_address', 2: 'ip_parameter', 3: 'full_ip_suite' },
  2: {
    1: 'type_of_station',
    2: 'name_of_station',
    3: 'device_id',
    4: 'device_role',
    5: 'device_options',
    6: 'alias_name',
    7: 'device_instance',
    8: 'oem_device_id',
    9: 'standard_gateway',
    10: 'rsi_properties',
  },
  5: {
    1: 'start_transaction',
    2: 'end_transaction',
    3: 'signal',
    4: 'response',
    5: 'factory_reset',
    6: 'reset_to_factory',
  },
  6: { 1: 'device_initiative' },
  0xff: { 0xff: 'all' },
};

/** DHCP suboptions are DHCP option numbers (RFC 2132) as listed by IEC 61158-6-10. */
const DHCP_SUBOPTION_NAMES: Readonly<Record<number, string>> = {
  12: 'dhcp_host_name',
  43: 'dhcp_vendor_specific',
  54: 'dhcp_server_identifier',
  55: 'dhcp_parameter_request_list',
  60: 'dhcp_class_identifier',
  61: 'dhcp_client_identifier',
  81: 'dhcp_fqdn',
  97: 'dhcp_uuid_client_identifier',
  255: 'dhcp_control',
};

/** snake_case name of an option/suboption pair, e.g. `ip_parameter`, `name_of_station`. */
export function blockName(option: number, suboption: number): string {
  if (option === DCP_OPTION.dhcp) return DHCP_SUBOPTION_NAMES[suboption] ?? `dhcp_${suboption}`;
  const known = SUBOPTION_NAMES[option]?.[suboption];
  if (known !== undefined) return known;
  if (option >= 0x80 && option <= 0xfe) return `manufacturer_0x${hex2(option)}_0x${hex2(suboption)}`;
  return `${OPTION_NAMES[option] ?? `option_${option}`}_${suboption}`;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** BlockError of a Control/Response block (IEC 61158-6-10, DCP BlockError). */
export const BLOCK_ERROR_NAMES: Readonly<Record<number, string>> = {
  0: 'ok',
  1: 'option_not_supported',
  2: 'suboption_not_supported',
  3: 'suboption_not_set',
  4: 'resource_error',
  5: 'set_not_possible_local_reasons',
  6: 'set_not_possible_application_operation',
};

/** DeviceRoleDetails bits of the Device Role block. */
export const DEVICE_ROLES: ReadonlyArray<readonly [number, string]> = [
  [0x01, 'io_device'],
  [0x02, 'io_controller'],
  [0x04, 'io_multidevice'],
  [0x08, 'io_supervisor'],
];

export function deviceRoleNames(bits: number): string[] {
  const out: string[] = [];
  for (const [bit, name] of DEVICE_ROLES) if ((bits & bit) !== 0) out.push(name);
  return out;
}

/** BlockInfo of an IP parameter block in responses: low bits say how the address was set; 0x80 conflict. */
export function ipBlockInfoName(info: number): string {
  const how = info & 0x7f;
  const base = how === 0 ? 'ip_not_set' : how === 1 ? 'ip_set' : how === 2 ? 'ip_set_by_dhcp' : `ip_info_${how}`;
  return (info & 0x80) !== 0 ? `${base},ip_conflict` : base;
}

/** RTA PDU types of alarm frames (IEC 61158-6-10, RTA-PDU "PDUType.Type"). */
export const RTA_PDU_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'data',
  2: 'nack',
  3: 'ack',
  4: 'err',
};

/** AlarmType of an AlarmNotification block (IEC 61158-6-10, AlarmType). */
export const ALARM_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x0001: 'diagnosis',
  0x0002: 'process',
  0x0003: 'pull',
  0x0004: 'plug',
  0x0005: 'status',
  0x0006: 'update',
  0x0007: 'redundancy',
  0x0008: 'controlled_by_supervisor',
  0x0009: 'released',
  0x000a: 'plug_wrong_submodule',
  0x000b: 'return_of_submodule',
  0x000c: 'diagnosis_disappears',
  0x000d: 'multicast_communication_mismatch',
  0x000e: 'port_data_change_notification',
  0x000f: 'sync_data_changed',
  0x0010: 'isochronous_mode_problem',
  0x0011: 'network_component_problem',
  0x0012: 'time_data_changed',
  0x0013: 'dynamic_frame_packing_problem',
  0x0014: 'mrpd_problem',
  0x0016: 'multiple_interface_mismatch',
  0x001e: 'upload_and_retrieval',
  0x001f: 'pull_module',
};

export function alarmTypeName(t: number): string {
  return ALARM_TYPE_NAMES[t] ?? `alarm_type_0x${t.toString(16).padStart(4, '0')}`;
}

/**
 * Profinet vendor ids (assigned by PI; the full table is https://www.profibus.com/IM/Man_ID_Table.xml,
 * which is not redistributed here). Only entries with a public source are listed:
 * - 0x002a Siemens: Siemens SIPROTEC 4 PROFINET IO manual C53000-L1840-C360-1 §2.2 ("0x002a (Siemens AG)").
 * - 0x005d Pepperl+Fuchs: ICE1-8IOL-S2-G60L-V1D manual §5.2.9 (I&M0 MANUFACTURER_ID 0x005D).
 * - 0x00b0 Phoenix Contact: the PlantGuard brief; Phoenix Contact GSDML files use VendorID 0x00B0.
 * - 0x010c HMS Industrial Networks: GSDML-V2.34-PNET-ANYBUS (OpenCommissioning/OC_ProfinetDeviceIds).
 * - 0x011d WAGO: WAGO 750-657 manual §11.3.3 (I&M0 Manufacturer ID 011D hex).
 * - 0x0136 ifm electronic: ifm AC1403 manual (I&M0 MANUFACTURER_ID 310).
 * - 0x015a GE Intelligent Platforms: observed in profinet-mixed-dcp-rt-lldp.pcap, a VersaMax
 *   IC200PNS001 behind an "Intelligent Platforms" MAC (00:09:91).
 * - 0x0426 Micro-Epsilon: optoNCDT 1900 PROFINET manual (I&M0 Manufacturer ID 0x0426).
 */
export const PROFINET_VENDORS: ReadonlyMap<number, string> = new Map([
  [0x002a, 'Siemens'],
  [0x005d, 'Pepperl+Fuchs'],
  [0x00b0, 'Phoenix Contact'],
  [0x010c, 'HMS Industrial Networks'],
  [0x011d, 'WAGO'],
  [0x0136, 'ifm electronic'],
  [0x015a, 'GE Intelligent Platforms'],
  [0x0426, 'Micro-Epsilon'],
]);

/** Operation names and access classes (DESIGN.md, Operation). */
export interface OperationInfo {
  readonly name: string;
  readonly access: AccessClass;
}

export const OPERATIONS = {
  identify: { name: 'profinet.dcp_identify', access: 'discovery' },
  hello: { name: 'profinet.dcp_hello', access: 'discovery' },
  get: { name: 'profinet.dcp_get', access: 'read' },
  set: { name: 'profinet.dcp_set', access: 'write' },
  signal: { name: 'profinet.dcp_signal', access: 'control' },
  factoryReset: { name: 'profinet.dcp_factory_reset', access: 'control' },
  resetToFactory: { name: 'profinet.dcp_reset_to_factory', access: 'control' },
  cyclic: { name: 'profinet.cyclic_data', access: 'read' },
  alarm: { name: 'profinet.alarm', access: 'other' },
  alarmAck: { name: 'profinet.alarm_ack', access: 'other' },
  ptcp: { name: 'profinet.ptcp', access: 'diagnostic' },
  fragment: { name: 'profinet.fragment', access: 'other' },
} as const satisfies Record<string, OperationInfo>;

/** Bounds: blocks per DCP PDU, text bytes kept per block (NameOfStation is at most 240). */
export const MAX_DCP_BLOCKS = 64;
export const MAX_TEXT = 240;
