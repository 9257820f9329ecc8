/**
 * The namespace server: names for capabilities, served over the `pecan.Namespace` IDL
 * interface (../../idl/namespace.idl). A program registers a gate it serves under a
 * name; another looks the name up at run time and gets a capability to the same gate.
 * The server keeps the capabilities it was given in its own capability table; unlinking
 * a name gives its slot back.
 */
import { program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { BadName, Exists, Full, type NamespaceServer, NotFound, serveNamespace } from './namespace.idl';

/** Names: letters, digits and `._-/`, 1 to 48 bytes (the IDL's bound). */
const NAME = /^[A-Za-z0-9._\-/]{1,48}$/;

/** Options for {@link createNamespace}. */
export interface NamespaceOptions {
  /** Most entries the namespace holds (default 256). */
  readonly capacity?: number;
}

/** A namespace's state and its IDL implementation. */
export interface Namespace extends NamespaceServer {
  /** The names registered, in registration order (for tests and debugging). */
  readonly names: () => readonly string[];
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new BadName();
}

/** Creates the implementation a thread serves with `serveNamespace`. */
export function createNamespace(options: NamespaceOptions = {}): Namespace {
  const capacity = options.capacity ?? 256;
  const entries = new Map<string, number>();
  return {
    names: () => [...entries.keys()],
    register(name, object) {
      checkName(name);
      if (entries.has(name)) throw new Exists({ entry: name });
      if (entries.size >= capacity) throw new Full();
      entries.set(name, object);
    },
    query(name) {
      checkName(name);
      const cap = entries.get(name);
      if (cap === undefined) throw new NotFound({ entry: name });
      return cap;
    },
    *unlink(name, ctx): UserCode<void> {
      checkName(name);
      const cap = entries.get(name);
      if (cap === undefined) throw new NotFound({ entry: name });
      entries.delete(name);
      yield* ctx.env.task.release(cap);
    },
  };
}

function* serve(env: ThreadEnv): UserCode<never> {
  return yield* serveNamespace(env, createNamespace());
}

/** The namespace server program: one thread serving `pecan.Namespace` on its gate. */
export const namespaceServer = program(serve);
