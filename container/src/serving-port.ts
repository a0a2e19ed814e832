/**
 * The serving control plane (core/serving) as the model host uses it: one read of what to serve,
 * and its reports back. The host depends on this and nothing more; main.ts hands it the real one.
 */
import type {
  HostReport,
  ModelVersion,
  RegisteredModel,
  ServingConfig,
  ServingEvent,
  VersionServingStatus,
} from '../../core/registry/model';

/** What the host reads to follow a model: the model (its aliases), its versions and its serving config. */
export interface ServingSnapshot {
  readonly model: RegisteredModel;
  readonly versions: readonly ModelVersion[];
  readonly serving?: ServingConfig;
}

export interface HostServing {
  /** The model and all its versions; rejects with RESOURCE_DOES_NOT_EXIST when the model is gone. */
  servingSnapshot(name: string): Promise<ServingSnapshot>;
  /**
   * Records a version's serving state. With `onlyOwnReport` (a stopping host) it does not
   * replace another host's report; a report from an older serving revision is ignored. (It
   * answers whether the report was recorded; the host does not need to know.)
   */
  recordServingStatus(status: VersionServingStatus, options?: { readonly onlyOwnReport?: boolean }): Promise<unknown>;
  recordServingEvent(event: Omit<ServingEvent, 'time'> & { time?: number }): Promise<void>;
  /** Which revision the host runs and whether every live version has settled: what a deploy waits for. */
  recordHostReport(name: string, report: HostReport): Promise<void>;
}
