import type { InterfaceSym, MethodSym, Ty } from '../model';
import { safeIdentifier } from '../names';
import type { Emitter } from './emitter';
import type { NameTable } from './names';
import type { TypeMapper } from './types';

/** Locals the generated client methods use, which parameter names must avoid. */
const CLIENT_LOCALS: ReadonlySet<string> = new Set(['w', 'r', 'tag']);
/** Parameters of the generated handler functions. */
const HANDLER_LOCALS: ReadonlySet<string> = new Set(['impl', 'r', 'ctx']);

interface Value {
  /** The IDL name: a parameter name, or `result` for the return value. */
  readonly key: string;
  /** The TypeScript variable holding it. */
  readonly local: string;
  readonly type: Ty;
}

/** A method as the generated code sees it: what it sends, what it gets back. */
interface Shape {
  /** `in` and `inout` parameters, in order: the request after the opcode. */
  readonly args: Value[];
  /** `out` and `inout` parameters, then the return value: the reply. */
  readonly results: Value[];
}

function shape(m: MethodSym, reserved: ReadonlySet<string>): Shape {
  const taken = new Set(reserved);
  const args: Value[] = [];
  for (const p of m.params) {
    if (p.direction === 'out') continue;
    const local = safeIdentifier(p.name, taken);
    taken.add(local);
    args.push({ key: p.name, local, type: p.type });
  }
  const results: Value[] = [];
  const add = (key: string, type: Ty): void => {
    const local = safeIdentifier(key, taken);
    taken.add(local);
    results.push({ key, local, type });
  };
  for (const p of m.params) if (p.direction !== 'in') add(p.name, p.type);
  if (m.returns) add('result', m.returns);
  return { args, results };
}

/** The TypeScript type of a method's outcome: void, the one result, or an object of them. */
function resultType(types: TypeMapper, s: Shape): string {
  if (s.results.length === 0) return 'void';
  if (s.results.length === 1) return types.ts(s.results[0]!.type);
  return `{ ${s.results.map((v) => `${v.key}: ${types.ts(v.type)}`).join('; ')} }`;
}

function methodDoc(out: Emitter, names: NameTable, m: MethodSym): void {
  const throws = m.raises.map((e) => `@throws {@link ${names.ref(e)}} when the server raises it.`);
  out.doc(m.doc, ...(throws.length > 0 ? [throws.join('\n')] : []));
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Emits an interface: wire constants, client class, server interface, dispatch table and serve function. */
export function emitInterface(out: Emitter, types: TypeMapper, names: NameTable, sym: InterfaceSym): void {
  const n = sym.name;
  out.doc(sym.doc, `Wire constants of IDL interface \`${sym.fqn}\`.`);
  out.block(
    `export const ${n} = {`,
    () => {
      const derived = sym.protocolExplicit ? '' : ` (FNV-1a of '${sym.fqn}')`;
      out.line(`/** The tag label of requests to ${n}'s own methods${derived}. */`);
      out.line(`protocol: ${hex(sym.protocol)},`);
      out.line('/** MR0 of each request. */');
      if (sym.methods.length === 0) out.line('opcodes: {},');
      else {
        out.block(
          'opcodes: {',
          () => {
            for (const m of sym.methods) out.line(`${m.name}: ${m.opcode},`);
          },
          '},',
        );
      }
    },
    '} as const;',
  );
  emitClient(out, types, names, sym);
  emitServer(out, types, names, sym);
  out.line('');
  out.doc(
    `Serves \`${sym.fqn}\`${sym.base ? ' and the interfaces it inherits' : ''} with \`impl\` in the calling thread, forever:\n` +
      `\`yield* serve${n}(env, impl)\`. Malformed requests get error replies; the loop never throws.`,
  );
  out.list(
    `export function serve${n}(`,
    ['env: idl.ThreadEnv', `impl: ${n}Server`, 'options?: idl.ServeOptions'],
    '): idl.UserCode<never> {',
  );
  out.indented(() =>
    out.line(`return idl.serve(env, impl, ${n}Handlers, '${sym.requestWindows}', options);`),
  );
  out.line('}');
}

function emitClient(out: Emitter, types: TypeMapper, names: NameTable, sym: InterfaceSym): void {
  const n = sym.name;
  const parent = sym.base ? names.ref(sym.base, 'Client') : 'idl.Client';
  out.line('');
  out.doc(
    `A client of \`${sym.fqn}\`: \`new ${n}Client(env, cap)\` for the capability \`cap\`. Methods are\n` +
      'generators: call them with `yield*` in a kernel thread.',
  );
  out.block(`export class ${n}Client extends ${parent} {`, () => {
    const raising = sym.methods.filter((m) => m.raises.length > 0);
    for (const m of raising) {
      const list = m.raises.map((e) => names.ref(e, 'Codec'));
      out.list(`static readonly #${m.name}Raises: readonly idl.Codec<Error>[] = [`, list, '];');
    }
    sym.methods.forEach((m, i) => {
      if (i > 0 || raising.length > 0) out.line('');
      emitClientMethod(out, types, names, sym, m);
    });
  });
}

function emitClientMethod(
  out: Emitter,
  types: TypeMapper,
  names: NameTable,
  sym: InterfaceSym,
  m: MethodSym,
): void {
  const n = sym.name;
  const s = shape(m, CLIENT_LOCALS);
  methodDoc(out, names, m);
  const params = s.args.map((a) => `${a.local}: ${types.ts(a.type)}`);
  out.list(`*${m.name}(`, params, `): idl.UserCode<${resultType(types, s)}> {`);
  out.indented(() => {
    out.line(`const w = this.stub.request(${n}.opcodes.${m.name}, '${m.replyWindows}');`);
    for (const a of s.args) out.line(types.write(a.type, a.local));
    if (m.oneway) {
      out.line(`this.stub.sent(yield this.env.send(this.cap, w.finish(${n}.protocol)));`);
      return;
    }
    out.line(`const tag: number = yield this.env.call(this.cap, w.finish(${n}.protocol));`);
    const raises = m.raises.length > 0 ? `, ${n}Client.#${m.name}Raises` : '';
    if (s.results.length === 0) {
      out.line(`this.stub.reply(tag${raises}).done();`);
      return;
    }
    out.line(`const r = this.stub.reply(tag${raises});`);
    for (const v of s.results) out.line(`const ${v.local} = ${types.read(v.type)};`);
    out.line('r.done();');
    if (s.results.length === 1) out.line(`return ${s.results[0]!.local};`);
    else
      out.line(
        `return { ${s.results.map((v) => (v.local === v.key ? v.key : `${v.key}: ${v.local}`)).join(', ')} };`,
      );
  });
  out.line('}');
}

function emitServer(out: Emitter, types: TypeMapper, names: NameTable, sym: InterfaceSym): void {
  const n = sym.name;
  out.line('');
  out.doc(
    `What a server of \`${sym.fqn}\` implements. Each method gets the request's arguments and a\n` +
      'context (the gate label it came through), and returns its results, or a generator that\n' +
      'returns them when it needs to make IPC itself. Throwing a declared exception replies with\n' +
      'it; anything else thrown replies −EIO.',
  );
  const ext = sym.base ? ` extends ${names.ref(sym.base, 'Server')}` : '';
  out.block(`export interface ${n}Server${ext} {`, () => {
    sym.methods.forEach((m, i) => {
      if (i > 0) out.line('');
      const s = shape(m, new Set());
      const ctx = safeIdentifier('ctx', new Set(s.args.map((a) => a.local)));
      const params = [...s.args.map((a) => `${a.local}: ${types.ts(a.type)}`), `${ctx}: idl.CallContext`];
      methodDoc(out, names, m);
      out.list(`${m.name}(`, params, `): idl.Served<${resultType(types, s)}>;`);
    });
  });

  out.line('');
  const inherited = sym.base ? ', inherited protocols included' : '';
  out.doc(`The dispatch table of \`${sym.fqn}\`: protocol → handler by opcode${inherited}.`);
  const head = `export const ${n}Handlers: idl.Handlers<${n}Server> = new Map<`;
  const typeArgs = ['number', `readonly idl.Handler<${n}Server>[]`];
  // Wrapped the way the formatter wraps it, so generated files need no reformatting.
  if (`${head}${typeArgs.join(', ')}>([`.length <= 110) out.line(`${head}${typeArgs.join(', ')}>([`);
  else {
    out.line(head);
    out.indented(() => out.line(`${typeArgs[0]},`, typeArgs[1]!));
    out.line('>([');
  }
  out.indented(() => {
    if (sym.base) out.line(`...${names.ref(sym.base, 'Handlers')},`);
    out.block(
      '[',
      () => {
        out.line(`${n}.protocol,`);
        out.block(
          '[',
          () => {
            for (const m of sym.methods) emitHandler(out, types, names, m);
          },
          '],',
        );
      },
      '],',
    );
  });
  out.line(']);');
}

function emitHandler(out: Emitter, types: TypeMapper, names: NameTable, m: MethodSym): void {
  const s = shape(m, HANDLER_LOCALS);
  out.block(
    '{',
    () => {
      out.line(`// ${m.name}`);
      out.block(
        'call: (impl, r, ctx) => {',
        () => {
          for (const a of s.args) out.line(`const ${a.local} = ${types.read(a.type)};`);
          out.line('r.done();');
          out.line(`return impl.${m.name}(${[...s.args.map((a) => a.local), 'ctx'].join(', ')});`);
        },
        '},',
      );
      if (m.oneway) out.line('reply: null,');
      else if (s.results.length === 0) out.line('reply: () => {},');
      else if (s.results.length === 1) {
        const v = s.results[0]!;
        out.block(`reply: (w, v: ${types.ts(v.type)}) => {`, () => out.line(types.write(v.type, 'v')), '},');
      } else {
        out.block(
          `reply: (w, v: ${resultType(types, s)}) => {`,
          () => {
            for (const v of s.results) out.line(types.write(v.type, `v.${v.key}`));
          },
          '},',
        );
      }
      const list = m.raises.map((e) => `{ type: ${names.ref(e)}, codec: ${names.ref(e, 'Codec')} }`);
      out.list('raises: [', list, '],', { breakMany: true });
    },
    '},',
  );
}
