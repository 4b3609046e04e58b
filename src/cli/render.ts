// The terminal view of an analysis: capture summary, assets, communications with their
// operations, the protocol breakdown and anomalies.

import { siteOperations } from '../model/operations.ts';
import type { AnalysisDocument, Asset, Communication } from '../model/types.ts';
import { formatBytes, formatCount, formatDuration, renderTable } from './table.ts';

function assetLabel(a: Asset | undefined, id: string): string {
  if (a === undefined) return id.replace(/^group:/, '');
  const name = a.names[0]?.name;
  const addr = a.ips[0] ?? a.macs[0] ?? a.id;
  return name !== undefined ? `${addr} (${name})` : addr;
}

function operationsText(c: Communication): string {
  const ops = Object.entries(c.operations).sort((a, b) => b[1].count - a[1].count);
  if (ops.length === 0) return '';
  return ops
    .map(([name, o]) => {
      const short = name.slice(name.indexOf('.') + 1);
      // The addresses it touched, compactly: `read_holding_registers×1,204 40–59` (first range).
      const first = o.ranges !== undefined ? Object.values(o.ranges)[0]?.[0] : undefined;
      const range = first === undefined ? '' : first[0] === first[1] ? ` ${first[0]}` : ` ${first[0]}–${first[1]}`;
      return `${short}×${formatCount(o.count)}${range}${o.exceptions > 0 ? ` (${o.exceptions} exc)` : ''}`;
    })
    .join(', ');
}

export function renderAnalysis(doc: AnalysisDocument): string {
  const out: string[] = [];
  const cap = doc.capture;
  const span = cap.start !== null && cap.end !== null ? (Date.parse(cap.end) - Date.parse(cap.start)) / 1000 : NaN;
  out.push(
    `PlantGuard analysis — ${cap.files.length} input${cap.files.length === 1 ? '' : 's'}, ${formatCount(cap.packets)} packets, ${formatBytes(cap.bytes)}` +
      (cap.start !== null ? `, ${cap.start} → ${cap.end} (${formatDuration(span)})` : ''),
  );
  for (const i of cap.issues) out.push(`warning: ${i.message}`);
  for (const lt of cap.linkTypes)
    if (!lt.supported)
      out.push(
        `warning: ${formatCount(lt.packets)} packets with unsupported link type ${lt.value} (${lt.name}) were skipped`,
      );
  out.push('');

  const byId = new Map(doc.assets.map((a) => [a.id, a]));
  out.push(`ASSETS (${doc.assets.length})`);
  out.push(
    renderTable(
      [
        { header: 'ADDRESS', max: 40 },
        { header: 'MAC', max: 17 },
        { header: 'VENDOR', max: 24 },
        { header: 'NAMES', max: 32 },
        { header: 'VLAN' },
        { header: 'PROTOCOLS', max: 48 },
        { header: 'ROLE' },
        { header: 'PACKETS', align: 'right' },
      ],
      doc.assets.map((a) => [
        a.ips.length > 0 ? a.ips.join(', ') : '-',
        a.macs[0] ?? '-',
        a.vendor ?? '',
        a.names.map((n) => n.name).join(', '),
        a.vlans.join(','),
        [
          ...a.protocols.served.map((p) => `${p}(s)`),
          ...a.protocols.used.filter((p) => !a.protocols.served.includes(p)).map((p) => `${p}(c)`),
        ].join(' '),
        a.kind === 'router' ? 'network_device (router)' : a.role,
        formatCount(a.packets),
      ]),
    ),
  );
  const identified = doc.assets.filter((a) => a.identity.length > 0);
  if (identified.length > 0) {
    out.push('');
    out.push(`IDENTITIES (${identified.length})`);
    out.push(
      renderTable(
        [
          { header: 'ASSET', max: 40 },
          { header: 'PROTOCOL' },
          { header: 'VENDOR', max: 30 },
          { header: 'PRODUCT', max: 40 },
          { header: 'FIRMWARE', max: 20 },
          { header: 'SERIAL', max: 20 },
        ],
        identified.flatMap((a) =>
          a.identity.map((i) => [
            assetLabel(a, a.id),
            i.protocol,
            i.vendor ?? '',
            [i.product, i.productCode, i.model].filter((x) => x !== undefined).join(' / '),
            i.firmware ?? '',
            i.serial ?? '',
          ]),
        ),
      ),
    );
  }
  out.push('');
  out.push(`COMMUNICATIONS (${doc.communications.length})`);
  const comms = [...doc.communications].sort((a, b) => b.packets - a.packets || (a.id < b.id ? -1 : 1));
  out.push(
    renderTable(
      [
        { header: 'CLIENT', max: 40 },
        { header: 'SERVER', max: 40 },
        { header: 'TRANSPORT' },
        { header: 'PORT', align: 'right' },
        { header: 'PROTOCOL' },
        { header: 'PACKETS', align: 'right' },
        { header: 'BYTES', align: 'right' },
        { header: 'OPERATIONS', max: 100 },
      ],
      comms.map((c) => [
        assetLabel(byId.get(c.client), c.client),
        assetLabel(byId.get(c.server), c.server),
        c.transport,
        c.transport === 'ethernet' ? `0x${c.port.toString(16).padStart(4, '0')}` : String(c.port),
        c.confirmed ? c.protocol : `${c.protocol}?`,
        formatCount(c.packets),
        formatBytes(c.bytes),
        operationsText(c),
      ]),
    ),
  );
  out.push('');
  out.push('PROTOCOLS');
  const total = doc.capture.packets || 1;
  // Named by port on every communication that carried it: no dissector confirmed it.
  const confirmed = new Set(doc.communications.filter((c) => c.confirmed).map((c) => c.protocol));
  const unconfirmed = new Set(
    doc.communications
      .filter((c) => !c.confirmed && !confirmed.has(c.protocol) && (c.transport === 'tcp' || c.transport === 'udp'))
      .map((c) => c.protocol),
  );
  out.push(
    renderTable(
      [
        { header: 'PROTOCOL' },
        { header: 'PACKETS', align: 'right' },
        { header: 'SHARE', align: 'right' },
        { header: 'BYTES', align: 'right' },
        { header: 'COMMUNICATIONS', align: 'right' },
      ],
      doc.protocols.map((p) => [
        unconfirmed.has(p.protocol) ? `${p.protocol}?` : p.protocol,
        formatCount(p.packets),
        `${((100 * p.packets) / total).toFixed(1)}%`,
        formatBytes(p.bytes),
        formatCount(p.communications),
      ]),
    ),
  );
  const anomalies = Object.entries(doc.anomalies);
  if (anomalies.length > 0) {
    out.push('');
    out.push('ANOMALIES');
    out.push(
      renderTable(
        [{ header: 'CODE' }, { header: 'COUNT', align: 'right' }],
        anomalies.map(([k, v]) => [k, formatCount(v)]),
      ),
    );
  }
  out.push('');
  out.push('"?" after a protocol: named by port, not confirmed by a dissector.');
  return out.join('\n') + '\n';
}

function rangesText(r: Record<string, [number, number][]> | undefined): string {
  if (r === undefined) return '';
  return Object.entries(r)
    .map(([space, list]) => `${space} ${list.map(([lo, hi]) => (lo === hi ? String(lo) : `${lo}–${hi}`)).join(',')}`)
    .join('; ');
}

/** `analyze --operations`: every operation on the site, program/control/write first. */
export function renderOperations(doc: AnalysisDocument): string {
  const byId = new Map(doc.assets.map((a) => [a.id, a]));
  const rows = siteOperations(doc);
  const out: string[] = [];
  out.push(`OPERATIONS (${rows.length}) — by access class, program/control/write first`);
  out.push(
    renderTable(
      [
        { header: 'ACCESS' },
        { header: 'OPERATION', max: 48 },
        { header: 'CODE', align: 'right' },
        { header: 'COUNT', align: 'right' },
        { header: 'EXC', align: 'right' },
        { header: 'CLIENT', max: 36 },
        { header: 'SERVER', max: 36 },
        { header: 'RANGES', max: 60 },
        { header: 'LAST SEEN' },
      ],
      rows.map((r) => [
        r.access,
        r.operation,
        String(r.code),
        formatCount(r.count),
        r.exceptions > 0 ? formatCount(r.exceptions) : '',
        assetLabel(byId.get(r.client), r.client),
        assetLabel(byId.get(r.server), r.server),
        rangesText(r.ranges),
        r.lastSeen,
      ]),
    ),
  );
  return out.join('\n') + '\n';
}
