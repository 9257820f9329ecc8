import { describe, expect, it } from 'vitest';
import {
  assertValidSystem,
  defineSystem,
  parseMemorySize,
  SystemValidationError,
  startOrder,
  validateSystem,
} from '../src/system';

const good = defineSystem({
  name: 'hello',
  machine: { arch: 'x86_64', ram: '64M', cpus: 2, disks: [{ size: '1M' }] },
  programs: {
    fs: { module: './fs.ts', serves: ['files'], caps: { disk: { device: 'disk0' } }, restart: 'on-failure' },
    server: {
      module: './server.ts',
      serves: ['squares'],
      caps: { files: { gate: 'fs/files', rights: 'rw' } },
    },
    client: {
      module: './client.ts',
      export: 'client',
      priority: 5,
      cpu: 1,
      ram: '2M',
      kernelMemory: '128K',
      caps: { squares: { gate: 'server/squares' }, console: { device: 'uart' } },
      restart: { policy: 'always', maxRestarts: 3 },
    },
  },
});

describe('system descriptions', () => {
  it('accepts a correct description, and orders programs after the gates they use', () => {
    expect(validateSystem(good)).toEqual([]);
    expect(assertValidSystem(good)).toBe(good);
    expect(startOrder(good)).toEqual(['fs', 'server', 'client']);
  });

  it('parses memory sizes', () => {
    expect(parseMemorySize('64M')).toBe(64 * 1024 * 1024);
    expect(parseMemorySize('4k')).toBe(4096);
    expect(parseMemorySize('1GiB')).toBe(1024 ** 3);
    expect(parseMemorySize(8192)).toBe(8192);
    expect(parseMemorySize('lots')).toBeNull();
    expect(parseMemorySize(-1)).toBeNull();
  });

  it('reports an unknown program and a gate nobody serves, with their paths', () => {
    const issues = validateSystem({
      machine: { arch: 'x86_64' },
      programs: {
        a: { module: './a.ts', serves: ['x'] },
        b: {
          module: './b.ts',
          caps: { one: { gate: 'nobody/x' }, two: { gate: 'a/y' }, three: { gate: 'a' } },
        },
      },
    });
    expect(issues).toEqual([
      { path: 'programs.b.caps.one.gate', message: 'unknown program "nobody"; the system has a, b' },
      { path: 'programs.b.caps.two.gate', message: 'nobody serves gate "y": add it to programs.a.serves' },
      { path: 'programs.b.caps.three.gate', message: 'must be "<program>/<gate>"; got "a"' },
    ]);
  });

  it('reports quotas larger than the machine', () => {
    const issues = validateSystem({
      machine: { arch: 'aarch64', ram: '32M' },
      programs: { a: { module: './a.ts', ram: '16M' }, b: { module: './b.ts', ram: '16M' } },
    });
    expect(issues).toEqual([
      {
        path: 'programs',
        message:
          "the programs' RAM quotas add up to 32M, more than the 24M the machine (ram 32M) can give them: lower the quotas or raise machine.ram",
      },
    ]);
  });

  it('reports kernel-memory quotas larger than the kernel can give', () => {
    const issues = validateSystem({
      machine: { arch: 'x86_64' },
      programs: {
        a: { module: './a.ts', kernelMemory: '40M' },
        b: { module: './b.ts', kernelMemory: '20M' },
      },
    });
    expect(issues).toEqual([
      {
        path: 'programs',
        message:
          "the programs' kernel-memory quotas add up to 60M, more than the 60032K the kernel can give them: lower the quotas",
      },
    ]);
  });

  it('reports a device named twice, by one program or two, and disks the machine cannot take', () => {
    const issues = validateSystem({
      machine: { arch: 'x86_64', disks: Array.from({ length: 9 }, () => ({ size: '1M', readOnly: 'yes' })) },
      programs: {
        a: { module: './a.ts', caps: { one: { device: 'uart' }, two: { device: 'uart' } } },
        b: { module: './b.ts', caps: { d: { device: 'disk0' }, e: { device: 'disk00' } } },
        c: { module: './c.ts', caps: { d: { device: 'disk0' } } },
      },
    });
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      ...Array.from({ length: 9 }, (_, i) => `machine.disks.${i}.readOnly: must be true or false`),
      'machine.disks: the x86_64 machine takes at most 8 disks (its virtio-mmio transports); got 9',
      'programs.a.caps.two.device: device "uart" is already one of this program\'s capabilities; name it once',
      'programs.b.caps.e.device: the x86_64 machine has no device "disk00"; it has uart, rtc, disk<N> (N from 0, one per machine.disks entry)',
      'programs.c.caps.d.device: device "disk0" is already given to programs.b: a device has one driver; give the others a gate to it',
    ]);
  });

  it('reports more named capabilities than the loader slots hold', () => {
    const caps = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`c${i}`, { gate: 'a/g' }]));
    const issues = validateSystem({
      machine: { arch: 'x86_64' },
      programs: { a: { module: './a.ts', serves: ['g'], caps } },
    });
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'programs.a.caps: a program can have at most 256 named capabilities; got 257',
    ]);
  });

  it('reports a disk size that is not a size once', () => {
    const issues = validateSystem({
      machine: { arch: 'x86_64', disks: [{ size: 'lots' }, { size: 1000 }] },
      programs: { a: { module: './a.ts' } },
    });
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'machine.disks.0.size: must be bytes or a size like "16M"; got "lots"',
      'machine.disks.1.size: must be a whole number of 512-byte sectors',
    ]);
  });

  it('reports a cyclic start dependency with the cycle', () => {
    const issues = validateSystem({
      machine: { arch: 'x86_64' },
      programs: {
        a: { module: './a.ts', serves: ['pa'], caps: { b: { gate: 'b/pb' } } },
        b: { module: './b.ts', serves: ['pb'], caps: { c: { gate: 'c/pc' } } },
        c: { module: './c.ts', serves: ['pc'], caps: { a: { gate: 'a/pa' } } },
      },
    });
    expect(issues).toEqual([
      {
        path: 'programs.a.caps',
        message:
          'cyclic start dependency a → b → c → a: each waits for a gate of the next; break the cycle with a name looked up at run time',
      },
    ]);
  });

  it('reports a device the chosen architecture does not have, and a disk the machine lacks', () => {
    const issues = validateSystem(
      {
        machine: { arch: 'aarch64' },
        programs: {
          d: { module: './d.ts', caps: { ports: { device: 'ioports' }, disk: { device: 'disk0' } } },
        },
      },
      {
        devices: { x86_64: ['uart', 'ioports', 'disk'], aarch64: ['uart', 'disk'] },
        maxRam: 2 ** 32,
        reservedRam: () => 0,
        kernelMemory: () => 2 ** 32,
        maxDisks: { x86_64: 8, aarch64: 8 },
      },
    );
    expect(issues).toEqual([
      {
        path: 'programs.d.caps.ports.device',
        message:
          'the aarch64 machine has no device "ioports"; it has uart, disk<N> (N from 0, one per machine.disks entry)',
      },
      {
        path: 'programs.d.caps.disk.device',
        message: 'there is no disk0: the machine has 0 disks (machine.disks)',
      },
    ]);
  });

  it('reports every field-level mistake at once, and unknown fields', () => {
    const issues = validateSystem({
      machine: { arch: 'riscv', ram: '3K', cpus: 0, colour: true },
      programs: {
        Bad: { module: '', priority: 300, cpu: 1, ram: '1X', rights: 'rw', restart: 'sometimes' },
      },
    });
    expect(issues.map((i) => i.path)).toEqual([
      'machine.colour',
      'machine.arch',
      'machine.ram',
      'machine.cpus',
      'programs.Bad',
      'programs.Bad.rights',
      'programs.Bad.module',
      'programs.Bad.priority',
      'programs.Bad.cpu',
      'programs.Bad.ram',
      'programs.Bad.restart',
    ]);
    expect(issues.find((i) => i.path === 'machine.arch')!.message).toBe(
      'must be one of x86_64, aarch64; got "riscv"',
    );
  });

  it('assertValidSystem throws one typed error listing every problem', () => {
    expect(() => assertValidSystem({ machine: { arch: 'x86_64' }, programs: {} })).toThrow(
      SystemValidationError,
    );
    try {
      assertValidSystem(42);
    } catch (e) {
      expect(e).toBeInstanceOf(SystemValidationError);
      expect((e as SystemValidationError).message).toBe(
        'the system description has 1 problem:\n  : a system description must be an object with `machine` and `programs`',
      );
    }
  });
});
