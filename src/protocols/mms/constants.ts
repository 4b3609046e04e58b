// MMS names and classes: PDU choices, confirmed and unconfirmed services (ISO 9506-2 §7 MMSpdu,
// ConfirmedServiceRequest/Response, UnconfirmedService), object classes of GetNameList (§11.2) and
// the error classes of ServiceError (§7.5.2).

import type { AccessClass } from '../_core/types.ts';

/** MMSpdu choices ([n] context tags). */
export const PDU = {
  confirmedRequest: 0,
  confirmedResponse: 1,
  confirmedError: 2,
  unconfirmed: 3,
  reject: 4,
  cancelRequest: 5,
  cancelResponse: 6,
  cancelError: 7,
  initiateRequest: 8,
  initiateResponse: 9,
  initiateError: 10,
  concludeRequest: 11,
  concludeResponse: 12,
  concludeError: 13,
} as const;

export const PDU_KINDS = [
  'confirmed_request',
  'confirmed_response',
  'confirmed_error',
  'unconfirmed',
  'reject',
  'cancel_request',
  'cancel_response',
  'cancel_error',
  'initiate_request',
  'initiate_response',
  'initiate_error',
  'conclude_request',
  'conclude_response',
  'conclude_error',
] as const;

export type MmsPduKind = (typeof PDU_KINDS)[number];

/**
 * Trace codes (`ctx.pdu`): the service tag of a confirmed request (tshark's
 * `mms.confirmedServiceRequest`), of a confirmed response plus 0x100
 * (`mms.confirmedServiceResponse`), of an unconfirmed PDU plus 0x200 (`mms.unconfirmedService`).
 */
export const TRACE_OFFSET = { confirmedRequest: 0, confirmedResponse: 0x100, unconfirmed: 0x200 } as const;

export interface ServiceInfo {
  readonly code: number;
  readonly name: string;
  /** `mms.<name>`. */
  readonly operation: string;
  readonly access: AccessClass;
}

function svc(code: number, name: string, access: AccessClass): ServiceInfo {
  return Object.freeze({ code, name, operation: `mms.${name}`, access });
}

export const SERVICE = { getNameList: 1, identify: 2, read: 4, write: 5 } as const;

const CONFIRMED: readonly ServiceInfo[] = [
  svc(0, 'status', 'diagnostic'),
  svc(1, 'get_name_list', 'discovery'),
  svc(2, 'identify', 'discovery'),
  svc(3, 'rename', 'write'),
  svc(4, 'read', 'read'),
  svc(5, 'write', 'write'),
  svc(6, 'get_variable_access_attributes', 'read'),
  svc(7, 'define_named_variable', 'write'),
  svc(8, 'define_scattered_access', 'write'),
  svc(9, 'get_scattered_access_attributes', 'read'),
  svc(10, 'delete_variable_access', 'write'),
  svc(11, 'define_named_variable_list', 'write'),
  svc(12, 'get_named_variable_list_attributes', 'read'),
  svc(13, 'delete_named_variable_list', 'write'),
  svc(14, 'define_named_type', 'write'),
  svc(15, 'get_named_type_attributes', 'read'),
  svc(16, 'delete_named_type', 'write'),
  svc(17, 'input', 'read'),
  svc(18, 'output', 'write'),
  svc(19, 'take_control', 'control'),
  svc(20, 'relinquish_control', 'control'),
  svc(21, 'define_semaphore', 'other'),
  svc(22, 'delete_semaphore', 'other'),
  svc(23, 'report_semaphore_status', 'read'),
  svc(24, 'report_pool_semaphore_status', 'read'),
  svc(25, 'report_semaphore_entry_status', 'read'),
  svc(26, 'initiate_download_sequence', 'program'),
  svc(27, 'download_segment', 'program'),
  svc(28, 'terminate_download_sequence', 'program'),
  svc(29, 'initiate_upload_sequence', 'program'),
  svc(30, 'upload_segment', 'program'),
  svc(31, 'terminate_upload_sequence', 'program'),
  svc(32, 'request_domain_download', 'program'),
  svc(33, 'request_domain_upload', 'program'),
  svc(34, 'load_domain_content', 'program'),
  svc(35, 'store_domain_content', 'program'),
  svc(36, 'delete_domain', 'program'),
  svc(37, 'get_domain_attributes', 'read'),
  svc(38, 'create_program_invocation', 'control'),
  svc(39, 'delete_program_invocation', 'control'),
  svc(40, 'start', 'control'),
  svc(41, 'stop', 'control'),
  svc(42, 'resume', 'control'),
  svc(43, 'reset', 'control'),
  svc(44, 'kill', 'control'),
  svc(45, 'get_program_invocation_attributes', 'read'),
  svc(46, 'obtain_file', 'file'),
  svc(47, 'define_event_condition', 'other'),
  svc(48, 'delete_event_condition', 'other'),
  svc(49, 'get_event_condition_attributes', 'read'),
  svc(50, 'report_event_condition_status', 'read'),
  svc(51, 'alter_event_condition_monitoring', 'other'),
  svc(52, 'trigger_event', 'other'),
  svc(53, 'define_event_action', 'other'),
  svc(54, 'delete_event_action', 'other'),
  svc(55, 'get_event_action_attributes', 'read'),
  svc(56, 'report_event_action_status', 'read'),
  svc(57, 'define_event_enrollment', 'other'),
  svc(58, 'delete_event_enrollment', 'other'),
  svc(59, 'alter_event_enrollment', 'other'),
  svc(60, 'report_event_enrollment_status', 'read'),
  svc(61, 'get_event_enrollment_attributes', 'read'),
  svc(62, 'acknowledge_event_notification', 'other'),
  svc(63, 'get_alarm_summary', 'read'),
  svc(64, 'get_alarm_enrollment_summary', 'read'),
  svc(65, 'read_journal', 'read'),
  svc(66, 'write_journal', 'write'),
  svc(67, 'initialize_journal', 'write'),
  svc(68, 'report_journal_status', 'read'),
  svc(69, 'create_journal', 'other'),
  svc(70, 'delete_journal', 'other'),
  svc(71, 'get_capability_list', 'discovery'),
  svc(72, 'file_open', 'file'),
  svc(73, 'file_read', 'file'),
  svc(74, 'file_close', 'file'),
  svc(75, 'file_rename', 'file'),
  svc(76, 'file_delete', 'file'),
  svc(77, 'file_directory', 'file'),
];

const CONFIRMED_BY_CODE: ReadonlyMap<number, ServiceInfo> = new Map(CONFIRMED.map((s) => [s.code, s]));

export function confirmedService(code: number): ServiceInfo {
  return CONFIRMED_BY_CODE.get(code) ?? svc(code, 'unknown_service', 'other');
}

const UNCONFIRMED: ReadonlyMap<number, ServiceInfo> = new Map([
  // Values a server reports unasked (IEC 61850 reports): what the peer learns is read data.
  [0, svc(0, 'information_report', 'read')],
  [1, svc(1, 'unsolicited_status', 'diagnostic')],
  [2, svc(2, 'event_notification', 'diagnostic')],
]);

export function unconfirmedService(code: number): ServiceInfo {
  return UNCONFIRMED.get(code) ?? svc(code, 'unknown_unconfirmed_service', 'other');
}

/**
 * A write of IEC 61850 control objects (functional constraint CO: `...$CO$...$Oper`, `SBOw`,
 * `Cancel`; IEC 61850-8-1 §20) operates equipment: reported under its own name and class.
 */
export const CONTROL_WRITE = svc(5, 'control', 'control');

/** Session-level MMS PDUs reported as operations. */
export const INITIATE = svc(8, 'initiate', 'other');
export const CONCLUDE = svc(11, 'conclude', 'other');
export const CANCEL = svc(5, 'cancel', 'other');

/** GetNameList object classes (basicObjectClass), the operation's address space. */
export const OBJECT_CLASS_NAMES: readonly string[] = [
  'named_variable',
  'scattered_access',
  'named_variable_list',
  'named_type',
  'semaphore',
  'event_condition',
  'event_action',
  'event_enrollment',
  'journal',
  'domain',
  'program_invocation',
  'operator_station',
  'data_exchange',
  'access_control_list',
];
