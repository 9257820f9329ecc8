/**
 * `pnpm pecan …`: the `pecan` command run from the repository's sources (no build
 * needed), as `pnpm demo` uses it. Installed, the package's `bin` does the same from
 * its built files.
 */
import { main } from '@pecan/cli';

// A closed pipe (`pnpm pecan run … | head`) ends the command quietly, as Unix tools do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
