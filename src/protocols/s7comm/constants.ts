// S7comm names and classes: ROSCTR, job functions, S7ANY areas and transport sizes, userdata function
// groups and subfunctions, PI services. S7comm has no public specification; these follow the
// Wireshark S7comm dissector (packet-s7comm.c, Thomas Wiens) and the CISA ICSNPP S7comm analyzer.

import type { AccessClass } from '../_core/types.ts';

export const S7_PROTOCOL_ID = 0x32;

export const ROSCTR = { job: 1, ack: 2, ackData: 3, userdata: 7 } as const;

export const ROSCTR_NAMES: Readonly<Record<number, string>> = {
  1: 'job',
  2: 'ack',
  3: 'ack_data',
  7: 'userdata',
};

/** Job / ack_data parameter function codes. */
export const FUNC = {
  cpuServices: 0x00,
  readVar: 0x04,
  writeVar: 0x05,
  requestDownload: 0x1a,
  downloadBlock: 0x1b,
  downloadEnded: 0x1c,
  startUpload: 0x1d,
  upload: 0x1e,
  endUpload: 0x1f,
  plcControl: 0x28,
  plcStop: 0x29,
  setupCommunication: 0xf0,
} as const;

/** Userdata function groups (low nibble of the type/group octet). */
export const GROUP = {
  modeTransition: 0x0,
  programmer: 0x1,
  cyclic: 0x2,
  block: 0x3,
  cpu: 0x4,
  security: 0x5,
  pbc: 0x6,
  time: 0x7,
  ncProgramming: 0xf,
} as const;

/** Userdata type (high nibble of the type/group octet). */
export const UD_TYPE = { push: 0x0, request: 0x4, response: 0x8 } as const;

/**
 * Trace codes (`ctx.pdu`): a job/ack/ack_data function as is (tshark's `s7comm.param.func`), a
 * userdata subfunction plus this offset (`s7comm.param.userdata.subfunc`).
 */
export const USERDATA_TRACE_OFFSET = 0x100;

/** SZL read: group 4 (CPU functions), subfunction 1. */
export const SUBF_READ_SZL = 0x01;

/** Item syntax ids (the variable specification's addressing mode). */
export const SYNTAX = { s7any: 0x10, dbread: 0xb0, s1200sym: 0xb2, nck: 0x82, driveEsAny: 0xa2 } as const;

/** S7ANY areas; the label is the operation's address space (a DB adds its number: `db1`). */
export const AREA_NAMES: Readonly<Record<number, string>> = {
  0x03: 'system_info',
  0x05: 'system_flags',
  0x06: 'analog_inputs',
  0x07: 'analog_outputs',
  0x1c: 'counters',
  0x1d: 'timers',
  0x1e: 'iec_counters',
  0x1f: 'iec_timers',
  0x80: 'peripheral',
  0x81: 'inputs',
  0x82: 'outputs',
  0x83: 'merker',
  0x84: 'db',
  0x85: 'di',
  0x86: 'local',
  0x87: 'previous_local',
};

export const AREA = { counters: 0x1c, timers: 0x1d, iecCounters: 0x1e, iecTimers: 0x1f, db: 0x84, di: 0x85 } as const;

/** Parameter item transport sizes (S7ANY) and their element size in bytes (0 for bits). */
export const TRANSPORT_SIZE_BYTES: Readonly<Record<number, number>> = {
  0x01: 0, // BIT
  0x02: 1, // BYTE
  0x03: 1, // CHAR
  0x04: 2, // WORD
  0x05: 2, // INT
  0x06: 4, // DWORD
  0x07: 4, // DINT
  0x08: 4, // REAL
  0x09: 2, // DATE
  0x0a: 4, // TIME_OF_DAY
  0x0b: 4, // TIME
  0x0c: 2, // S5TIME
  0x0f: 8, // DATE_AND_TIME
  0x1c: 2, // COUNTER
  0x1d: 2, // TIMER
  0x1e: 2, // IEC TIMER
  0x1f: 2, // IEC COUNTER
  0x20: 2, // HS COUNTER
};

export const TS = {
  bit: 0x01,
  byte: 0x02,
  char: 0x03,
  word: 0x04,
  int: 0x05,
  dword: 0x06,
  dint: 0x07,
  real: 0x08,
} as const;

/** Data item transport sizes whose length field counts bits (BIT, BYTE/WORD/DWORD, INTEGER). */
export function dataLengthInBits(transportSize: number): boolean {
  return transportSize === 0x03 || transportSize === 0x04 || transportSize === 0x05;
}

/** Data item return code for success. */
export const RETURN_OK = 0xff;

/** Block type codes in block-control file names (`_0A00001P`: DB 1, passive file system). */
export const BLOCK_TYPE_NAMES: Readonly<Record<string, string>> = {
  '08': 'ob',
  '0A': 'db',
  '0B': 'sdb',
  '0C': 'fc',
  '0D': 'sfc',
  '0E': 'fb',
  '0F': 'sfb',
};

export interface OperationInfo {
  /** `s7comm.<name>`. */
  readonly operation: string;
  readonly access: AccessClass;
}

function op(name: string, access: AccessClass): OperationInfo {
  return Object.freeze({ operation: `s7comm.${name}`, access });
}

const JOB_OPS: ReadonlyMap<number, OperationInfo> = new Map([
  [FUNC.cpuServices, op('cpu_services', 'other')],
  [FUNC.readVar, op('read_var', 'read')],
  [FUNC.writeVar, op('write_var', 'write')],
  [FUNC.requestDownload, op('request_download', 'program')],
  [FUNC.downloadBlock, op('download_block', 'program')],
  [FUNC.downloadEnded, op('download_ended', 'program')],
  [FUNC.startUpload, op('start_upload', 'program')],
  [FUNC.upload, op('upload', 'program')],
  [FUNC.endUpload, op('end_upload', 'program')],
  [FUNC.plcControl, op('plc_control', 'control')],
  [FUNC.plcStop, op('plc_stop', 'control')],
  [FUNC.setupCommunication, op('setup_communication', 'other')],
]);

const UNKNOWN_JOB = op('unknown_function', 'other');

/** JOB_OPS by function code, so a PDU costs an index instead of a Map lookup. */
const JOB_TABLE: readonly OperationInfo[] = Array.from({ length: 256 }, (_, f) => JOB_OPS.get(f) ?? UNKNOWN_JOB);

export function jobOperation(func: number): OperationInfo {
  return JOB_TABLE[func] ?? UNKNOWN_JOB;
}

/** PI services with an operation of their own (the rest are `s7comm.plc_control`). */
const PI_OPS: ReadonlyMap<string, OperationInfo> = new Map([
  ['P_PROGRAM', op('plc_start', 'control')],
  ['_DELE', op('block_delete', 'program')],
]);

export function piServiceOperation(service: string): OperationInfo {
  return PI_OPS.get(service) ?? JOB_OPS.get(FUNC.plcControl)!;
}

/** Userdata operations by function group and subfunction (group << 8 | subfunction). */
const USERDATA_OPS: ReadonlyMap<number, OperationInfo> = new Map([
  // Programmer commands (group 1): test and commissioning functions (Wireshark 4.0 names)
  [0x0101, op('block_status', 'diagnostic')],
  [0x0102, op('variable_status', 'read')],
  [0x0103, op('output_istack', 'diagnostic')],
  [0x0104, op('output_bstack', 'diagnostic')],
  [0x0105, op('output_lstack', 'diagnostic')],
  [0x0106, op('time_measurement', 'diagnostic')],
  [0x0107, op('force_selection', 'diagnostic')],
  [0x0108, op('modify_variable', 'write')],
  [0x0109, op('force', 'write')],
  [0x010a, op('breakpoint', 'control')],
  [0x010b, op('exit_hold', 'control')],
  [0x010c, op('memory_reset', 'program')],
  [0x010d, op('disable_job', 'other')],
  [0x010e, op('enable_job', 'other')],
  [0x010f, op('delete_job', 'other')],
  [0x0110, op('read_job_list', 'diagnostic')],
  [0x0111, op('read_job', 'diagnostic')],
  [0x0112, op('replace_job', 'other')],
  [0x0113, op('block_status', 'diagnostic')],
  [0x0116, op('flash_led', 'diagnostic')],
  // Cyclic data (group 2)
  [0x0201, op('cyclic_subscribe', 'read')],
  [0x0204, op('cyclic_unsubscribe', 'read')],
  [0x0205, op('cyclic_change_driven', 'read')],
  [0x0207, op('cyclic_change_driven', 'read')],
  [0x0208, op('read_data_record', 'read')],
  // Block functions (group 3)
  [0x0301, op('block_list', 'discovery')],
  [0x0302, op('block_list_of_type', 'discovery')],
  [0x0303, op('block_info', 'discovery')],
  // CPU functions (group 4)
  [0x0401, op('szl_read', 'diagnostic')],
  [0x0402, op('message_service', 'diagnostic')],
  [0x0403, op('diagnostic_message', 'diagnostic')],
  [0x0405, op('alarm_indication', 'diagnostic')],
  [0x0406, op('alarm_indication', 'diagnostic')],
  [0x0407, op('alarm_lock', 'other')],
  [0x0408, op('alarm_unlock', 'other')],
  [0x0409, op('alarm_indication', 'diagnostic')],
  [0x040b, op('alarm_ack', 'other')],
  [0x040c, op('alarm_indication', 'diagnostic')],
  [0x040d, op('alarm_indication', 'diagnostic')],
  [0x040e, op('alarm_indication', 'diagnostic')],
  [0x0411, op('alarm_indication', 'diagnostic')],
  [0x0412, op('alarm_indication', 'diagnostic')],
  [0x0413, op('alarm_query', 'diagnostic')],
  [0x0416, op('alarm_indication', 'diagnostic')],
  // Security (group 5)
  [0x0501, op('plc_password', 'other')],
  // Time functions (group 7)
  [0x0701, op('read_clock', 'read')],
  [0x0702, op('set_clock', 'write')],
  [0x0703, op('read_clock', 'read')],
  [0x0704, op('set_clock', 'write')],
]);

/** Per-group fallbacks for subfunctions not listed. */
const GROUP_OPS: ReadonlyMap<number, OperationInfo> = new Map([
  [GROUP.modeTransition, op('mode_transition', 'diagnostic')],
  [GROUP.programmer, op('programmer_command', 'diagnostic')],
  [GROUP.cyclic, op('cyclic_data', 'read')],
  [GROUP.block, op('block_function', 'discovery')],
  [GROUP.cpu, op('cpu_function', 'diagnostic')],
  [GROUP.security, op('security', 'other')],
  [GROUP.pbc, op('bsend', 'write')],
  [GROUP.time, op('time_function', 'other')],
  [GROUP.ncProgramming, op('nc_programming', 'program')],
]);

const UNKNOWN_USERDATA = op('userdata', 'other');
/** Cyclic data pushed by the PLC after a subscription: values read, counted from the server. */
const CYCLIC_PUSH = op('cyclic_data', 'read');

/** USERDATA_OPS with the group fallbacks, by group << 8 | subfunction (group 0..15). */
const USERDATA_TABLE: readonly OperationInfo[] = Array.from(
  { length: 16 * 256 },
  (_, k) => USERDATA_OPS.get(k) ?? GROUP_OPS.get(k >> 8) ?? UNKNOWN_USERDATA,
);
const MODE_TRANSITION = GROUP_OPS.get(GROUP.modeTransition)!;

export function userdataOperation(type: number, group: number, subfunction: number): OperationInfo {
  if (group === GROUP.modeTransition) return MODE_TRANSITION;
  if (type === UD_TYPE.push && group === GROUP.cyclic) return CYCLIC_PUSH;
  return USERDATA_TABLE[(group << 8) | subfunction] ?? UNKNOWN_USERDATA;
}
