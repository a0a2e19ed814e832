/**
 * The shape of a scoring answer: a 1.x request gets MLflow 1.x's bare list, a 2.x request
 * `{"predictions": …}`. A body valid in both (`inputs`, `instances`, CSV) follows the MLflow
 * major version the model was logged with, so a client written for that version works unchanged.
 */
import type { Json, Protocol } from './input';
import { JsonText } from './json-text';

export function answerProtocol(request: Protocol, modelMlflowVersion: string | undefined): '1.x' | '2.x' {
  if (request !== 'either') return request;
  const major = Number.parseInt(modelMlflowVersion ?? '', 10);
  return major === 1 || major === 0 ? '1.x' : '2.x';
}

export function responseBody(protocol: '1.x' | '2.x', predictions: Json | JsonText): Json | JsonText {
  if (protocol === '1.x') return predictions;
  return predictions instanceof JsonText ? predictions.wrap('{"predictions":', '}') : { predictions };
}
