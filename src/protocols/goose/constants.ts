// IEC 61850 GOOSE names and tags: ethertypes and header (IEC 61850-8-1 Annex C), the goosePdu
// fields (8-1 Annex A, IECGoosePdu) and the Data CHOICE tags of allData (8-1 §8.1.3, MMS Data subset).

/** GOOSE messages (IEC 61850-8-1 Annex C). */
export const GOOSE_ETHERTYPE = 0x88b8;
/** GSE management (GetGoReference, GetGOOSEElementNumber...): counted, not decoded. */
export const GSE_MANAGEMENT_ETHERTYPE = 0x88b9;
/** APPID, Length, Reserved1, Reserved2. */
export const HEADER_LENGTH = 8;
/** Reserved1 bit 15: the Simulation bit of IEC 61850-8-1 Ed2. */
export const SIMULATION_BIT = 0x8000;
/** GOOSE APPIDs are 0x0000–0x3FFF (Sampled Values use 0x4000–0x7FFF); 8-1 Annex C. */
export const MAX_GOOSE_APPID = 0x3fff;

/** Outer APDU tags: gseMngtPdu [APPLICATION 0], goosePdu [APPLICATION 1] (both constructed). */
export const TAG_GSE_MANAGEMENT_PDU = 0x60;
export const TAG_GOOSE_PDU = 0x61;

/** goosePdu fields, context-specific and implicit: [0]..[11] (allData is constructed). */
export const FIELD = {
  gocbRef: 0x80,
  timeAllowedToLive: 0x81,
  datSet: 0x82,
  goID: 0x83,
  t: 0x84,
  stNum: 0x85,
  sqNum: 0x86,
  /** `test` in Edition 1. */
  simulation: 0x87,
  confRev: 0x88,
  ndsCom: 0x89,
  numDatSetEntries: 0x8a,
  allData: 0xab,
} as const;

/** Data CHOICE tag numbers (context-specific; 1 and 2 constructed). */
export const DATA_TYPES = [
  'unknown',
  'array',
  'structure',
  'boolean',
  'bit_string',
  'integer',
  'unsigned',
  'floating_point',
  'real',
  'octet_string',
  'visible_string',
  'generalized_time',
  'binary_time',
  'bcd',
  'boolean_array',
  'obj_id',
  'mms_string',
  'utc_time',
] as const;

export type GooseDataType = (typeof DATA_TYPES)[number];

export const DATA_TAG = {
  array: 1,
  structure: 2,
  boolean: 3,
  bitString: 4,
  integer: 5,
  unsigned: 6,
  floatingPoint: 7,
  utcTime: 17,
} as const;

export function dataTypeName(tagNumber: number): GooseDataType {
  return DATA_TYPES[tagNumber] ?? 'unknown';
}

/** Bounds: nesting of structures/arrays in allData, values kept per operation, text characters. */
export const MAX_DATA_DEPTH = 10;
export const MAX_VALUES = 16;
/** VisibleString129 in Edition 2 (gocbRef, datSet, goID). */
export const MAX_TEXT = 255;
/** gocbRefs remembered per analyzer (last stNum/sqNum/confRev); the oldest is forgotten past it. */
export const MAX_TRACKED_GOCBS = 64;

export const OPERATIONS = {
  publish: 'goose.publish',
  stateChange: 'goose.state_change',
  gseManagement: 'goose.gse_management',
} as const;

/**
 * Logical-device instance suffixes seen in real gocbRefs: an LD name is the IED name followed by
 * the ldInst (IEC 61850-7-2 §8.2; 6 §8.5.3), e.g. `AA1C1Q01A1` + `LD0`, `UR89_840` + `Master`,
 * `P543_91D_ED2` + `System`. Best effort: a name without a known suffix gives no IED name.
 */
export const LD_INSTANCE_SUFFIX =
  /^(.+?)_?(LD\d*|Master|System|Ctrl|Control|Prot|Protection|Meas|Measurement|Rec|Records|DR|Application|App)$/i;
