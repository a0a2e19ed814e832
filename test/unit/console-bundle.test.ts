import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../console/build';

const BUDGET_BYTES = 250 * 1024;
let out: string | undefined;

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

describe('the console bundle', () => {
  it(`stays within its budget of ${BUDGET_BYTES / 1024} KB gzipped, charts included`, async () => {
    out = await mkdtemp(path.join(tmpdir(), 'mlserve-console-'));
    const built = await buildConsole(out);
    let total = 0;
    for (const file of built.files) total += gzipSync(await readFile(path.join(out, file))).length;
    console.log(`console bundle: ${(total / 1024).toFixed(1)} KB gzipped (${built.files.join(', ')})`);
    expect(total).toBeLessThanOrEqual(BUDGET_BYTES);
  });

  it('loads its script and styles from files only: no inline script or style in the page', async () => {
    out ??= await mkdtemp(path.join(tmpdir(), 'mlserve-console-'));
    const built = await buildConsole(out);
    const index = await readFile(path.join(built.dir, 'index.html'), 'utf8');
    expect(index).toMatch(/<script type="module" src="assets\/app-[A-Z0-9]+\.js"><\/script>/);
    expect(index).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(index).not.toMatch(/<style|style=/);
  });
});
