// Modbus names and classes: function codes (Modbus Application Protocol v1.1b3 §5.1, §6), exception
// codes (§7), diagnostics sub-functions (§6.8.1) and device identification objects (§6.21).

import type { AccessClass } from '../_core/types.ts';

/** Modbus/TCP well-known port (Messaging on TCP/IP v1.0b §4.1.1). */
export const MODBUS_PORT = 502;
/** MBAP header: transaction id, protocol id, length, unit id (Messaging on TCP/IP §3.1.3). */
export const MBAP_HEADER_LENGTH = 7;
/** Largest ADU: 7-byte MBAP header + 253-byte PDU (Application Protocol §4.1). */
export const MAX_ADU_LENGTH = 260;
/** The MBAP length field counts the unit id and the PDU: 1 + (1..253). */
export const MIN_MBAP_LENGTH = 2;
export const MAX_MBAP_LENGTH = 254;
/** Set in a response's function code when it carries an exception (§7). */
export const EXCEPTION_BIT = 0x80;

export const FC = {
  readCoils: 1,
  readDiscreteInputs: 2,
  readHoldingRegisters: 3,
  readInputRegisters: 4,
  writeSingleCoil: 5,
  writeSingleRegister: 6,
  readExceptionStatus: 7,
  diagnostics: 8,
  getCommEventCounter: 11,
  getCommEventLog: 12,
  writeMultipleCoils: 15,
  writeMultipleRegisters: 16,
  reportServerId: 17,
  readFileRecord: 20,
  writeFileRecord: 21,
  maskWriteRegister: 22,
  readWriteMultipleRegisters: 23,
  readFifoQueue: 24,
  encapsulatedInterfaceTransport: 43,
} as const;

/** MEI types carried by function 43 (§6.19–6.21). */
export const MEI = { canOpenGeneralReference: 13, readDeviceIdentification: 14 } as const;

export type AddressSpace = 'coil' | 'discrete_input' | 'holding_register' | 'input_register' | 'file_record';

export interface FunctionInfo {
  readonly code: number;
  /** snake_case operation name without the protocol prefix. */
  readonly name: string;
  /** `modbus.<name>`, precomputed for the operation events. */
  readonly operation: string;
  readonly access: AccessClass;
  readonly addressSpace?: AddressSpace;
}

function info(code: number, name: string, access: AccessClass, addressSpace?: AddressSpace): FunctionInfo {
  const base = { code, name, operation: `modbus.${name}`, access };
  return Object.freeze(addressSpace === undefined ? base : { ...base, addressSpace });
}

const KNOWN: readonly FunctionInfo[] = [
  info(1, 'read_coils', 'read', 'coil'),
  info(2, 'read_discrete_inputs', 'read', 'discrete_input'),
  info(3, 'read_holding_registers', 'read', 'holding_register'),
  info(4, 'read_input_registers', 'read', 'input_register'),
  info(5, 'write_single_coil', 'write', 'coil'),
  info(6, 'write_single_register', 'write', 'holding_register'),
  info(7, 'read_exception_status', 'diagnostic'),
  info(8, 'diagnostics', 'diagnostic'),
  info(11, 'get_comm_event_counter', 'diagnostic'),
  info(12, 'get_comm_event_log', 'diagnostic'),
  info(15, 'write_multiple_coils', 'write', 'coil'),
  info(16, 'write_multiple_registers', 'write', 'holding_register'),
  info(17, 'report_server_id', 'diagnostic'),
  info(20, 'read_file_record', 'file', 'file_record'),
  info(21, 'write_file_record', 'file', 'file_record'),
  info(22, 'mask_write_register', 'write', 'holding_register'),
  info(23, 'read_write_multiple_registers', 'write', 'holding_register'),
  info(24, 'read_fifo_queue', 'read', 'holding_register'),
  info(43, 'encapsulated_interface_transport', 'other'),
];

/** Indexed by function code 0..127; codes without a public definition get `function_<n>`, 'other'. */
const BY_CODE: readonly FunctionInfo[] = Array.from(
  { length: 128 },
  (_, code) => KNOWN.find((f) => f.code === code) ?? info(code, `function_${code}`, 'other'),
);

const READ_DEVICE_IDENTIFICATION = info(43, 'read_device_identification', 'discovery');
const CAN_OPEN_GENERAL_REFERENCE = info(43, 'can_open_general_reference', 'other');

/**
 * Name and access class of a function code (exception bit ignored). For function 43 the MEI type
 * picks the operation: 14 read_device_identification, 13 can_open_general_reference.
 */
export function functionInfo(functionCode: number, meiType = -1): FunctionInfo {
  const code = functionCode & 0x7f;
  if (code === FC.encapsulatedInterfaceTransport) {
    if (meiType === MEI.readDeviceIdentification) return READ_DEVICE_IDENTIFICATION;
    if (meiType === MEI.canOpenGeneralReference) return CAN_OPEN_GENERAL_REFERENCE;
  }
  return BY_CODE[code]!;
}

/** Exception codes (§7). */
export const EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal_function',
  2: 'illegal_data_address',
  3: 'illegal_data_value',
  4: 'server_device_failure',
  5: 'acknowledge',
  6: 'server_device_busy',
  8: 'memory_parity_error',
  10: 'gateway_path_unavailable',
  11: 'gateway_target_device_failed_to_respond',
};

export function exceptionName(code: number): string {
  return EXCEPTION_NAMES[code] ?? `exception_${code}`;
}

/** Diagnostics (function 8) sub-functions (§6.8.1); 19 is from the older specification. */
export const DIAGNOSTIC_SUB_FUNCTIONS: Readonly<Record<number, string>> = {
  0: 'return_query_data',
  1: 'restart_communications_option',
  2: 'return_diagnostic_register',
  3: 'change_ascii_input_delimiter',
  4: 'force_listen_only_mode',
  10: 'clear_counters_and_diagnostic_register',
  11: 'return_bus_message_count',
  12: 'return_bus_communication_error_count',
  13: 'return_bus_exception_error_count',
  14: 'return_server_message_count',
  15: 'return_server_no_response_count',
  16: 'return_server_nak_count',
  17: 'return_server_busy_count',
  18: 'return_bus_character_overrun_count',
  19: 'return_iop_overrun_count',
  20: 'clear_overrun_counter_and_flag',
};

export function diagnosticSubFunctionName(sub: number): string {
  return DIAGNOSTIC_SUB_FUNCTIONS[sub] ?? `sub_function_${sub}`;
}

/** Read Device Identification object ids (§6.21, table of objects). 0x80..0xFF are private. */
export const DEVICE_ID_OBJECTS: Readonly<Record<number, string>> = {
  0: 'vendor_name',
  1: 'product_code',
  2: 'major_minor_revision',
  3: 'vendor_url',
  4: 'product_name',
  5: 'model_name',
  6: 'user_application_name',
};

export function deviceIdObjectName(id: number): string {
  return DEVICE_ID_OBJECTS[id] ?? (id >= 0x80 ? `private_0x${id.toString(16)}` : `reserved_0x${id.toString(16)}`);
}

/** Read Device ID codes in a function 43/14 request (§6.21). */
export const READ_DEVICE_ID_CODES: Readonly<Record<number, string>> = {
  1: 'basic',
  2: 'regular',
  3: 'extended',
  4: 'individual',
};

/** Conformity levels in a function 43/14 response (§6.21); 0x8n also allows individual access. */
export const CONFORMITY_LEVELS: ReadonlySet<number> = new Set([0x01, 0x02, 0x03, 0x81, 0x82, 0x83]);

/** Quantity ranges from §6 (request field "Quantity of ..."). */
export const QUANTITY_LIMITS = {
  readBits: 2000, // FC 1, 2
  readRegisters: 125, // FC 3, 4, 23 (read part)
  writeCoils: 1968, // FC 15 (0x07B0)
  writeRegisters: 123, // FC 16 (0x007B)
  readWriteWriteRegisters: 121, // FC 23 (write part, 0x79)
  fifoCount: 31, // FC 24
} as const;
