// BACnet/IP names and classes: BVLC functions (ANSI/ASHRAE 135-2020 Annex J.2), network layer
// message types (§6.2.4), APDU types (§20.1), confirmed and unconfirmed services (§21, BACnet-
// ConfirmedServiceChoice / BACnetUnconfirmedServiceChoice), reject and abort reasons, segmentation.

import type { AccessClass } from '../_core/types.ts';
import { BACNET_VENDOR_NAMES, OBJECT_TYPE_NAMES, PROPERTY_NAMES } from './tables.gen.ts';

/** BACnet/IP UDP ports: 47808 (0xBAC0) and the next one, used by a second B/IP network on a host. */
export const BACNET_PORTS = [47808, 47809] as const;
/** BVLC type octet of BACnet/IP (Annex J); 0x82 is BACnet/IPv6 (Annex U). */
export const BVLC_TYPE_IP = 0x81;
export const BVLC_TYPE_IPV6 = 0x82;
export const BVLC_HEADER_LENGTH = 4;
/** Largest BVLL: UDP payload bound (a B/IP APDU is at most 1476 bytes; 1497 with headers). */
export const MAX_BVLL_LENGTH = 65_507;

export const BVLC = {
  result: 0x00,
  writeBdt: 0x01,
  readBdt: 0x02,
  readBdtAck: 0x03,
  forwardedNpdu: 0x04,
  registerForeignDevice: 0x05,
  readFdt: 0x06,
  readFdtAck: 0x07,
  deleteFdtEntry: 0x08,
  distributeBroadcastToNetwork: 0x09,
  originalUnicastNpdu: 0x0a,
  originalBroadcastNpdu: 0x0b,
  secureBvll: 0x0c,
} as const;

export interface BvlcInfo {
  readonly code: number;
  readonly name: string;
  /** `bacnet.<name>` for the BVLC functions that are requests of their own (BBMD management). */
  readonly operation: string;
  readonly access: AccessClass;
  /** The function carries an NPDU. */
  readonly npdu: boolean;
  /** The function is a request answered by a BVLC-Result (or an ...-Ack). */
  readonly request: boolean;
}

function bvlc(code: number, name: string, access: AccessClass, npdu: boolean, request: boolean): BvlcInfo {
  return Object.freeze({ code, name, operation: `bacnet.${name}`, access, npdu, request });
}

const BVLC_FUNCTIONS: readonly BvlcInfo[] = [
  bvlc(0x00, 'bvlc_result', 'other', false, false),
  bvlc(0x01, 'write_broadcast_distribution_table', 'write', false, true),
  bvlc(0x02, 'read_broadcast_distribution_table', 'read', false, true),
  bvlc(0x03, 'read_broadcast_distribution_table_ack', 'read', false, false),
  bvlc(0x04, 'forwarded_npdu', 'other', true, false),
  bvlc(0x05, 'register_foreign_device', 'other', false, true),
  bvlc(0x06, 'read_foreign_device_table', 'read', false, true),
  bvlc(0x07, 'read_foreign_device_table_ack', 'read', false, false),
  bvlc(0x08, 'delete_foreign_device_table_entry', 'write', false, true),
  bvlc(0x09, 'distribute_broadcast_to_network', 'other', true, false),
  bvlc(0x0a, 'original_unicast_npdu', 'other', true, false),
  bvlc(0x0b, 'original_broadcast_npdu', 'other', true, false),
  bvlc(0x0c, 'secure_bvll', 'other', false, false),
];

export function bvlcInfo(fn: number): BvlcInfo | undefined {
  return fn < BVLC_FUNCTIONS.length ? BVLC_FUNCTIONS[fn] : undefined;
}

/** BVLC-Result codes (Annex J.2.1.1). */
export const BVLC_RESULT_NAMES: Readonly<Record<number, string>> = {
  0x0000: 'successful_completion',
  0x0010: 'write_broadcast_distribution_table_nak',
  0x0020: 'read_broadcast_distribution_table_nak',
  0x0030: 'register_foreign_device_nak',
  0x0040: 'read_foreign_device_table_nak',
  0x0050: 'delete_foreign_device_table_entry_nak',
  0x0060: 'distribute_broadcast_to_network_nak',
};

/** NPCI control octet bits (§6.2.2). */
export const NPCI = {
  networkMessage: 0x80,
  destination: 0x20,
  source: 0x08,
  expectingReply: 0x04,
  priority: 0x03,
} as const;

export interface NetworkMessageInfo {
  readonly code: number;
  readonly name: string;
  readonly operation: string;
  readonly access: AccessClass;
}

function netmsg(code: number, name: string, access: AccessClass): NetworkMessageInfo {
  return Object.freeze({ code, name, operation: `bacnet.${name}`, access });
}

/** Network layer message types (§6.2.4); 0x80–0xFF are proprietary. */
const NETWORK_MESSAGES: readonly NetworkMessageInfo[] = [
  netmsg(0x00, 'who_is_router_to_network', 'discovery'),
  netmsg(0x01, 'i_am_router_to_network', 'discovery'),
  netmsg(0x02, 'i_could_be_router_to_network', 'discovery'),
  netmsg(0x03, 'reject_message_to_network', 'other'),
  netmsg(0x04, 'router_busy_to_network', 'other'),
  netmsg(0x05, 'router_available_to_network', 'other'),
  netmsg(0x06, 'initialize_routing_table', 'write'),
  netmsg(0x07, 'initialize_routing_table_ack', 'other'),
  netmsg(0x08, 'establish_connection_to_network', 'other'),
  netmsg(0x09, 'disconnect_connection_to_network', 'other'),
  netmsg(0x0a, 'challenge_request', 'other'),
  netmsg(0x0b, 'security_payload', 'other'),
  netmsg(0x0c, 'security_response', 'other'),
  netmsg(0x0d, 'request_key_update', 'other'),
  netmsg(0x0e, 'update_key_set', 'other'),
  netmsg(0x0f, 'update_distribution_key', 'other'),
  netmsg(0x10, 'request_master_key', 'other'),
  netmsg(0x11, 'set_master_key', 'other'),
  netmsg(0x12, 'what_is_network_number', 'discovery'),
  netmsg(0x13, 'network_number_is', 'discovery'),
];

export function networkMessageInfo(type: number): NetworkMessageInfo {
  return (
    NETWORK_MESSAGES[type] ??
    netmsg(
      type,
      type >= 0x80 ? `proprietary_network_message_0x${hex2(type)}` : `network_message_0x${hex2(type)}`,
      'other',
    )
  );
}

/** APDU types (§20.1.1): the high nibble of the first octet. */
export const APDU = {
  confirmedRequest: 0,
  unconfirmedRequest: 1,
  simpleAck: 2,
  complexAck: 3,
  segmentAck: 4,
  error: 5,
  reject: 6,
  abort: 7,
} as const;

export const APDU_TYPE_NAMES: readonly string[] = [
  'confirmed_request',
  'unconfirmed_request',
  'simple_ack',
  'complex_ack',
  'segment_ack',
  'error',
  'reject',
  'abort',
];

export interface ServiceInfo {
  readonly code: number;
  readonly name: string;
  /** `bacnet.<name>`. */
  readonly operation: string;
  readonly access: AccessClass;
}

function service(code: number, name: string, access: AccessClass): ServiceInfo {
  return Object.freeze({ code, name, operation: `bacnet.${name}`, access });
}

export const CONFIRMED = {
  acknowledgeAlarm: 0,
  confirmedCovNotification: 1,
  confirmedEventNotification: 2,
  subscribeCov: 5,
  atomicReadFile: 6,
  atomicWriteFile: 7,
  createObject: 10,
  deleteObject: 11,
  readProperty: 12,
  readPropertyMultiple: 14,
  writeProperty: 15,
  writePropertyMultiple: 16,
  deviceCommunicationControl: 17,
  confirmedPrivateTransfer: 18,
  reinitializeDevice: 20,
  readRange: 26,
  subscribeCovProperty: 28,
} as const;

/** BACnetConfirmedServiceChoice (§21), with the access class policy works with. */
const CONFIRMED_SERVICES: readonly ServiceInfo[] = [
  service(0, 'acknowledge_alarm', 'write'),
  service(1, 'confirmed_cov_notification', 'read'),
  service(2, 'confirmed_event_notification', 'other'),
  service(3, 'get_alarm_summary', 'read'),
  service(4, 'get_enrollment_summary', 'read'),
  service(5, 'subscribe_cov', 'read'),
  service(6, 'atomic_read_file', 'file'),
  service(7, 'atomic_write_file', 'file'),
  service(8, 'add_list_element', 'write'),
  service(9, 'remove_list_element', 'write'),
  service(10, 'create_object', 'write'),
  service(11, 'delete_object', 'write'),
  service(12, 'read_property', 'read'),
  service(13, 'read_property_conditional', 'read'),
  service(14, 'read_property_multiple', 'read'),
  service(15, 'write_property', 'write'),
  service(16, 'write_property_multiple', 'write'),
  service(17, 'device_communication_control', 'control'),
  service(18, 'confirmed_private_transfer', 'other'),
  service(19, 'confirmed_text_message', 'other'),
  service(20, 'reinitialize_device', 'control'),
  service(21, 'vt_open', 'other'),
  service(22, 'vt_close', 'other'),
  service(23, 'vt_data', 'other'),
  service(24, 'authenticate', 'other'),
  service(25, 'request_key', 'other'),
  service(26, 'read_range', 'read'),
  service(27, 'life_safety_operation', 'control'),
  service(28, 'subscribe_cov_property', 'read'),
  service(29, 'get_event_information', 'read'),
  service(30, 'subscribe_cov_property_multiple', 'read'),
  service(31, 'confirmed_cov_notification_multiple', 'read'),
  service(32, 'confirmed_audit_notification', 'other'),
  service(33, 'audit_log_query', 'read'),
];

export const UNCONFIRMED = {
  iAm: 0,
  iHave: 1,
  unconfirmedCovNotification: 2,
  unconfirmedPrivateTransfer: 4,
  timeSynchronization: 6,
  whoHas: 7,
  whoIs: 8,
  utcTimeSynchronization: 9,
  writeGroup: 10,
} as const;

/** BACnetUnconfirmedServiceChoice (§21). */
const UNCONFIRMED_SERVICES: readonly ServiceInfo[] = [
  service(0, 'i_am', 'discovery'),
  service(1, 'i_have', 'discovery'),
  service(2, 'unconfirmed_cov_notification', 'read'),
  service(3, 'unconfirmed_event_notification', 'other'),
  service(4, 'unconfirmed_private_transfer', 'other'),
  service(5, 'unconfirmed_text_message', 'other'),
  service(6, 'time_synchronization', 'write'),
  service(7, 'who_has', 'discovery'),
  service(8, 'who_is', 'discovery'),
  service(9, 'utc_time_synchronization', 'write'),
  service(10, 'write_group', 'write'),
  service(11, 'unconfirmed_cov_notification_multiple', 'read'),
  service(12, 'unconfirmed_audit_notification', 'other'),
  service(13, 'who_am_i', 'discovery'),
  service(14, 'you_are', 'write'),
];

const CONFIRMED_BY_CODE: readonly ServiceInfo[] = Array.from(
  { length: 256 },
  (_, c) => CONFIRMED_SERVICES[c] ?? service(c, `confirmed_service_${c}`, 'other'),
);
const UNCONFIRMED_BY_CODE: readonly ServiceInfo[] = Array.from(
  { length: 256 },
  (_, c) => UNCONFIRMED_SERVICES[c] ?? service(c, `unconfirmed_service_${c}`, 'other'),
);

export function confirmedService(code: number): ServiceInfo {
  return CONFIRMED_BY_CODE[code & 0xff]!;
}

export function unconfirmedService(code: number): ServiceInfo {
  return UNCONFIRMED_BY_CODE[code & 0xff]!;
}

/** BACnetSegmentation (§21). */
export const SEGMENTATION_NAMES: readonly string[] = [
  'segmented_both',
  'segmented_transmit',
  'segmented_receive',
  'no_segmentation',
];

/** Max APDU length accepted, as encoded in a confirmed request (§20.1.2.5). */
export const MAX_APDU_SIZES: readonly number[] = [50, 128, 206, 480, 1024, 1476];

/** BACnetRejectReason (§21). */
export const REJECT_REASON_NAMES: readonly string[] = [
  'other',
  'buffer_overflow',
  'inconsistent_parameters',
  'invalid_parameter_data_type',
  'invalid_tag',
  'missing_required_parameter',
  'parameter_out_of_range',
  'too_many_arguments',
  'undefined_enumeration',
  'unrecognized_service',
  'invalid_data_encoding',
];

/** BACnetAbortReason (§21). */
export const ABORT_REASON_NAMES: readonly string[] = [
  'other',
  'buffer_overflow',
  'invalid_apdu_in_this_state',
  'preempted_by_higher_priority_task',
  'segmentation_not_supported',
  'security_error',
  'insufficient_security',
  'window_size_out_of_range',
  'application_exceeded_reply_time',
  'out_of_resources',
  'tsm_timeout',
  'apdu_too_long',
];

/** Object types that matter here by number. */
export const OBJECT_TYPE = { device: 8, file: 10 } as const;

/** Property identifiers read for a device's identity (§12.11). */
export const PROPERTY = {
  all: 8,
  applicationSoftwareVersion: 12,
  description: 28,
  firmwareRevision: 44,
  location: 58,
  modelName: 70,
  objectName: 77,
  presentValue: 85,
  vendorIdentifier: 120,
  vendorName: 121,
  serialNumber: 372,
} as const;

const OBJECT_TYPE_SPACE: string[] = [];
/** snake_case name of an object type (`analog_value`), or `object_type_<n>` (128–1023 are proprietary). */
export function objectTypeName(type: number): string {
  if (type >= 0 && type < 1024) {
    return (OBJECT_TYPE_SPACE[type] ??= OBJECT_TYPE_NAMES.get(type) ?? `object_type_${type}`);
  }
  return `object_type_${type}`;
}

export function propertyName(id: number): string {
  return PROPERTY_NAMES.get(id) ?? `property_${id}`;
}

export function bacnetVendorName(id: number): string | undefined {
  return BACNET_VENDOR_NAMES.get(id);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
