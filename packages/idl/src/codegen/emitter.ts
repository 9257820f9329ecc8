/** Builds indented TypeScript text line by line. */
export class Emitter {
  private readonly lines: string[] = [];
  private depth = 0;

  /** Adds lines at the current indentation (an empty string adds a blank line). */
  line(...text: string[]): this {
    for (const t of text) this.lines.push(t === '' ? '' : '  '.repeat(this.depth) + t);
    return this;
  }

  /** Runs `body` one level deeper. */
  indented(body: () => void): this {
    this.depth++;
    body();
    this.depth--;
    return this;
  }

  /** Adds `open`, runs `body` one level deeper, then adds `close`. */
  block(open: string, body: () => void, close = '}'): this {
    this.line(open);
    this.depth++;
    body();
    this.depth--;
    return this.line(close);
  }

  /**
   * Adds `head(items)tail` on one line when it fits the line width (110, as the
   * repository's formatter uses), or with one item per line otherwise, as a formatter
   * would wrap it. `breakMany` always wraps several items (formatters do that for
   * arrays of objects).
   */
  list(head: string, items: readonly string[], tail: string, options: { breakMany?: boolean } = {}): this {
    const one = `${head}${items.join(', ')}${tail}`;
    const fits = one.length + 2 * this.depth <= 110 && !(options.breakMany && items.length > 1);
    if (items.length === 0 || fits) return this.line(one);
    this.line(head);
    this.depth++;
    for (const item of items) this.line(`${item},`);
    this.depth--;
    return this.line(tail.trimStart());
  }

  /** Adds a TSDoc comment made of `paragraphs` (skipping empty ones). */
  doc(...paragraphs: (string | undefined)[]): this {
    const text = paragraphs.filter((p): p is string => p !== undefined && p.trim() !== '');
    if (text.length === 0) return this;
    const body = text.join('\n\n').replace(/\*\//g, '*\\/').split('\n');
    if (body.length === 1) return this.line(`/** ${body[0]} */`);
    this.line('/**');
    for (const l of body) this.line(l === '' ? ' *' : ` * ${l}`);
    return this.line(' */');
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
