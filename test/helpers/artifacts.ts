import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { IRIS_MODEL } from './paths';

/** A temporary artifact root holding model directories made by the tests. */
export class ArtifactRoot {
  private constructor(readonly dir: string) {}

  static async create(): Promise<ArtifactRoot> {
    return new ArtifactRoot(await mkdtemp(path.join(tmpdir(), 'mlserve-artifacts-')));
  }

  get uri(): string {
    return pathToFileURL(this.dir).href;
  }

  /** Copies MLflow's saved iris model to `<root>/<name>` and returns its file:// URI. */
  async iris(name = 'iris'): Promise<string> {
    const dest = path.join(this.dir, name);
    await cp(IRIS_MODEL, dest, { recursive: true });
    return pathToFileURL(dest).href;
  }

  /** Writes a model directory with the given files; returns its file:// URI. */
  async model(name: string, files: Record<string, string>): Promise<string> {
    const dest = path.join(this.dir, name);
    await mkdir(dest, { recursive: true });
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dest, file)), { recursive: true });
      await writeFile(path.join(dest, file), content);
    }
    return pathToFileURL(dest).href;
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
