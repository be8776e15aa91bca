/**
 * What a measured span left on the heap: the objects of the second V8 heap snapshot that were not in
 * the first (node ids are stable within one process), grouped by constructor or type, with their
 * count, self size and the most frequent retainer paths (edge and holder names, a few levels up).
 *
 *   node --require ts-node/register/transpile-only bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--top 25] [--per <n>]
 *
 * `--per <n>` divides the figures by n (e.g. the registrations of the span). Reads both files into
 * memory: a few hundred MB for a gateway with 10 000 registrations.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? String(process.argv[i + 1]) : dflt;
}

function load(file: string): Snapshot {
  return JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
}

function ids(s: Snapshot): Set<number> {
  const nf = s.snapshot.meta.node_fields.length;
  const idAt = s.snapshot.meta.node_fields.indexOf('id');
  const out = new Set<number>();
  for (let i = 0; i < s.nodes.length; i += nf) out.add(s.nodes[i + idAt] as number);
  return out;
}

function main(): void {
  const [beforeFile, afterFile] = process.argv.slice(2).filter((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  if (!beforeFile || !afterFile) throw new Error('usage: heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [--top 25] [--per <n>]');
  const top = Number(arg('top', '25'));
  const per = Number(arg('per', '1'));
  const before = ids(load(beforeFile));
  const s = load(afterFile);
  const meta = s.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [typeAt, nameAt, idAt, sizeAt, edgesAt] = ['type', 'name', 'id', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f)) as [number, number, number, number, number];
  const [eTypeAt, eNameAt, eToAt] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f)) as [number, number, number];
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const count = s.nodes.length / nf;
  const label = (n: number): string => {
    const t = nodeTypes[s.nodes[n * nf + typeAt] as number] ?? '?';
    const name = s.strings[s.nodes[n * nf + nameAt] as number] ?? '';
    if (t === 'object' || t === 'closure' || t === 'native') return `${t === 'closure' ? 'closure ' : ''}${name.slice(0, 60)}`;
    return `(${t})${t === 'hidden' || t === 'code' || t === 'synthetic' ? ' ' + name.slice(0, 40) : ''}`;
  };
  const isNew = new Uint8Array(count);
  for (let n = 0; n < count; n++) if (!before.has(s.nodes[n * nf + idAt] as number)) isNew[n] = 1;
  // first retainer of each node (not weak, not a shortcut), for the paths
  const retainer = new Int32Array(count).fill(-1);
  const retainerEdge: string[] = new Array<string>(count);
  let e = 0;
  for (let n = 0; n < count; n++) {
    const edges = s.nodes[n * nf + edgesAt] as number;
    for (let k = 0; k < edges; k++, e += ef) {
      const et = edgeTypes[s.edges[e + eTypeAt] as number];
      if (et === 'weak' || et === 'shortcut') continue;
      const to = (s.edges[e + eToAt] as number) / nf;
      if (retainer[to] !== -1) continue;
      retainer[to] = n;
      const nameOrIndex = s.edges[e + eNameAt] as number;
      retainerEdge[to] = et === 'element' || et === 'hidden' ? `[${nameOrIndex}]` : (s.strings[nameOrIndex] ?? '?');
    }
  }
  const path = (n: number, depth: number): string => {
    const parts: string[] = [];
    let cur = n;
    for (let d = 0; d < depth && retainer[cur] !== -1; d++) {
      const up = retainer[cur] as number;
      parts.push(`${retainerEdge[cur]} ← ${label(up)}${isNew[up] ? '' : ' (old)'}`);
      cur = up;
      if (!isNew[up]) break;
    }
    return parts.join(' ← ');
  };
  const groups = new Map<string, { count: number; size: number; paths: Map<string, number> }>();
  let total = 0;
  let totalCount = 0;
  for (let n = 0; n < count; n++) {
    if (!isNew[n]) continue;
    const size = s.nodes[n * nf + sizeAt] as number;
    total += size;
    totalCount++;
    const key = label(n);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { count: 0, size: 0, paths: new Map() }));
    g.count++;
    g.size += size;
    if (g.count <= 2000 || g.count % 50 === 0) {
      const p = path(n, 4);
      g.paths.set(p, (g.paths.get(p) ?? 0) + 1);
    }
  }
  const round = (x: number): number => Math.round((x / per) * 10) / 10;
  console.log(`new objects: ${totalCount} (${round(totalCount)} per item), ${total} B (${round(total)} B per item)`);
  const sorted = [...groups.entries()].sort((a, b) => b[1].size - a[1].size).slice(0, top);
  for (const [key, g] of sorted) {
    console.log(`${String(round(g.size)).padStart(9)} B ${String(round(g.count)).padStart(7)} ×  ${key}`);
    const paths = [...g.paths.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
    for (const [p, c] of paths) console.log(`            ${c}: ${p}`);
  }
}

main();
