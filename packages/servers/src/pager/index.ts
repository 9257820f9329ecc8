export { ANON_PAGER_WINDOW, type AnonMemoryOptions, anonPager, serveAnonMemory } from './anon-pager';
