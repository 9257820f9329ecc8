/**
 * The echo system: `pecan run examples/echo/system.ts`, then type. The console program
 * owns the UART and serves two gates: `out` for everyone's output, `in` for its input.
 * `echo` holds both and the RTC: it says what time the clock shows, then repeats each
 * line it reads in capitals until it reads `quit`.
 */
import { defineSystem } from '@pecan/servers';

export default defineSystem({
  name: 'echo',
  machine: { arch: 'x86_64', ram: '16M', console: { source: 'stdin' } },
  programs: {
    console: {
      module: '@pecan/servers',
      export: 'systemConsole',
      serves: ['out', 'in'],
      caps: { uart: { device: 'uart' } },
      priority: 20,
    },
    echo: {
      module: './echo.ts',
      caps: { input: { gate: 'console/in' }, console: { gate: 'console/out' }, rtc: { device: 'rtc' } },
      ram: '1M',
    },
  },
});
