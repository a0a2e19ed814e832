/** The parts of the REST APIs' JSON answers the CLI reads. */

export interface TagJson {
  readonly key: string;
  readonly value: string;
}

export interface ModelVersionJson {
  readonly name: string;
  readonly version: string;
  readonly creation_timestamp?: number;
  readonly last_updated_timestamp?: number;
  readonly user_id?: string;
  readonly current_stage?: string;
  readonly description?: string;
  readonly source?: string;
  readonly run_id?: string;
  readonly status?: string;
  readonly status_message?: string;
  readonly tags?: readonly TagJson[];
  readonly run_link?: string;
  readonly aliases?: readonly string[];
}

export interface RegisteredModelJson {
  readonly name: string;
  readonly creation_timestamp?: number;
  readonly last_updated_timestamp?: number;
  readonly description?: string;
  readonly latest_versions?: readonly ModelVersionJson[];
  readonly tags?: readonly TagJson[];
  readonly aliases?: readonly { alias: string; version: string }[];
}

export type EndpointState =
  | 'ENDPOINT_STATE_PENDING'
  | 'ENDPOINT_STATE_READY'
  | 'ENDPOINT_STATE_FAILED'
  | 'ENDPOINT_STATE_STOPPED';

export interface EndpointStatusJson {
  readonly registered_model_name: string;
  readonly state: EndpointState | string;
  readonly message?: string;
  /** get-status only, once a configuration was set. */
  readonly compute_size?: string;
  readonly tags?: readonly TagJson[];
}

export interface EndpointVersionJson {
  readonly endpoint_version_name: string;
  readonly state: string;
  readonly message?: string;
  readonly scoring_uris?: readonly string[];
}

export interface ServingEventJson {
  readonly timestamp: number;
  readonly event_type: string;
  readonly message?: string;
  readonly endpoint_version_name?: string;
}
