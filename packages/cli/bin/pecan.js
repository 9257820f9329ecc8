#!/usr/bin/env node
import { main } from '../dist/index.js';

// `pecan run … | head` closes the pipe early: stop quietly, as Unix tools do.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
