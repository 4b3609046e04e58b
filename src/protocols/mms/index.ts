// IEC 61850 / ISO 9506 MMS over the OSI upper layers on ISO-on-TCP (port 102): the definition that
// names it, and the decoders. Flows on 102 are analysed by the shared demultiplexer in ../iso/.

import { defineProtocol } from '../_core/types.ts';
import { IsoTsapAnalyzer } from '../iso/index.ts';

export { decodeMmsPdu, type MmsPdu } from './decode.ts';
export { decodeSpdu, upperLayers, type Spdu, type UpperLayers } from './osi.ts';
export { MmsSession } from './state.ts';

/**
 * MMS by name, with no port: not to be registered on 102 (the port-102 definition is
 * `s7commProtocol` / `isoTsapProtocol`, whose analyzer renames MMS flows to `mms`); for running the
 * same analyzer on another port.
 */
export const mmsProtocol = defineProtocol({
  name: 'mms',
  transport: 'tcp',
  ports: [],
  createAnalyzer: (ctx) => new IsoTsapAnalyzer(ctx),
});
