// A one-line progress bar on stderr for long captures: only on a terminal, never when piped.

import type { Progress } from '../pipeline/analyze.ts';
import { formatBytes, formatCount } from './table.ts';

/** Runs shorter than this show no progress; PLANTGUARD_PROGRESS_AFTER_MS changes it (tests). */
const SHOW_AFTER_MS = Number(process.env.PLANTGUARD_PROGRESS_AFTER_MS ?? 500);

export class ProgressBar {
  private shown = false;
  private readonly stream: NodeJS.WriteStream;

  constructor(stream: NodeJS.WriteStream) {
    this.stream = stream;
  }

  static enabled(stream: NodeJS.WriteStream): boolean {
    return stream.isTTY && process.env.CI === undefined;
  }

  update(p: Progress): void {
    if (p.elapsedMs < SHOW_AFTER_MS) return; // short runs show nothing
    const pps = p.packets / (p.elapsedMs / 1000);
    const mbps = p.bytesRead / 1e6 / (p.elapsedMs / 1000);
    let bar = '';
    if (p.bytesTotal !== null && p.bytesTotal > 0) {
      const frac = Math.min(1, p.bytesRead / p.bytesTotal);
      const w = 24;
      const full = Math.round(frac * w);
      bar = `[${'#'.repeat(full)}${'.'.repeat(w - full)}] ${(frac * 100).toFixed(0).padStart(3)}% ${formatBytes(p.bytesRead)}/${formatBytes(p.bytesTotal)} `;
    } else bar = `${formatBytes(p.bytesRead)} `;
    const line = `${bar}${formatCount(p.packets)} packets, ${formatCount(Math.round(pps))} packets/s, ${mbps.toFixed(1)} MB/s`;
    this.stream.write(`\r${line}\x1b[K`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K');
    this.shown = false;
  }
}
