/**
 * Builds the web console: one ES module and one stylesheet, minified by esbuild, with content
 * hashes in their names, and an index.html that loads them (no inline script or style, so the
 * console's Content-Security-Policy can forbid both). The twin builds it when it starts; the
 * AWS deployment builds it into the console function's bundle at synth.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const CONSOLE_ROOT = path.dirname(fileURLToPath(import.meta.url));

/** Where the built files are, relative to the output folder. */
export const ASSETS_DIR = 'assets';

export interface ConsoleBuild {
  /** The output folder: index.html and assets/. */
  readonly dir: string;
  /** Every file written, relative to `dir`. */
  readonly files: readonly string[];
}

/** Builds the console into `outDir` (emptied first). */
export async function buildConsole(outDir: string): Promise<ConsoleBuild> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(path.join(outDir, ASSETS_DIR), { recursive: true });
  const result = await build({
    entryPoints: { app: path.join(CONSOLE_ROOT, 'src/main.tsx') },
    outdir: path.join(outDir, ASSETS_DIR),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    sourcemap: false,
    metafile: true,
    logLevel: 'silent',
    loader: { '.svg': 'file' },
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.relative(outDir, file));
  const script = outputs.find((f) => f.endsWith('.js'));
  const styles = outputs.filter((f) => f.endsWith('.css'));
  if (!script) throw new Error('the console build wrote no script');
  const index = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>mlserve</title>',
    // Relative: on AWS without a custom domain the console lives under the API's stage (/prod/).
    ...styles.map((href) => `<link rel="stylesheet" href="${href}">`),
    `<script type="module" src="${script}"></script>`,
    '</head>',
    '<body><div id="app"></div></body>',
    '</html>',
    '',
  ].join('\n');
  await writeFile(path.join(outDir, 'index.html'), index);
  const files = ['index.html', ...(await readdir(path.join(outDir, ASSETS_DIR))).map((f) => `${ASSETS_DIR}/${f}`)];
  return { dir: outDir, files };
}

// `npx tsx console/build.ts <dir>` builds it from the command line.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? path.join(CONSOLE_ROOT, '../.mlserve/console');
  const built = await buildConsole(path.resolve(out));
  process.stdout.write(`${built.files.join('\n')}\n`);
}
