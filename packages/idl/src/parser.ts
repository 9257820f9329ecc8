import type {
  Decl,
  Direction,
  EnumMember,
  FieldDecl,
  IdlFile,
  ImportDecl,
  IntLiteral,
  MethodDecl,
  Name,
  ParamDecl,
  QualifiedName,
  ScalarName,
  TypeNode,
} from './ast';
import { SCALAR_TYPES } from './ast';
import { type Diagnostic, DiagnosticCode, diagnostic, diagnosticAt } from './diagnostics';
import { type Token, tokenize } from './lexer';
import { joinSpans, type SourceFile, type Span } from './source';

/**
 * How deeply modules and types may nest. Real interfaces nest a few levels; the limit
 * keeps hostile input from exhausting the stack (the compiler must never crash).
 */
export const MAX_NESTING = 64;

const DECL_WORDS: ReadonlySet<string> = new Set(['module', 'interface', 'struct', 'enum', 'exception']);
const SCALARS: ReadonlySet<string> = new Set(SCALAR_TYPES);
const DIRECTIONS: ReadonlySet<string> = new Set(['in', 'out', 'inout']);

/** Thrown to unwind to the nearest recovery point after a syntax error was reported. */
class Bail {}
const BAIL = new Bail();

/**
 * Parses one file. Syntax errors go to `diagnostics`; the parser then skips to the next
 * `;` or `}` and carries on, so one mistake does not hide the rest.
 */
export function parse(file: SourceFile, diagnostics: Diagnostic[]): IdlFile {
  return new Parser(file, tokenize(file, diagnostics), diagnostics).parseFile();
}

class Parser {
  private pos = 0;
  private depth = 0;
  /** Token index of the last syntax error, so a cascade at one place reports once. */
  private lastErrorAt = -1;

  constructor(
    private readonly file: SourceFile,
    private readonly tokens: readonly Token[],
    private readonly diagnostics: Diagnostic[],
  ) {}

  // --- token access ------------------------------------------------------------------

  private peek(k = 0): Token {
    return this.tokens[Math.min(this.pos + k, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }

  private span(t: Token): Span {
    return { file: this.file, start: t.start, end: t.end };
  }

  private spanFrom(first: Token): Span {
    const last = this.tokens[Math.max(0, this.pos - 1)]!;
    return { file: this.file, start: first.start, end: Math.max(first.end, last.end) };
  }

  private isPunct(c: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'punct' && t.text === c;
  }

  private isWord(w: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'ident' && t.text === w;
  }

  private atEof(): boolean {
    return this.peek().kind === 'eof';
  }

  private eat(c: string): boolean {
    if (!this.isPunct(c)) return false;
    this.next();
    return true;
  }

  // --- errors ------------------------------------------------------------------------

  private describe(t: Token): string {
    switch (t.kind) {
      case 'eof':
        return 'end of file';
      case 'int':
        return `number ${t.text}`;
      case 'string':
        return `string "${t.text}"`;
      default:
        return `'${t.text}'`;
    }
  }

  /**
   * Reports "expected …, found …" and unwinds to the caller's recovery point. Missing
   * punctuation (`atEndOfPrevious`) at the end of a line is reported where it is
   * missing, not at the start of the next line.
   */
  private fail(expected: string, atEndOfPrevious = false): never {
    const t = this.peek();
    if (this.pos !== this.lastErrorAt) {
      this.lastErrorAt = this.pos;
      const prev = this.pos > 0 ? this.tokens[this.pos - 1]! : null;
      const prevLine = prev ? this.file.position(prev.end).line : 0;
      const atPrev = atEndOfPrevious && prev !== null && this.file.position(t.start).line !== prevLine;
      this.diagnostics.push(
        atPrev
          ? diagnosticAt(
              this.file,
              prev!.end,
              1,
              DiagnosticCode.Expected,
              `expected ${expected}, found ${this.describe(t)}`,
            )
          : diagnostic(
              this.span(t),
              DiagnosticCode.Expected,
              `expected ${expected}, found ${this.describe(t)}`,
            ),
      );
    }
    throw BAIL;
  }

  private expect(c: string, context: string): Token {
    if (!this.isPunct(c)) this.fail(`'${c}' ${context}`, true);
    return this.next();
  }

  private expectName(what: string): Name {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(what);
    this.next();
    return { text: t.text, span: this.span(t) };
  }

  /**
   * Skips to a point where parsing can resume: just past a `;`, or before a `}` or a
   * declaration keyword, at the nesting level where the error happened.
   */
  private recover(stopAtDecl: boolean): void {
    let nest = 0;
    const start = this.pos;
    while (!this.atEof()) {
      const t = this.peek();
      if (t.kind === 'punct') {
        if (t.text === '{' || t.text === '(' || t.text === '[') nest++;
        else if (t.text === ')' || t.text === ']') nest = Math.max(0, nest - 1);
        else if (t.text === '}') {
          // The enclosing block's `}`: its loop consumes it (or reports it when stray).
          if (nest === 0) return;
          nest--;
          if (nest === 0 && stopAtDecl) {
            this.next();
            this.eat(';');
            return;
          }
        } else if (t.text === ';' && nest === 0) {
          this.next();
          return;
        }
      } else if (
        stopAtDecl &&
        nest === 0 &&
        t.kind === 'ident' &&
        DECL_WORDS.has(t.text) &&
        this.pos !== start
      ) {
        return;
      }
      this.next();
    }
  }

  private nest<T>(span: Span, f: () => T): T {
    if (this.depth >= MAX_NESTING) {
      this.diagnostics.push(
        diagnostic(
          span,
          DiagnosticCode.NestingTooDeep,
          `nesting is deeper than ${MAX_NESTING} levels; flatten the declarations or types`,
        ),
      );
      this.lastErrorAt = this.pos;
      throw BAIL;
    }
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  // --- file and declarations ---------------------------------------------------------

  parseFile(): IdlFile {
    const imports: ImportDecl[] = [];
    const decls: Decl[] = [];
    while (!this.atEof()) {
      const before = this.pos;
      if (this.isWord('import')) {
        try {
          imports.push(this.parseImport());
        } catch (e) {
          if (e !== BAIL) throw e;
          this.recover(true);
        }
      } else {
        this.parseDeclInto(decls);
      }
      if (this.pos === before) this.next();
    }
    return { imports, decls };
  }

  private parseImport(): ImportDecl {
    const first = this.next();
    const t = this.peek();
    if (t.kind !== 'string') this.fail('a file name in double quotes after import');
    this.next();
    this.expect(';', 'after the import');
    return { path: t.text, span: this.spanFrom(first) };
  }

  /** Parses one declaration into `out`, recovering after errors. */
  private parseDeclInto(out: Decl[]): void {
    try {
      const d = this.parseDecl();
      if (d) out.push(d);
    } catch (e) {
      if (e !== BAIL) throw e;
      this.recover(true);
    }
  }

  private parseDecl(): Decl | null {
    const t = this.peek();
    if (t.kind === 'punct' && t.text === ';') {
      this.next(); // an empty declaration, as after `};` in C-family IDLs
      return null;
    }
    if (t.kind === 'ident') {
      switch (t.text) {
        case 'module':
          return this.parseModule();
        case 'interface':
          return this.parseInterface();
        case 'struct':
          return this.parseStruct();
        case 'enum':
          return this.parseEnum();
        case 'exception':
          return this.parseException();
        case 'import':
          this.fail('a declaration (imports go at the top level of a file)');
      }
    }
    return this.fail('a declaration (module, interface, struct, enum or exception)');
  }

  private endOfBlock(): void {
    this.eat(';');
  }

  private parseModule(): Decl {
    const first = this.next();
    const name = this.expectName('a module name after module');
    return this.nest(this.span(first), () => {
      this.expect('{', `to open module '${name.text}'`);
      const body: Decl[] = [];
      while (!this.isPunct('}') && !this.atEof()) {
        const before = this.pos;
        this.parseDeclInto(body);
        if (this.pos === before) this.next();
      }
      this.expect('}', `to close module '${name.text}'`);
      this.endOfBlock();
      return { kind: 'module', name, body, doc: first.doc, span: this.spanFrom(first) };
    });
  }

  /** Runs `item` until the closing `}`, recovering inside the braces after each error. */
  private members(item: () => void): void {
    while (!this.isPunct('}') && !this.atEof()) {
      const before = this.pos;
      try {
        item();
      } catch (e) {
        if (e !== BAIL) throw e;
        this.recover(false);
      }
      if (this.pos === before && !this.isPunct('}')) this.next();
    }
  }

  private parseInterface(): Decl {
    const first = this.next();
    const name = this.expectName('an interface name after interface');
    let base: QualifiedName | null = null;
    if (this.eat(':')) base = this.parseQualifiedName('the base interface after ":"');
    let protocol: IntLiteral | null = null;
    if (this.isWord('protocol')) {
      this.next();
      protocol = this.parseInt('a protocol number after protocol');
    }
    this.expect('{', `to open interface '${name.text}'`);
    const methods: MethodDecl[] = [];
    this.members(() => {
      if (this.eat(';')) return;
      methods.push(this.parseMethod());
    });
    this.expect('}', `to close interface '${name.text}'`);
    this.endOfBlock();
    return { kind: 'interface', name, base, protocol, methods, doc: first.doc, span: this.spanFrom(first) };
  }

  private parseMethod(): MethodDecl {
    const first = this.peek();
    let oneway: Span | null = null;
    if (this.isWord('oneway')) oneway = this.span(this.next());
    let returns: TypeNode | null = null;
    if (this.isWord('void')) this.next();
    else returns = this.parseType('a return type (or void) for the method');
    const name = this.expectName('a method name');
    this.expect('(', `after method '${name.text}'`);
    const params: ParamDecl[] = [];
    if (!this.isPunct(')')) {
      do params.push(this.parseParam());
      while (this.eat(','));
    }
    this.expect(')', `to close the parameters of '${name.text}'`);
    const raises: QualifiedName[] = [];
    let raisesSpan: Span | null = null;
    if (this.isWord('raises')) {
      raisesSpan = this.span(this.next());
      this.expect('(', 'after raises');
      do raises.push(this.parseQualifiedName('an exception name'));
      while (this.eat(','));
      this.expect(')', 'to close the raises list');
    }
    this.expect(';', `after method '${name.text}'`);
    return { name, oneway, returns, params, raises, raisesSpan, doc: first.doc, span: this.spanFrom(first) };
  }

  private parseParam(): ParamDecl {
    const first = this.peek();
    let direction: Direction = 'in';
    // `in`, `out` and `inout` are directions only when a type follows them.
    if (first.kind === 'ident' && DIRECTIONS.has(first.text) && this.peek(1).kind === 'ident') {
      direction = first.text as Direction;
      this.next();
    }
    const type = this.parseType('a parameter type');
    const name = this.expectName('a parameter name');
    return { direction, type, name, span: this.spanFrom(first) };
  }

  private parseFields(): FieldDecl[] {
    const fields: FieldDecl[] = [];
    this.members(() => {
      const first = this.peek();
      const type = this.parseType('a field type');
      const name = this.expectName('a field name');
      this.expect(';', `after field '${name.text}'`);
      fields.push({ name, type, doc: first.doc, span: this.spanFrom(first) });
    });
    return fields;
  }

  private parseStruct(): Decl {
    const first = this.next();
    const name = this.expectName('a struct name after struct');
    this.expect('{', `to open struct '${name.text}'`);
    const fields = this.parseFields();
    this.expect('}', `to close struct '${name.text}'`);
    this.endOfBlock();
    return { kind: 'struct', name, fields, doc: first.doc, span: this.spanFrom(first) };
  }

  private parseException(): Decl {
    const first = this.next();
    const name = this.expectName('an exception name after exception');
    let fields: FieldDecl[] = [];
    if (!this.eat(';')) {
      this.expect('{', `or ';' after exception '${name.text}'`);
      fields = this.parseFields();
      this.expect('}', `to close exception '${name.text}'`);
      this.endOfBlock();
    }
    return { kind: 'exception', name, fields, doc: first.doc, span: this.spanFrom(first) };
  }

  private parseEnum(): Decl {
    const first = this.next();
    const name = this.expectName('an enum name after enum');
    this.expect('{', `to open enum '${name.text}'`);
    const members: EnumMember[] = [];
    this.members(() => {
      const t = this.peek();
      const memberName = this.expectName('an enum member name');
      const value = this.eat('=') ? this.parseInt('a value after "="') : null;
      members.push({ name: memberName, value, doc: t.doc });
      if (!this.isPunct('}')) this.expect(',', `after enum member '${memberName.text}'`);
    });
    this.expect('}', `to close enum '${name.text}'`);
    this.endOfBlock();
    return { kind: 'enum', name, members, doc: first.doc, span: this.spanFrom(first) };
  }

  // --- names, numbers and types ------------------------------------------------------

  private parseQualifiedName(what: string): QualifiedName {
    const parts: Name[] = [this.expectName(what)];
    while (this.isPunct('.')) {
      this.next();
      parts.push(this.expectName(`a name after '.' in '${parts.map((p) => p.text).join('.')}.'`));
    }
    return {
      parts,
      text: parts.map((p) => p.text).join('.'),
      span: joinSpans(parts[0]!.span, parts[parts.length - 1]!.span),
    };
  }

  private parseInt(what: string): IntLiteral {
    const first = this.peek();
    const negative = this.eat('-');
    const t = this.peek();
    if (t.kind !== 'int') this.fail(what);
    this.next();
    return { value: negative ? -t.value : t.value, malformed: t.malformed, span: this.spanFrom(first) };
  }

  private parseType(what: string): TypeNode {
    const first = this.peek();
    return this.nest(this.span(first), () => {
      let type = this.parseBaseType(what);
      const lengths: IntLiteral[] = [];
      while (this.eat('[')) {
        lengths.push(this.parseInt('an array length'));
        this.expect(']', 'to close the array length');
      }
      // `T[2][3]` is two arrays of three: wrap from the innermost length outwards.
      for (let i = lengths.length - 1; i >= 0; i--) {
        type = { kind: 'array', element: type, length: lengths[i]!, span: this.spanFrom(first) };
      }
      return type;
    });
  }

  private parseBaseType(what: string): TypeNode {
    const t = this.peek();
    if (t.kind !== 'ident') this.fail(what);
    if (SCALARS.has(t.text)) {
      this.next();
      return { kind: 'scalar', name: t.text as ScalarName, span: this.span(t) };
    }
    switch (t.text) {
      case 'fpage':
        this.next();
        return { kind: 'fpage', span: this.span(t) };
      case 'string':
      case 'bytes': {
        this.next();
        this.expect('<', `after ${t.text} (write ${t.text}<N> with a maximum length in bytes)`);
        const bound = this.parseInt(`a maximum length in bytes for ${t.text}<N>`);
        this.expect('>', `to close ${t.text}<N>`);
        return { kind: t.text, bound, span: this.spanFrom(t) };
      }
      case 'sequence': {
        this.next();
        this.expect('<', 'after sequence (write sequence<T, N>)');
        const element = this.parseType('an element type for sequence<T, N>');
        this.expect(',', 'and a maximum length after the element type (write sequence<T, N>)');
        const bound = this.parseInt('a maximum length for sequence<T, N>');
        this.expect('>', 'to close sequence<T, N>');
        return { kind: 'sequence', element, bound, span: this.spanFrom(t) };
      }
      case 'cap': {
        this.next();
        let iface: QualifiedName | null = null;
        let rights: Name | null = null;
        if (this.eat('<')) {
          iface = this.parseQualifiedName('an interface name for cap<Interface>');
          if (this.eat(',')) rights = this.expectName('rights letters such as rw for cap<Interface, rights>');
          this.expect('>', 'to close cap<Interface>');
        }
        return { kind: 'cap', iface, rights, span: this.spanFrom(t) };
      }
      case 'void':
        return this.fail(`${what} ('void' is only a return type)`);
      default: {
        const name = this.parseQualifiedName(what);
        return { kind: 'named', name, span: name.span };
      }
    }
  }
}
