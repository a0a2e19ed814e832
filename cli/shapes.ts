/** The REST APIs' JSON answers the CLI reads: the server's own contracts, imported, never retyped. */
export type { ModelVersionJson, RegisteredModelJson, TagJson } from '../lambdas/registry/mlflow-json';
export type {
  EndpointState,
  EndpointStatusJson,
  EndpointVersionJson,
  ServingEventJson,
} from '../lambdas/serving/responses';
