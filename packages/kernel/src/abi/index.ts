export * from './caps';
export * from './errors';
export * from './fpage';
export * from './kip';
export * from './msgtag';
export * from './protocols';
export * from './timeout';
export * from './utcb';
