export * from './description';
export * from './validate';
