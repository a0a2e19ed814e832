/**
 * The parts of `core/` depend on each other in one direction only: no folder imports, through
 * any chain of imports, a folder that imports it back. Files at `core/`'s top (the composition)
 * count as parts of their own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = path.resolve(import.meta.dirname, '../../core');

/** The part of `core/` a file belongs to: its top folder, or the file's own name at the top. */
function partOf(file: string): string {
  const [first = '', ...rest] = path.relative(CORE, file).split(path.sep);
  return rest.length > 0 ? first : first.replace(/\.ts$/, '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Which parts each part imports, read from the import and export statements of its files. */
function coreGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(CORE)) {
    const from = partOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    const text = readFileSync(file, 'utf8');
    for (const [, specifier = ''] of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = path.resolve(path.dirname(file), specifier);
      if (!target.startsWith(CORE + path.sep)) continue;
      const to = partOf(target.endsWith('.ts') ? target : `${target}.ts`);
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** A cycle of the graph as the list of its parts (first repeated last), or undefined when there is none. */
function findCycle(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...trail.slice(trail.indexOf(node)), node];
    state.set(node, 'open');
    trail.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    trail.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('core folders', () => {
  it('finds a cycle when there is one, through any number of parts', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['a'])],
    ]);
    expect(findCycle(graph)).toEqual(['a', 'b', 'c', 'a']);
    expect(
      findCycle(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set<string>()],
        ]),
      ),
    ).toBeUndefined();
  });

  it('reads the graph of core/ from its imports', () => {
    const graph = coreGraph();
    // Parts known to depend on others: the reading of imports must see these edges.
    expect([...(graph.get('serving') ?? [])]).toEqual(expect.arrayContaining(['registry', 'table', 'events']));
    expect([...(graph.get('registry') ?? [])]).toEqual(expect.arrayContaining(['table', 'events', 'shared']));
  });

  it('has no import cycle between folders', () => {
    expect(findCycle(coreGraph())).toBeUndefined();
  });
});
