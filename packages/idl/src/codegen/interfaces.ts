import type { InterfaceSym, MethodSym, Ty } from '../model';
import { safeIdentifier } from '../names';
import type { Emitter } from './emitter';
import type { NameTable } from './names';
import type { TypeMapper } from './types';

/** Locals the generated client methods use, which parameter names must avoid. */
const CLIENT_LOCALS: ReadonlySet<string> = new Set(['w', 'r', 'u', 'tag']);
/** Locals of the generated serve loop, which the fast path's argument names must avoid. */
const SERVE_LOCALS: ReadonlySet<string> = new Set([
  'env',
  'impl',
  'options',
  'd',
  'u',
  'tag',
  'reply',
  'served',
  'v',
  'e',
  'idl',
]);
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

/** True when every value of a method is a scalar: each then has a fixed message register. */
function scalarOnly(m: MethodSym): boolean {
  return m.params.every((p) => p.type.kind === 'scalar') && (!m.returns || m.returns.kind === 'scalar');
}

/** `u32` → `U32`: the suffix of the runtime's put/get/is functions. */
function scalarFn(prefix: string, ty: Ty): string {
  const name = ty.kind === 'scalar' ? ty.name : 'u64';
  return `idl.${prefix}${name[0]!.toUpperCase()}${name.slice(1)}`;
}

/** Whether a received scalar word needs a range check (64-bit types take any word). */
function ranged(ty: Ty): boolean {
  return ty.kind === 'scalar' && ty.name !== 'i64' && ty.name !== 'u64' && ty.name !== 'f64';
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
  emitServe(out, sym);
}

function emitClient(out: Emitter, types: TypeMapper, names: NameTable, sym: InterfaceSym): void {
  const n = sym.name;
  const parent = sym.base ? names.ref(sym.base, 'Client') : 'idl.Client';
  out.line('');
  out.doc(
    `A client of \`${sym.fqn}\`: \`new ${n}Client(env, cap)\` for the capability \`cap\`. Call its\n` +
      'methods with `yield*` in a kernel thread, one call at a time.',
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
  const signature = `): idl.UserCode<${resultType(types, s)}> {`;
  if (scalarOnly(m) && !m.oneway) {
    // No generator: the method writes the request and returns the method's reusable
    // idl.Call, so a call allocates nothing.
    out.list(`${m.name}(`, params, signature);
    out.indented(() => emitScalarClientBody(out, sym, m, s));
    out.line('}');
    out.line('');
    emitScalarReply(out, sym, m, s);
    return;
  }
  out.list(`*${m.name}(`, params, signature);
  if (scalarOnly(m)) out.indented(() => emitScalarClientBody(out, sym, m, s));
  else
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

/** A client method whose values are all scalars: straight-line code on the UTCB. */
function emitScalarClientBody(out: Emitter, sym: InterfaceSym, m: MethodSym, s: Shape): void {
  const n = sym.name;
  out.line(`const u = this.stub.begin('${m.replyWindows}');`);
  out.line(`u.setMr(0, ${n}.opcodes.${m.name});`);
  s.args.forEach((a, i) => {
    out.line(`${scalarFn('put', a.type)}(u, ${i + 1}, ${a.local});`);
  });
  const request = `idl.msgtag(${n}.protocol, ${s.args.length + 1})`;
  if (m.oneway) out.line(`this.stub.sent(yield this.env.send(this.cap, ${request}));`);
  else out.line(`return this.#${m.name}.call(${request});`);
}

/** The reusable call of a scalar method: its reply is checked, then its results read. */
function emitScalarReply(out: Emitter, sym: InterfaceSym, m: MethodSym, s: Shape): void {
  const raises = m.raises.length > 0 ? `, ${sym.name}Client.#${m.name}Raises` : '';
  out.doc(`\`${m.name}\`'s call, reused by every call: checks the reply and reads its results.`);
  out.block(
    `readonly #${m.name} = new idl.Call(this, (tag, u) => {`,
    () => {
      out.line(`this.stub.check(tag, ${s.results.length}${raises});`);
      if (s.results.length === 1) out.line(`return ${scalarFn('get', s.results[0]!.type)}(u, 0);`);
      else if (s.results.length > 1) {
        s.results.forEach((v, i) => {
          out.line(`const ${v.local} = ${scalarFn('get', v.type)}(u, ${i});`);
        });
        out.line(
          `return { ${s.results.map((v) => (v.local === v.key ? v.key : `${v.key}: ${v.local}`)).join(', ')} };`,
        );
      }
    },
    '});',
  );
}

/**
 * The serve function. Requests to the interface's own scalar-only methods are decoded,
 * served and answered inline in the loop; everything else (other methods, inherited
 * protocols, malformed requests) goes through the dispatch table.
 */
function emitServe(out: Emitter, sym: InterfaceSym): void {
  const n = sym.name;
  const fast = sym.methods.filter(scalarOnly);
  out.line('');
  out.doc(
    `Serves \`${sym.fqn}\`${sym.base ? ' and the interfaces it inherits' : ''} with \`impl\` in the calling thread, forever:\n` +
      `\`yield* serve${n}(env, impl)\`. Malformed requests get error replies; the loop never throws.`,
  );
  const params = ['env: idl.ThreadEnv', `impl: ${n}Server`, 'options?: idl.ServeOptions'];
  if (fast.length === 0) {
    out.list(`export function serve${n}(`, params, '): idl.UserCode<never> {');
    out.indented(() =>
      out.line(`return idl.serve(env, impl, ${n}Handlers, '${sym.requestWindows}', options);`),
    );
    out.line('}');
    return;
  }
  out.list(`export function* serve${n}(`, params, '): idl.UserCode<never> {');
  out.indented(() => {
    out.line(`const d = new idl.Dispatcher(env, impl, ${n}Handlers, '${sym.requestWindows}', options);`);
    out.line('const u = env.utcb;');
    out.line('let tag: number = yield d.wait();');
    out.block('for (;;) {', () => {
      out.line('let reply: number | undefined;');
      out.block(`switch (d.opcode(tag, ${n}.protocol)) {`, () => {
        for (const m of fast) emitServeCase(out, sym, m);
      });
      out.line('// Other methods, inherited protocols and malformed requests: the dispatch table.');
      out.line('if (reply === undefined) reply = yield* d.dispatch(tag);');
      out.line('tag = yield d.next(reply);');
    });
  });
  out.line('}');
}

function emitServeCase(out: Emitter, sym: InterfaceSym, m: MethodSym): void {
  const n = sym.name;
  const s = shape(m, SERVE_LOCALS);
  const op = `${n}.opcodes.${m.name}`;
  out.block(`case ${op}: {`, () => {
    const checks = [`idl.tagWords(tag) !== ${s.args.length + 1}`];
    const passed: string[] = [];
    s.args.forEach((a, i) => {
      const ty = a.type;
      if (ranged(ty)) {
        out.line(`const ${a.local} = u.mr(${i + 1});`);
        checks.push(`!${scalarFn('is', ty)}(${a.local})`);
      } else out.line(`const ${a.local} = ${scalarFn('get', ty)}(u, ${i + 1});`);
      passed.push(ty.kind === 'scalar' && ty.name === 'bool' ? `${a.local} === 1` : a.local);
    });
    const all = `if (${checks.join(' || ')}) break;`;
    // The serve loop's case blocks are four levels deep.
    if (all.length + 2 * 4 <= 110) out.line(all);
    else for (const c of checks) out.line(`if (${c}) break;`);
    out.block(
      'try {',
      () => {
        out.list(`const served = impl.${m.name}(`, [...passed, `d.accept(${n}.protocol, ${op})`], ');');
        if (s.results.length === 0) out.line('if (idl.isUserCode(served)) yield* served;');
        else out.line('const v = idl.isUserCode(served) ? yield* served : served;');
        if (s.results.length === 1) out.line(`${scalarFn('put', s.results[0]!.type)}(u, 0, v);`);
        else
          s.results.forEach((v, i) => {
            out.line(`${scalarFn('put', v.type)}(u, ${i}, v.${v.key});`);
          });
        out.line(m.oneway ? 'reply = idl.NO_REPLY;' : `reply = idl.msgtag(0, ${s.results.length});`);
      },
      '} catch (e) {',
    );
    out.indented(() => out.line('reply = d.failure(e);'));
    out.line('}');
    out.line('break;');
  });
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
