// Canonical form of an analysis document for golden files: no timing, no absolute paths.

import { basename } from 'node:path';
import type { AnalysisDocument } from '../../src/model/types.ts';

export function canonical(doc: AnalysisDocument): AnalysisDocument {
  const d = structuredClone(doc);
  d.generator.version = '(any)';
  d.stats.durationMs = 0;
  d.capture.files = d.capture.files.map((f) => (f === '-' ? f : basename(f)));
  d.capture.issues = d.capture.issues.map((i) => ({
    ...i,
    file: basename(i.file),
    message: i.message.replaceAll(/\/[^\s:]*\//g, ''),
  }));
  return d;
}
