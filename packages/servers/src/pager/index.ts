export { ANON_PAGER_WINDOW, anonPager } from './anon-pager';
