export { attachSigma0, bootSigma0, type Sigma0Options, type Sigma0System } from './boot';
export { Sigma0Client } from './client';
export { FrameKind, FrameTable } from './frame-table';
export { Sigma0Op } from './protocol';
export { sigma0 } from './server';
