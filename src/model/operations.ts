// The site's operations across all communications, grouped by access class: what was written,
// programmed and controlled comes first, because that is what a person reviews first.

import type { AccessClass } from '../protocols/_core/types.ts';
import type { AnalysisDocument } from './types.ts';

export const ACCESS_ORDER: readonly AccessClass[] = [
  'program',
  'control',
  'write',
  'file',
  'diagnostic',
  'discovery',
  'read',
  'other',
];

export interface SiteOperation {
  access: AccessClass;
  operation: string;
  code: number;
  protocol: string;
  client: string;
  server: string;
  count: number;
  responses: number;
  exceptions: number;
  ranges?: Record<string, [number, number][]>;
  units?: number[];
  firstSeen: string;
  lastSeen: string;
}

/** Every (communication, operation) pair, program/control/write first, then by count. */
export function siteOperations(doc: AnalysisDocument): SiteOperation[] {
  const out: SiteOperation[] = [];
  for (const c of doc.communications) {
    for (const [name, o] of Object.entries(c.operations)) {
      const row: SiteOperation = {
        access: o.access,
        operation: name,
        code: o.code,
        protocol: c.protocol,
        client: c.client,
        server: c.server,
        count: o.count,
        responses: o.responses,
        exceptions: o.exceptions,
        firstSeen: o.firstSeen,
        lastSeen: o.lastSeen,
      };
      if (o.ranges !== undefined) row.ranges = o.ranges;
      if (o.units !== undefined) row.units = o.units;
      out.push(row);
    }
  }
  const rank = (a: AccessClass): number => ACCESS_ORDER.indexOf(a);
  return out.sort(
    (a, b) =>
      rank(a.access) - rank(b.access) ||
      b.count - a.count ||
      (a.operation < b.operation ? -1 : a.operation > b.operation ? 1 : 0) ||
      (a.client + a.server < b.client + b.server ? -1 : 1),
  );
}
