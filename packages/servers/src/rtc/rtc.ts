/**
 * User-level real-time-clock drivers: the time of day from the machine's RTC, read
 * through its registers by the program the root task gave the device to
 * (`caps: { rtc: { device: 'rtc' } }`).
 *
 * - MC146818 (the PC's CMOS clock, MC146818A datasheet): index register at the first
 *   port, data at the second. The driver waits while an update is in progress
 *   (register A bit 7), reads the time twice until both reads agree (an update between
 *   two fields would mix two seconds), and decodes BCD or binary and 12- or 24-hour
 *   mode as register B says. The century comes from CMOS byte 0x32, where PC firmware
 *   keeps it (the ACPI FADT's `CENTURY`).
 * - PL031 (Arm PrimeCell RTC TRM, §3.3.1): RTCDR, at offset 0, counts seconds since
 *   the Unix epoch.
 */
import type { ThreadEnv, UserCode } from '@pecan/kernel';
import type { DeviceAccess } from '../root/devices';

/** A clock a driver has opened. */
export interface Rtc {
  /** e.g. `"MC146818 at port 0x70"`. */
  readonly name: string;
  /** Milliseconds since the Unix epoch, in whole seconds, as the clock holds them. */
  now(): UserCode<number>;
}

// MC146818 register indices and bits (datasheet, "Address Map" and registers A/B).
const SECONDS = 0x00;
const MINUTES = 0x02;
const HOURS = 0x04;
const DAY_OF_MONTH = 0x07;
const MONTH = 0x08;
const YEAR = 0x09;
const REG_A = 0x0a;
const REG_B = 0x0b;
const CENTURY = 0x32;
const A_UIP = 0x80;
const B_24_HOUR = 0x02;
const B_BINARY = 0x04;
const HOURS_PM = 0x80;

/** PL031 data register: seconds since the epoch. */
const RTCDR = 0x000;

const FIELDS = [SECONDS, MINUTES, HOURS, DAY_OF_MONTH, MONTH, YEAR, CENTURY] as const;

function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 0x0f);
}

/**
 * The driver for the clock in `access` (a `DeviceAccess` from the program's
 * environment), or why there is none, as a string.
 */
export function openRtc(env: ThreadEnv, access: DeviceAccess): Rtc | string {
  if (access.device === 'mc146818' && access.ports) return cmos(env, access.ports.base);
  if (access.device === 'pl031' && access.mmio) {
    const dr = access.mmio.address + RTCDR;
    return {
      name: `PL031 at 0x${access.mmio.physical.toString(16)}`,
      *now(): UserCode<number> {
        return (yield* env.mem.readU32(dr)) * 1000;
      },
    };
  }
  return `${access.device} is not a clock this driver knows (mc146818 or pl031)`;
}

function cmos(env: ThreadEnv, base: number): Rtc {
  const io = env.io;
  const read = function* (reg: number): UserCode<number> {
    yield* io.out8(base, reg);
    return yield* io.in8(base + 1);
  };
  const snapshot = function* (): UserCode<number[]> {
    while (((yield* read(REG_A)) & A_UIP) !== 0) {
      /* an update is in progress: its fields are not valid yet */
    }
    const out: number[] = [];
    for (const reg of FIELDS) out.push(yield* read(reg));
    return out;
  };
  return {
    name: `MC146818 at port 0x${base.toString(16)}`,
    *now(): UserCode<number> {
      let fields = yield* snapshot();
      for (;;) {
        const again = yield* snapshot();
        if (again.every((v, i) => v === fields[i])) break;
        fields = again;
      }
      const b = yield* read(REG_B);
      const decode = (v: number) => ((b & B_BINARY) !== 0 ? v : fromBcd(v));
      const [sec, min, rawHour, day, month, year, century] = fields as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      let hour = decode(rawHour & ~HOURS_PM);
      if ((b & B_24_HOUR) === 0) hour = (hour % 12) + ((rawHour & HOURS_PM) !== 0 ? 12 : 0);
      const fullYear = decode(century) * 100 + decode(year);
      return Date.UTC(fullYear, decode(month) - 1, decode(day), hour, decode(min), decode(sec));
    },
  };
}
