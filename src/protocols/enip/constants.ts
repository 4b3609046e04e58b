// EtherNet/IP and CIP names and classes: encapsulation commands and status (CIP Vol 2 §2-3, §2-4),
// common packet format item types (Vol 2 §2-6), CIP services (Vol 1 Appendix A), general status
// codes (Vol 1 Appendix B), device types (Vol 1 §6-1) and the class-specific services used in practice.

import type { AccessClass } from '../_core/types.ts';
import { CIP_VENDOR_NAMES } from './vendors.gen.ts';

/** EtherNet/IP encapsulation port, TCP and UDP (Vol 2 §2-2). */
export const ENIP_PORT = 44818;
/** Class 0/1 implicit (I/O) messaging over UDP (Vol 2 §3-3). */
export const ENIP_IO_PORT = 2222;
/** Encapsulation header: command, length, session handle, status, sender context, options. */
export const ENCAP_HEADER_LENGTH = 24;
/** Largest encapsulated data (Vol 2 §2-3.1: the length field counts at most 65511 bytes). */
export const MAX_ENCAP_DATA = 65_511;
export const MAX_ENCAP_MESSAGE = ENCAP_HEADER_LENGTH + MAX_ENCAP_DATA;
/** Items in one common packet format list; real messages carry 2–4. */
export const MAX_CPF_ITEMS = 16;
/** Services in one Multiple Service Packet kept as operations (the rest are counted, not kept). */
export const MAX_MSP_SERVICES = 64;
/** Nesting of Unconnected Send / Multiple Service Packet followed before giving up. */
export const MAX_CIP_DEPTH = 4;
/** Set in a CIP response's service code (Vol 1 §2-4.2). */
export const RESPONSE_BIT = 0x80;

export const COMMAND = {
  nop: 0x0000,
  listServices: 0x0004,
  listIdentity: 0x0063,
  listInterfaces: 0x0064,
  registerSession: 0x0065,
  unregisterSession: 0x0066,
  sendRRData: 0x006f,
  sendUnitData: 0x0070,
  indicateStatus: 0x0072,
  cancel: 0x0073,
  startDtls: 0x00c8,
} as const;

export interface CommandInfo {
  readonly code: number;
  readonly name: string;
  /** `enip.<name>`, precomputed for operation events. */
  readonly operation: string;
  readonly access: AccessClass;
  /** A reply is expected (NOP, UnRegisterSession, IndicateStatus and Cancel get none). */
  readonly replied: boolean;
}

function command(code: number, name: string, access: AccessClass, replied: boolean): CommandInfo {
  return Object.freeze({ code, name, operation: `enip.${name}`, access, replied });
}

const COMMANDS: readonly CommandInfo[] = [
  command(COMMAND.nop, 'nop', 'other', false),
  // 0x0001–0x0003 are reserved for legacy Rockwell use; RSLinx still sends 0x0001 and devices
  // answer it with status 0x0001 (invalid command), so the framer must accept them.
  command(0x0001, 'command_0x0001', 'other', true),
  command(0x0002, 'command_0x0002', 'other', true),
  command(0x0003, 'command_0x0003', 'other', true),
  command(COMMAND.listServices, 'list_services', 'discovery', true),
  command(COMMAND.listIdentity, 'list_identity', 'discovery', true),
  command(COMMAND.listInterfaces, 'list_interfaces', 'discovery', true),
  command(COMMAND.registerSession, 'register_session', 'other', true),
  command(COMMAND.unregisterSession, 'unregister_session', 'other', false),
  command(COMMAND.sendRRData, 'send_rr_data', 'other', true),
  command(COMMAND.sendUnitData, 'send_unit_data', 'other', false),
  command(COMMAND.indicateStatus, 'indicate_status', 'other', false),
  command(COMMAND.cancel, 'cancel', 'other', false),
  command(COMMAND.startDtls, 'start_dtls', 'other', true),
];

/** Indexed by command 0..255; undefined for codes that are not encapsulation commands. */
const COMMAND_BY_CODE: readonly (CommandInfo | undefined)[] = Array.from({ length: 256 }, (_, c) =>
  COMMANDS.find((x) => x.code === c),
);

/** The encapsulation command with this code, or undefined (the framer then rejects the header). */
export function commandInfo(code: number): CommandInfo | undefined {
  return code < 256 ? COMMAND_BY_CODE[code] : undefined;
}

/** Encapsulation status codes (Vol 2 Table 2-3.3). */
export const ENCAP_STATUS_NAMES: Readonly<Record<number, string>> = {
  0x0000: 'success',
  0x0001: 'invalid_command',
  0x0002: 'insufficient_memory',
  0x0003: 'incorrect_data',
  0x0064: 'invalid_session_handle',
  0x0065: 'invalid_length',
  0x0069: 'unsupported_protocol_version',
  0x006a: 'encapsulated_cip_service_not_allowed',
};

/** Common packet format item type ids (Vol 2 Table 2-6.3). */
export const CPF = {
  nullAddress: 0x0000,
  listIdentity: 0x000c,
  connectedAddress: 0x00a1,
  connectedData: 0x00b1,
  unconnectedData: 0x00b2,
  listServices: 0x0100,
  sockaddrOT: 0x8000,
  sockaddrTO: 0x8001,
  sequencedAddress: 0x8002,
  unconnectedMessageUdp: 0x8003,
} as const;

/** CIP object classes PlantGuard treats specially. */
export const CLASS = {
  identity: 0x01,
  messageRouter: 0x02,
  assembly: 0x04,
  connectionManager: 0x06,
  file: 0x37,
  pccc: 0x67,
  symbol: 0x6b,
  template: 0x6c,
  /** Rockwell Nonvolatile Storage object: ControlFLASH firmware updates. */
  nvs: 0xa1,
  tcpIp: 0xf5,
} as const;

/** Common service codes (Vol 1 Appendix A, Table ). */
export const SERVICE = {
  getAttributesAll: 0x01,
  setAttributesAll: 0x02,
  getAttributeList: 0x03,
  setAttributeList: 0x04,
  reset: 0x05,
  start: 0x06,
  stop: 0x07,
  create: 0x08,
  delete: 0x09,
  multipleServicePacket: 0x0a,
  applyAttributes: 0x0d,
  getAttributeSingle: 0x0e,
  setAttributeSingle: 0x10,
  findNextObjectInstance: 0x11,
  restore: 0x15,
  save: 0x16,
  nop: 0x17,
  getMember: 0x18,
  setMember: 0x19,
  insertMember: 0x1a,
  removeMember: 0x1b,
  groupSync: 0x1c,
  // Connection Manager (Vol 1 §3-5.5)
  forwardClose: 0x4e,
  unconnectedSend: 0x52,
  forwardOpen: 0x54,
  getConnectionData: 0x56,
  searchConnectionData: 0x57,
  getConnectionOwner: 0x5a,
  largeForwardOpen: 0x5b,
  // Logix controllers (Rockwell 1756-PM020, "Logix 5000 Data Access")
  readTag: 0x4c,
  writeTag: 0x4d,
  readModifyWriteTag: 0x4e,
  readTagFragmented: 0x52,
  writeTagFragmented: 0x53,
  getInstanceAttributeList: 0x55,
} as const;

export interface ServiceInfo {
  readonly service: number;
  /** snake_case name without the protocol prefix. */
  readonly name: string;
  /** `cip.<name>`. */
  readonly operation: string;
  readonly access: AccessClass;
}

function svc(service: number, name: string, access: AccessClass): ServiceInfo {
  return Object.freeze({ service, name, operation: `cip.${name}`, access });
}

const COMMON_SERVICES: readonly ServiceInfo[] = [
  svc(0x01, 'get_attributes_all', 'read'),
  svc(0x02, 'set_attributes_all', 'write'),
  svc(0x03, 'get_attribute_list', 'read'),
  svc(0x04, 'set_attribute_list', 'write'),
  svc(0x05, 'reset', 'control'),
  svc(0x06, 'start', 'control'),
  svc(0x07, 'stop', 'control'),
  svc(0x08, 'create', 'write'),
  svc(0x09, 'delete', 'write'),
  svc(0x0a, 'multiple_service_packet', 'other'),
  svc(0x0d, 'apply_attributes', 'write'),
  svc(0x0e, 'get_attribute_single', 'read'),
  svc(0x10, 'set_attribute_single', 'write'),
  svc(0x11, 'find_next_object_instance', 'read'),
  svc(0x14, 'error_response', 'other'),
  svc(0x15, 'restore', 'write'),
  svc(0x16, 'save', 'write'),
  svc(0x17, 'nop', 'other'),
  svc(0x18, 'get_member', 'read'),
  svc(0x19, 'set_member', 'write'),
  svc(0x1a, 'insert_member', 'write'),
  svc(0x1b, 'remove_member', 'write'),
  svc(0x1c, 'group_sync', 'other'),
  svc(0x1d, 'get_connection_point_member_list', 'read'),
];

const CONNECTION_MANAGER_SERVICES: readonly ServiceInfo[] = [
  svc(0x4e, 'forward_close', 'other'),
  svc(0x52, 'unconnected_send', 'other'),
  svc(0x54, 'forward_open', 'other'),
  svc(0x56, 'get_connection_data', 'read'),
  svc(0x57, 'search_connection_data', 'read'),
  svc(0x5a, 'get_connection_owner', 'read'),
  svc(0x5b, 'large_forward_open', 'other'),
];

/** Logix tag services, on the Symbol class (0x6B) or a symbolic (tag name) path. */
const LOGIX_SERVICES: readonly ServiceInfo[] = [
  svc(0x4c, 'read_tag', 'read'),
  svc(0x4d, 'write_tag', 'write'),
  svc(0x4e, 'read_modify_write_tag', 'write'),
  svc(0x52, 'read_tag_fragmented', 'read'),
  svc(0x53, 'write_tag_fragmented', 'write'),
  svc(0x55, 'get_instance_attribute_list', 'read'),
];

/** Logix Template object (0x6C): the structure definitions tags refer to. */
const TEMPLATE_SERVICES: readonly ServiceInfo[] = [svc(0x4c, 'read_template', 'read')];

/** File object (Vol 1 §5-42.4): every service on class 0x37 is file access. */
const FILE_SERVICES: readonly ServiceInfo[] = [
  svc(0x4b, 'initiate_upload', 'file'),
  svc(0x4c, 'initiate_download', 'file'),
  svc(0x4d, 'initiate_partial_read', 'file'),
  svc(0x4e, 'initiate_partial_write', 'file'),
  svc(0x4f, 'upload_transfer', 'file'),
  svc(0x50, 'download_transfer', 'file'),
  svc(0x51, 'clear_file', 'file'),
];

/** PCCC object (0x67): legacy PLC-5/SLC commands tunnelled in CIP. */
const PCCC_SERVICES: readonly ServiceInfo[] = [svc(0x4b, 'execute_pccc', 'other')];

/** Rockwell Nonvolatile Storage object (0xA1): firmware update (ControlFLASH). */
const NVS_SERVICES: readonly ServiceInfo[] = [svc(0x4b, 'nvs_update', 'program'), svc(0x4d, 'nvs_transfer', 'program')];

function table(list: readonly ServiceInfo[]): readonly (ServiceInfo | undefined)[] {
  return Array.from({ length: 128 }, (_, s) => list.find((x) => x.service === s));
}

const COMMON_BY_CODE = table(COMMON_SERVICES);
const CM_BY_CODE = table(CONNECTION_MANAGER_SERVICES);
const LOGIX_BY_CODE = table(LOGIX_SERVICES);
const TEMPLATE_BY_CODE = table(TEMPLATE_SERVICES);
const FILE_BY_CODE = table(FILE_SERVICES);
const PCCC_BY_CODE = table(PCCC_SERVICES);
const NVS_BY_CODE = table(NVS_SERVICES);
/** Services without a name for their class: `service_0x4c`, access 'other' (or the class's access). */
const UNKNOWN: readonly ServiceInfo[] = Array.from({ length: 128 }, (_, s) =>
  svc(s, `service_0x${s.toString(16).padStart(2, '0')}`, 'other'),
);
/** On the File object every service, common ones included, is file access. */
const FILE_COMMON: readonly (ServiceInfo | undefined)[] = COMMON_BY_CODE.map((c) =>
  c === undefined ? undefined : svc(c.service, c.name, 'file'),
);
const UNKNOWN_FILE: readonly ServiceInfo[] = UNKNOWN.map((u) => svc(u.service, u.name, 'file'));
const UNKNOWN_PROGRAM: readonly ServiceInfo[] = UNKNOWN.map((u) => svc(u.service, u.name, 'program'));

/**
 * Name and access class of a request service (response bit ignored) addressed to `classId` (-1 when
 * the path names no class); `symbolic` when the path is a tag name (Logix symbolic addressing).
 * Codes 0x01–0x31 are common services; 0x32–0x4A are reserved; 0x4B–0x63 are class specific.
 */
export function serviceInfo(service: number, classId: number, symbolic: boolean): ServiceInfo {
  const s = service & 0x7f;
  if (classId === CLASS.file) return FILE_BY_CODE[s] ?? FILE_COMMON[s] ?? UNKNOWN_FILE[s]!;
  if (classId === CLASS.nvs) return NVS_BY_CODE[s] ?? COMMON_BY_CODE[s] ?? UNKNOWN_PROGRAM[s]!;
  const common = COMMON_BY_CODE[s];
  if (common !== undefined) return common;
  if (classId === CLASS.connectionManager) return CM_BY_CODE[s] ?? UNKNOWN[s]!;
  if (classId === CLASS.symbol || (symbolic && classId < 0)) return LOGIX_BY_CODE[s] ?? UNKNOWN[s]!;
  if (classId === CLASS.template) return TEMPLATE_BY_CODE[s] ?? UNKNOWN[s]!;
  if (classId === CLASS.pccc) return PCCC_BY_CODE[s] ?? UNKNOWN[s]!;
  return UNKNOWN[s]!;
}

/** `class_0x6b`: the address space of an operation on a class. */
const CLASS_SPACE: string[] = [];
export function classSpace(classId: number): string {
  if (classId >= 0 && classId < 0x400) {
    return (CLASS_SPACE[classId] ??= `class_0x${classId.toString(16).padStart(2, '0')}`);
  }
  return `class_0x${classId.toString(16).padStart(2, '0')}`;
}

/** General status codes (Vol 1 Appendix B-1). 0x06 (partial transfer) is not an error. */
export const GENERAL_STATUS_NAMES: Readonly<Record<number, string>> = {
  0x00: 'success',
  0x01: 'connection_failure',
  0x02: 'resource_unavailable',
  0x03: 'invalid_parameter_value',
  0x04: 'path_segment_error',
  0x05: 'path_destination_unknown',
  0x06: 'partial_transfer',
  0x07: 'connection_lost',
  0x08: 'service_not_supported',
  0x09: 'invalid_attribute_value',
  0x0a: 'attribute_list_error',
  0x0b: 'already_in_requested_mode',
  0x0c: 'object_state_conflict',
  0x0d: 'object_already_exists',
  0x0e: 'attribute_not_settable',
  0x0f: 'privilege_violation',
  0x10: 'device_state_conflict',
  0x11: 'reply_data_too_large',
  0x12: 'fragmentation_of_a_primitive_value',
  0x13: 'not_enough_data',
  0x14: 'attribute_not_supported',
  0x15: 'too_much_data',
  0x16: 'object_does_not_exist',
  0x17: 'service_fragmentation_sequence_not_in_progress',
  0x18: 'no_stored_attribute_data',
  0x19: 'store_operation_failure',
  0x1a: 'routing_failure_request_too_large',
  0x1b: 'routing_failure_response_too_large',
  0x1c: 'missing_attribute_list_entry_data',
  0x1d: 'invalid_attribute_value_list',
  0x1e: 'embedded_service_error',
  0x1f: 'vendor_specific_error',
  0x20: 'invalid_parameter',
  0x21: 'write_once_value_already_written',
  0x22: 'invalid_reply_received',
  0x23: 'buffer_overflow',
  0x24: 'message_format_error',
  0x25: 'key_failure_in_path',
  0x26: 'path_size_invalid',
  0x27: 'unexpected_attribute_in_list',
  0x28: 'invalid_member_id',
  0x29: 'member_not_settable',
  0x2a: 'group_2_only_server_general_failure',
  0x2b: 'unknown_modbus_error',
  0x2c: 'attribute_not_gettable',
};

export function generalStatusName(code: number): string {
  return GENERAL_STATUS_NAMES[code] ?? `status_0x${code.toString(16).padStart(2, '0')}`;
}

/** A general status that means the service failed (0x00 success and 0x06 partial transfer do not). */
export function isErrorStatus(code: number): boolean {
  return code !== 0x00 && code !== 0x06;
}

/** Device types of the Identity object (Vol 1 Table 6-7.1, device profiles). */
export const DEVICE_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x00: 'Generic Device (deprecated)',
  0x02: 'AC Drive',
  0x03: 'Motor Overload',
  0x04: 'Limit Switch',
  0x05: 'Inductive Proximity Switch',
  0x06: 'Photoelectric Sensor',
  0x07: 'General Purpose Discrete I/O',
  0x09: 'Resolver',
  0x0c: 'Communications Adapter',
  0x0e: 'Programmable Logic Controller',
  0x10: 'Position Controller',
  0x13: 'DC Drive',
  0x15: 'Contactor',
  0x16: 'Motor Starter',
  0x17: 'Soft Start',
  0x18: 'Human-Machine Interface',
  0x1a: 'Mass Flow Controller',
  0x1b: 'Pneumatic Valve',
  0x1c: 'Vacuum Pressure Gauge',
  0x1d: 'Process Control Value',
  0x1e: 'Residual Gas Analyzer',
  0x1f: 'DC Power Generator',
  0x20: 'RF Power Generator',
  0x21: 'Turbomolecular Vacuum Pump',
  0x22: 'Encoder',
  0x23: 'Safety Discrete I/O Device',
  0x24: 'Fluid Flow Controller',
  0x25: 'CIP Motion Drive',
  0x26: 'CompoNet Repeater',
  0x27: 'Mass Flow Controller, Enhanced',
  0x28: 'CIP Modbus Device',
  0x29: 'CIP Modbus Translator',
  0x2a: 'Safety Analog I/O Device',
  0x2b: 'Generic Device (keyable)',
  0x2c: 'Managed Ethernet Switch',
  0x2d: 'CIP Motion Safety Drive Device',
  0x2e: 'Safety Drive Device',
  0x2f: 'CIP Motion Encoder',
  0x30: 'CIP Motion Converter',
  0x31: 'CIP Motion I/O',
  0x32: 'ControlNet Physical Layer Component',
  0x33: 'Circuit Breaker',
  0x34: 'HART Device',
  0x35: 'CIP-HART Translator',
  0xc8: 'Embedded Component',
};

export function deviceTypeName(code: number): string {
  return DEVICE_TYPE_NAMES[code] ?? `device_type_0x${code.toString(16).padStart(2, '0')}`;
}

/** The registered name of a CIP vendor id, or undefined for ids without one. */
export function cipVendorName(id: number): string | undefined {
  return CIP_VENDOR_NAMES.get(id);
}

/** Identity object state attribute (Vol 1 Table 5-2.3, attribute 8). */
export const IDENTITY_STATE_NAMES: Readonly<Record<number, string>> = {
  0: 'nonexistent',
  1: 'device_self_testing',
  2: 'standby',
  3: 'operational',
  4: 'major_recoverable_fault',
  5: 'major_unrecoverable_fault',
  255: 'default',
};

/** Logix atomic data type codes (1756-PM020 "CIP Data Types") and their sizes in bytes. */
export const LOGIX_TYPE = {
  bool: 0xc1,
  sint: 0xc2,
  int: 0xc3,
  dint: 0xc4,
  lint: 0xc5,
  usint: 0xc6,
  uint: 0xc7,
  udint: 0xc8,
  ulint: 0xc9,
  real: 0xca,
  lreal: 0xcb,
  /** A structure: a 16-bit structure handle follows the type code. */
  struct: 0x02a0,
} as const;
