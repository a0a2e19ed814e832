/**
 * An answer's JSON written as text in parts, produced as they are sent: a large prediction
 * (hundreds of thousands of rows) is formatted block by block while the response is written,
 * so it never exists as one huge string and other requests run between the blocks.
 */
import type { Json } from './input';

export class JsonText {
  constructor(private readonly source: () => Iterable<string>) {}

  /** The text's parts, in order; each call formats them anew. */
  parts(): Iterable<string> {
    return this.source();
  }

  /** The whole text at once. */
  text(): string {
    let text = '';
    for (const part of this.parts()) text += part;
    return text;
  }

  parse(): Json {
    return JSON.parse(this.text()) as Json;
  }

  /** This text inside a prefix and a suffix (e.g. `{"predictions":` and `}`). */
  wrap(prefix: string, suffix: string): JsonText {
    const inner = this;
    return new JsonText(function* () {
      yield prefix;
      yield* inner.parts();
      yield suffix;
    });
  }
}
