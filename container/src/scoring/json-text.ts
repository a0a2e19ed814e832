/**
 * An answer's JSON written as text in parts, produced as they are sent: a large prediction
 * (hundreds of thousands of rows) is formatted block by block while the response is written,
 * so it never exists as one huge string and other requests run between the blocks. A small
 * answer is held as one string (`JsonText.of`), which the HTTP layer writes at once.
 */
import type { Json } from './input';

export class JsonText {
  /** `source` formats the text part by part each time it is read; `held` is the text held whole instead. */
  constructor(
    private readonly source: (() => Iterable<string>) | undefined,
    private readonly held?: string,
  ) {}

  /** A text held whole. */
  static of(text: string): JsonText {
    return new JsonText(undefined, text);
  }

  /** The text when it is held whole, else undefined (it is formatted as it is read). */
  whole(): string | undefined {
    return this.held;
  }

  /** The text's parts, in order; each call formats them anew. */
  parts(): Iterable<string> {
    return this.source ? this.source() : [this.held as string];
  }

  /** The whole text at once. */
  text(): string {
    if (this.held !== undefined) return this.held;
    let text = '';
    for (const part of this.parts()) text += part;
    return text;
  }

  parse(): Json {
    return JSON.parse(this.text()) as Json;
  }

  /** This text inside a prefix and a suffix (e.g. `{"predictions":` and `}`). */
  wrap(prefix: string, suffix: string): JsonText {
    if (this.held !== undefined) return JsonText.of(prefix + this.held + suffix);
    const inner = this;
    return new JsonText(function* () {
      yield prefix;
      yield* inner.parts();
      yield suffix;
    });
  }
}
