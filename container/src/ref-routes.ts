/**
 * Which served version answers each stage and alias. The registry says who holds a ref; the
 * host moves the ref to that version only once it can answer: while the new holder is still
 * loading, the old holder keeps answering the ref, so a promotion, a rollback or an alias move
 * never leaves the ref without a version. A version number always follows the registry.
 */
import { canonicalStage } from '../../core/registry';
import type { ModelVersion, RegisteredModel, VersionServingState } from '../../core/registry/model';

/** A stage or alias, as a key: `stage:Production`, `alias:champion`. */
export type RefKey = `stage:${string}` | `alias:${string}`;

/** The key of a scoring reference; undefined for a version number or a ref that names no stage or alias. */
export function refKeyOf(ref: string): RefKey | undefined {
  if (/^[0-9]+$/.test(ref)) return undefined;
  if (ref.startsWith('@')) return `alias:${ref.slice(1)}`;
  const stage = canonicalStage(ref);
  return stage === 'Staging' || stage === 'Production' ? `stage:${stage}` : undefined;
}

/** The version holding each stage (its highest READY version) and each alias, as the registry says now. */
export function registryHolders(model: RegisteredModel, versions: readonly ModelVersion[]): Map<RefKey, number> {
  const holders = new Map<RefKey, number>();
  for (const v of versions) {
    if (v.status !== 'READY' || (v.currentStage !== 'Staging' && v.currentStage !== 'Production')) continue;
    const key: RefKey = `stage:${v.currentStage}`;
    if ((holders.get(key) ?? 0) < v.version) holders.set(key, v.version);
  }
  for (const [alias, version] of Object.entries(model.aliases)) holders.set(`alias:${alias}`, version);
  return holders;
}

export class RefRoutes {
  private readonly holders = new Map<RefKey, number>();
  private wanted: ReadonlyMap<RefKey, number> = new Map();

  /**
   * Moves each ref to the registry's holder unless that version is still loading while the
   * version answering the ref now is READY. `stateOf` gives a served version's state
   * (undefined: the host does not serve it, so there is nothing to wait for).
   */
  update(wanted: ReadonlyMap<RefKey, number>, stateOf: (version: number) => VersionServingState | undefined): void {
    this.wanted = wanted;
    for (const key of new Set([...wanted.keys(), ...this.holders.keys()])) {
      const want = wanted.get(key);
      const have = this.holders.get(key);
      if (want === undefined) {
        this.holders.delete(key);
      } else if (want !== have) {
        const waitFor = have !== undefined && stateOf(have) === 'READY' && stateOf(want) === 'LOADING';
        if (!waitFor) this.holders.set(key, want);
      }
    }
  }

  /** The version answering a ref now. */
  holderOf(key: RefKey): number | undefined {
    return this.holders.get(key);
  }

  /** Refs still answered by their old holder while the registry's holder loads. */
  handovers(): { ref: RefKey; from: number; to: number }[] {
    const out: { ref: RefKey; from: number; to: number }[] = [];
    for (const [ref, from] of this.holders) {
      const to = this.wanted.get(ref);
      if (to !== undefined && to !== from) out.push({ ref, from, to });
    }
    return out;
  }

  /** Versions answering a ref for a version still loading: they stay loaded even when the registry no longer serves them. */
  handingOver(): Set<number> {
    return new Set(this.handovers().map((h) => h.from));
  }
}
