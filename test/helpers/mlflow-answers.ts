/** MLflow 2.17.2's real scoring-server answers for its iris model (test/fixtures/mlflow-2.17.2/scoring-server-responses.txt). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FIXTURES } from './paths';

export interface RecordedCase {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  readonly body?: string;
  readonly status: number;
  readonly responseType: string;
  readonly response: string;
}

/** The cases of scoring-server-responses.txt: MLflow 2.17.2's scoring server answering the iris model. */
export function recordedCases(): RecordedCase[] {
  const text = readFileSync(path.join(FIXTURES, 'scoring-server-responses.txt'), 'utf8');
  return text
    .split(/^### /m)
    .slice(1)
    .map((block) => {
      const lines = block.split('\n');
      const name = (lines[0] as string).trim();
      const req = /^> (\w+) (\S+)\s+Content-Type: (.*)$/.exec(lines[1] as string);
      const statusAt = lines.findIndex((l) => l.startsWith('< status'));
      const bodyLines = lines.slice(2, statusAt).join('\n');
      const status = /^< status (\d+)\s+resp Content-Type: (.*)$/.exec(lines[statusAt] as string);
      const respBody = lines
        .slice(statusAt + 1)
        .join('\n')
        .replace(/^< body: ?/, '')
        .replace(/\n+$/, '');
      return {
        name,
        method: req?.[1] as string,
        path: req?.[2] as string,
        contentType: req?.[3] === '<none>' ? undefined : req?.[3],
        body: bodyLines.startsWith('> body: ') ? bodyLines.slice('> body: '.length) : undefined,
        status: Number(status?.[1]),
        responseType: status?.[2] as string,
        response: respBody,
      };
    });
}
