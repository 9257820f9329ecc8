export {
  BadName,
  Exists,
  Full,
  Namespace as NamespaceProtocol,
  NamespaceClient,
  type NamespaceServer,
  NotFound,
  serveNamespace,
} from './namespace.idl';
export { createNamespace, type Namespace, type NamespaceOptions, namespaceServer } from './server';
