/**
 * The GICv2 model against ARM IHI 0048B ("ARM Generic Interrupt Controller Architecture
 * Specification, version 2.0"): §3.2 (interrupt handling, the state machine of §3.2.4,
 * spurious INTID 1023 of §3.2.5), §3.3 (prioritization, priority masking, preemption),
 * §4.3 (Distributor register descriptions) and §4.4 (CPU interface register descriptions);
 * and the kernel's InterruptController contract on top of it.
 */
import { TriggerMode } from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import {
  createGic,
  createGicInterruptController,
  GIC_DEFAULT_PRIORITY,
  GIC_SPURIOUS_INTID,
  GICD_IIDR_VALUE,
  type Gic,
  Gicc,
  GiccCtlr,
  Gicd,
  GicdCtlr,
  VirtIntid,
  virtioMmioIntid,
} from '../src/index';

const UART = VirtIntid.UART; // 33
const VIRTIO0 = virtioMmioIntid(0); // 48
const VIRTIO1 = virtioMmioIntid(1); // 49

/** Turns on the distributor and CPU interface 0 with PMR 0xFF, as a driver's init does. */
function enabledGic(cpus = 1): Gic {
  const gic = createGic(cpus);
  gic.distributor.mmioWrite32(Gicd.CTLR, GicdCtlr.ENABLE);
  for (const c of gic.cpuInterfaces) {
    c.mmioWrite32(Gicc.PMR, 0xff);
    c.mmioWrite32(Gicc.CTLR, GiccCtlr.ENABLE);
  }
  return gic;
}

function setPriority(gic: Gic, intid: number, prio: number, cpu = 0): void {
  const d = gic.distributor;
  const off = Gicd.IPRIORITYR + (intid & ~3);
  const shift = 8 * (intid & 3);
  d.mmioWrite32(off, ((d.mmioRead32(off, cpu) & ~(0xff << shift)) | (prio << shift)) >>> 0, cpu);
}

function enable(gic: Gic, intid: number, cpu = 0): void {
  gic.distributor.mmioWrite32(Gicd.ISENABLER + 4 * (intid >> 5), (1 << (intid & 31)) >>> 0, cpu);
}

function setEdge(gic: Gic, intid: number): void {
  const off = Gicd.ICFGR + 4 * (intid >> 4);
  gic.distributor.mmioWrite32(off, gic.distributor.mmioRead32(off) | (2 << (2 * (intid & 15))));
}

/** A controller with its onPending calls recorded. */
function controller(cpus = 1, splitEoi = false) {
  const ic = createGicInterruptController(cpus, { splitEoi });
  const calls: number[] = [];
  ic.onPending = (cpu) => calls.push(cpu);
  return { ic, calls };
}

describe('GICv2 Distributor identification (IHI 0048B §4.3.2, §4.3.3)', () => {
  it('GICD_TYPER: ITLinesNumber = 128/32 − 1 = 3, CPUNumber = CPUs − 1, no Security Extensions', () => {
    expect(createGic(1).distributor.mmioRead32(Gicd.TYPER)).toBe(0x03);
    expect(createGic(2).distributor.mmioRead32(Gicd.TYPER)).toBe(0x23);
    expect(createGic(8).distributor.mmioRead32(Gicd.TYPER)).toBe(0xe3);
  });

  it('GICD_IIDR names Arm (JEP106 0x43B) as implementer; GICC_IIDR says architecture v2', () => {
    const gic = createGic();
    expect(gic.distributor.mmioRead32(Gicd.IIDR)).toBe(GICD_IIDR_VALUE);
    expect(GICD_IIDR_VALUE & 0xfff).toBe(0x43b);
    expect((gic.cpuInterfaces[0]!.mmioRead32(Gicc.IIDR) >>> 16) & 0xf).toBe(2);
  });

  it('rejects bad CPU counts and unaligned or out-of-frame offsets', () => {
    expect(() => createGic(0)).toThrow(RangeError);
    expect(() => createGic(9)).toThrow(RangeError);
    const d = createGic().distributor;
    expect(() => d.mmioRead32(0x102)).toThrow(RangeError);
    expect(() => d.mmioRead32(0x1_0000)).toThrow(RangeError);
    expect(() => d.mmioRead32(0, 1)).toThrow(RangeError);
    expect(d.mmioRead32(0xffc)).toBe(0); // reserved: RAZ
  });
});

describe('GICv2 reset state (IHI 0048B §4.3, §4.4)', () => {
  it('everything is disabled, inactive, not pending; PMR 0 masks all; IAR is spurious', () => {
    const gic = createGic();
    const d = gic.distributor;
    const c = gic.cpuInterfaces[0]!;
    expect(d.mmioRead32(Gicd.CTLR)).toBe(0);
    for (let n = 0; n < 4; n++) {
      expect(d.mmioRead32(Gicd.ISENABLER + 4 * n)).toBe(0);
      expect(d.mmioRead32(Gicd.ISPENDR + 4 * n)).toBe(0);
      expect(d.mmioRead32(Gicd.ISACTIVER + 4 * n)).toBe(0);
    }
    expect(d.mmioRead32(Gicd.ICFGR)).toBe(0xaaaa_aaaa); // SGIs are edge-triggered
    expect(d.mmioRead32(Gicd.ICFGR + 8)).toBe(0); // SPIs reset level-sensitive
    expect(c.mmioRead32(Gicc.CTLR)).toBe(0);
    expect(c.mmioRead32(Gicc.PMR)).toBe(0);
    expect(c.mmioRead32(Gicc.RPR)).toBe(0xff); // idle
    expect(c.mmioRead32(Gicc.IAR)).toBe(GIC_SPURIOUS_INTID);
    expect(c.mmioRead32(Gicc.HPPIR)).toBe(GIC_SPURIOUS_INTID);
  });

  it('registers beyond INTID 127 are reserved (RAZ/WI)', () => {
    const d = createGic().distributor;
    d.mmioWrite32(Gicd.ISENABLER + 16, 0xffff_ffff);
    expect(d.mmioRead32(Gicd.ISENABLER + 16)).toBe(0);
    d.mmioWrite32(Gicd.IGROUPR, 0xffff_ffff); // no grouping in this model
    expect(d.mmioRead32(Gicd.IGROUPR)).toBe(0);
  });
});

describe('GICD_ISENABLERn / GICD_ICENABLERn (IHI 0048B §4.3.5, §4.3.6)', () => {
  it('write 1 to set or clear, write 0 has no effect; both read the enable state', () => {
    const d = createGic().distributor;
    d.mmioWrite32(Gicd.ISENABLER + 4, 0b1010);
    d.mmioWrite32(Gicd.ISENABLER + 4, 0b0100);
    expect(d.mmioRead32(Gicd.ISENABLER + 4)).toBe(0b1110);
    expect(d.mmioRead32(Gicd.ICENABLER + 4)).toBe(0b1110);
    d.mmioWrite32(Gicd.ICENABLER + 4, 0b0010);
    d.mmioWrite32(Gicd.ICENABLER + 4, 0);
    expect(d.mmioRead32(Gicd.ISENABLER + 4)).toBe(0b1100);
  });

  it('handles bit 31 as an unsigned value (INTID 63)', () => {
    const d = createGic().distributor;
    d.mmioWrite32(Gicd.ISENABLER + 4, 0x8000_0000);
    expect(d.mmioRead32(Gicd.ISENABLER + 4)).toBe(0x8000_0000);
  });

  it('ISENABLER0 (SGIs and PPIs) is banked per CPU', () => {
    const d = createGic(2).distributor;
    d.mmioWrite32(Gicd.ISENABLER, 1 << VirtIntid.TIMER_PHYS, 1);
    expect(d.mmioRead32(Gicd.ISENABLER, 0)).toBe(0);
    expect(d.mmioRead32(Gicd.ISENABLER, 1)).toBe((1 << 30) >>> 0);
  });
});

describe('GICD_ICFGRn (IHI 0048B §4.3.13)', () => {
  it('two bits per INTID, bit 1 = edge; 16 INTIDs per register; ICFGR0 (SGIs) read-only', () => {
    const d = createGic().distributor;
    // INTID 33 is field 1 of ICFGR2: bits 3:2.
    d.mmioWrite32(Gicd.ICFGR + 8, 0b1000);
    expect(d.mmioRead32(Gicd.ICFGR + 8)).toBe(0b1000);
    d.mmioWrite32(Gicd.ICFGR + 8, 0b0101); // bit 0 of each field is reserved
    expect(d.mmioRead32(Gicd.ICFGR + 8)).toBe(0);
    d.mmioWrite32(Gicd.ICFGR, 0);
    expect(d.mmioRead32(Gicd.ICFGR)).toBe(0xaaaa_aaaa);
  });

  it('the controller writes edge for EDGE and level for LEVEL', () => {
    const { ic } = controller();
    ic.configure(UART, TriggerMode.EDGE);
    ic.configure(VIRTIO0, TriggerMode.LEVEL);
    expect((ic.distributor.mmioRead32(Gicd.ICFGR + 8) >>> 2) & 3).toBe(0b10);
    expect((ic.distributor.mmioRead32(Gicd.ICFGR + 12) >>> 0) & 3).toBe(0b00);
  });
});

describe('GICD_IPRIORITYRn / GICD_ITARGETSRn (IHI 0048B §4.3.11, §4.3.12)', () => {
  it('a byte per INTID', () => {
    const gic = createGic();
    setPriority(gic, 33, 0x40);
    setPriority(gic, 34, 0x80);
    expect(gic.distributor.mmioRead32(Gicd.IPRIORITYR + 32)).toBe(0x0080_4000);
  });

  it('uniprocessor: ITARGETSR is RAZ/WI', () => {
    const d = createGic().distributor;
    d.mmioWrite32(Gicd.ITARGETSR + 32, 0x0101_0101);
    expect(d.mmioRead32(Gicd.ITARGETSR + 32)).toBe(0);
  });

  it('multiprocessor: SGI/PPI bytes read as the accessing CPU and ignore writes; SPI bytes hold CPU masks', () => {
    const d = createGic(2).distributor;
    expect(d.mmioRead32(Gicd.ITARGETSR, 0)).toBe(0x0101_0101);
    expect(d.mmioRead32(Gicd.ITARGETSR + 28, 1)).toBe(0x0202_0202);
    d.mmioWrite32(Gicd.ITARGETSR, 0x0303_0303, 0);
    expect(d.mmioRead32(Gicd.ITARGETSR, 0)).toBe(0x0101_0101);
    d.mmioWrite32(Gicd.ITARGETSR + 32, 0xff02_0301); // only CPUs 0–1 exist
    expect(d.mmioRead32(Gicd.ITARGETSR + 32)).toBe(0x0302_0301);
  });

  it('the controller programs priority 0xA0 and target CPU 0', () => {
    const { ic } = controller(2);
    ic.configure(UART, TriggerMode.LEVEL);
    expect((ic.distributor.mmioRead32(Gicd.IPRIORITYR + 32) >>> 8) & 0xff).toBe(GIC_DEFAULT_PRIORITY);
    expect((ic.distributor.mmioRead32(Gicd.ITARGETSR + 32) >>> 8) & 0xff).toBe(0x01);
  });
});

describe('GICC_IAR: priority ordering (IHI 0048B §3.3, §4.4.4)', () => {
  it('returns the highest-priority (lowest value) pending interrupt, and moves it pending → active', () => {
    const gic = enabledGic();
    const c = gic.cpuInterfaces[0]!;
    for (const [id, prio] of [
      [UART, 0x80],
      [VIRTIO0, 0x40],
      [VIRTIO1, 0xc0],
    ] as const) {
      setPriority(gic, id, prio);
      setEdge(gic, id);
      enable(gic, id);
      gic.distributor.setInput(id, true);
    }
    expect(c.mmioRead32(Gicc.HPPIR)).toBe(VIRTIO0);
    expect(c.mmioRead32(Gicc.IAR)).toBe(VIRTIO0);
    expect(c.mmioRead32(Gicc.RPR)).toBe(0x40);
    // 0x80 cannot preempt the running 0x40: spurious until the EOI drops the priority.
    expect(c.mmioRead32(Gicc.IAR)).toBe(GIC_SPURIOUS_INTID);
    c.mmioWrite32(Gicc.EOIR, VIRTIO0);
    expect(c.mmioRead32(Gicc.RPR)).toBe(0xff);
    expect(c.mmioRead32(Gicc.IAR)).toBe(UART);
    c.mmioWrite32(Gicc.EOIR, UART);
    expect(c.mmioRead32(Gicc.IAR)).toBe(VIRTIO1);
  });

  it('a higher-priority interrupt preempts a running one; EOIR drops back to the previous priority', () => {
    const gic = enabledGic();
    const c = gic.cpuInterfaces[0]!;
    setPriority(gic, UART, 0xa0);
    setPriority(gic, VIRTIO0, 0x20);
    for (const id of [UART, VIRTIO0]) {
      setEdge(gic, id);
      enable(gic, id);
    }
    gic.distributor.setInput(UART, true);
    expect(c.mmioRead32(Gicc.IAR)).toBe(UART);
    gic.distributor.setInput(VIRTIO0, true);
    expect(c.mmioRead32(Gicc.IAR)).toBe(VIRTIO0);
    expect(c.mmioRead32(Gicc.RPR)).toBe(0x20);
    c.mmioWrite32(Gicc.EOIR, VIRTIO0);
    expect(c.mmioRead32(Gicc.RPR)).toBe(0xa0);
  });

  it('equal priorities: the lowest INTID wins', () => {
    const { ic } = controller();
    for (const id of [VIRTIO1, UART, VIRTIO0]) {
      ic.configure(id, TriggerMode.EDGE);
      ic.unmask(id);
      ic.setLine(id, true);
    }
    expect(ic.acknowledge(0)).toBe(UART);
  });
});

describe('GICC_PMR masking (IHI 0048B §3.3.2, §4.4.2)', () => {
  it('signals only priorities strictly higher (lower value) than PMR; lowering the mask releases them', () => {
    const gic = enabledGic();
    const c = gic.cpuInterfaces[0]!;
    setPriority(gic, UART, 0x80);
    enable(gic, UART);
    gic.distributor.setInput(UART, true);
    c.mmioWrite32(Gicc.PMR, 0x80);
    expect(c.irqAsserted()).toBe(false);
    expect(c.mmioRead32(Gicc.IAR)).toBe(GIC_SPURIOUS_INTID);
    expect(gic.distributor.mmioRead32(Gicd.ISPENDR + 4)).toBe(1 << 1); // still pending
    let calls = 0;
    gic.onIrq = () => calls++;
    c.mmioWrite32(Gicc.PMR, 0x81);
    expect(calls).toBe(1);
    expect(c.mmioRead32(Gicc.IAR)).toBe(UART);
  });

  it('the controller: onPending is not called while PMR masks the line', () => {
    const { ic, calls } = controller();
    ic.configure(UART, TriggerMode.LEVEL);
    ic.cpuInterfaces[0]!.mmioWrite32(Gicc.PMR, GIC_DEFAULT_PRIORITY);
    ic.unmask(UART);
    ic.setLine(UART, true);
    expect(calls).toEqual([]);
    expect(ic.acknowledge(0)).toBe(-1);
    ic.cpuInterfaces[0]!.mmioWrite32(Gicc.PMR, 0xff);
    expect(calls).toEqual([0]);
    expect(ic.acknowledge(0)).toBe(UART);
  });
});

describe('spurious INTID 1023 (IHI 0048B §3.2.5, §4.4.4)', () => {
  it('IAR returns 1023 with nothing pending, with the distributor or the CPU interface disabled', () => {
    const gic = enabledGic();
    const c = gic.cpuInterfaces[0]!;
    expect(c.mmioRead32(Gicc.IAR)).toBe(1023);
    enable(gic, UART);
    setPriority(gic, UART, 0x10);
    gic.distributor.setInput(UART, true);
    gic.distributor.mmioWrite32(Gicd.CTLR, 0);
    expect(c.mmioRead32(Gicc.IAR)).toBe(1023);
    gic.distributor.mmioWrite32(Gicd.CTLR, GicdCtlr.ENABLE);
    c.mmioWrite32(Gicc.CTLR, 0);
    expect(c.mmioRead32(Gicc.IAR)).toBe(1023);
    c.mmioWrite32(Gicc.CTLR, GiccCtlr.ENABLE);
    expect(c.mmioRead32(Gicc.IAR)).toBe(UART);
  });

  it('the controller maps 1023 to -1', () => {
    const { ic } = controller();
    ic.configure(UART, TriggerMode.EDGE);
    expect(ic.acknowledge(0)).toBe(-1);
  });

  it('an unknown line is refused or ignored; a bad CPU throws', () => {
    const { ic } = controller();
    expect(ic.lines[0]).toBe(32);
    expect(ic.lines.at(-1)).toBe(127);
    expect(ic.lines).toHaveLength(96);
    expect(ic.configure(VirtIntid.TIMER_PHYS, TriggerMode.LEVEL)).toBe(false); // a PPI
    expect(ic.configure(128, TriggerMode.LEVEL)).toBe(false);
    expect(() => ic.acknowledge(1)).toThrow(RangeError);
  });
});

describe('edge vs level (IHI 0048B §3.2.4, §4.3.13)', () => {
  it('level: pending while the input is high; deasserting before acknowledge withdraws it', () => {
    const { ic, calls } = controller();
    ic.configure(UART, TriggerMode.LEVEL);
    ic.unmask(UART);
    ic.setLine(UART, true);
    expect(calls).toEqual([0]);
    ic.setLine(UART, false);
    expect(ic.distributor.mmioRead32(Gicd.ISPENDR + 4)).toBe(0);
    expect(ic.acknowledge(0)).toBe(-1);
  });

  it('edge: a rising edge latches, the falling edge does not withdraw it, further edges coalesce', () => {
    const { ic, calls } = controller();
    ic.configure(UART, TriggerMode.EDGE);
    ic.unmask(UART);
    for (let i = 0; i < 3; i++) {
      ic.setLine(UART, true);
      ic.setLine(UART, false);
    }
    expect(calls).toEqual([0]);
    expect(ic.acknowledge(0)).toBe(UART);
    expect(ic.acknowledge(0)).toBe(-1);
    ic.endOfInterrupt(0, UART);
    expect(ic.acknowledge(0)).toBe(-1); // one interrupt for the three edges
  });

  it('edge: an edge while active makes it active and pending; it fires again after EOI', () => {
    const { ic, calls } = controller();
    ic.configure(UART, TriggerMode.EDGE);
    ic.unmask(UART);
    ic.setLine(UART, true);
    ic.setLine(UART, false);
    expect(ic.acknowledge(0)).toBe(UART);
    ic.setLine(UART, true);
    ic.setLine(UART, false);
    expect(ic.distributor.mmioRead32(Gicd.ISPENDR + 4)).toBe(1 << 1);
    expect(ic.distributor.mmioRead32(Gicd.ISACTIVER + 4)).toBe(1 << 1);
    expect(calls).toEqual([0]);
    ic.endOfInterrupt(0, UART);
    expect(calls).toEqual([0, 0]);
    expect(ic.acknowledge(0)).toBe(UART);
  });

  it('GICD_ICPENDR clears an edge latch but not a level input that is still asserted (§4.3.8)', () => {
    const { ic } = controller();
    ic.configure(UART, TriggerMode.EDGE);
    ic.configure(VIRTIO0, TriggerMode.LEVEL);
    ic.setLine(UART, true);
    ic.setLine(VIRTIO0, true);
    ic.distributor.mmioWrite32(Gicd.ICPENDR + 4, (1 << 1) | (1 << 16));
    expect(ic.distributor.mmioRead32(Gicd.ISPENDR + 4)).toBe(1 << 16);
  });
});

describe('disabled interrupts stay pending (IHI 0048B §3.2.4, §4.3.5)', () => {
  it('an edge arriving while masked is delivered on unmask', () => {
    const { ic, calls } = controller();
    ic.configure(UART, TriggerMode.EDGE);
    ic.setLine(UART, true);
    ic.setLine(UART, false);
    expect(calls).toEqual([]);
    expect(ic.acknowledge(0)).toBe(-1);
    expect(ic.distributor.mmioRead32(Gicd.ISPENDR + 4)).toBe(1 << 1);
    ic.unmask(UART);
    expect(calls).toEqual([0]);
    expect(ic.acknowledge(0)).toBe(UART);
  });

  it('an interrupt pending before the distributor is enabled is delivered when it is', () => {
    const { ic, calls } = controller();
    ic.distributor.mmioWrite32(Gicd.CTLR, 0); // the controller starts enabled; turn it off
    ic.distributor.mmioWrite32(Gicd.ISENABLER + 4, 1 << 1);
    ic.setLine(UART, true); // a rising edge, distributor off
    expect(calls).toEqual([]);
    ic.configure(UART, TriggerMode.LEVEL); // enables distributor and CPU interface
    expect(calls).toEqual([0]);
    expect(ic.acknowledge(0)).toBe(UART);
  });
});

describe('level re-fires after EOI (IHI 0048B §3.2.4, §4.4.5)', () => {
  it('follows the kernel sequence: acknowledge, mask, … , EOI, unmask', () => {
    const { ic, calls } = controller();
    ic.configure(VIRTIO0, TriggerMode.LEVEL);
    ic.unmask(VIRTIO0);
    ic.setLine(VIRTIO0, true);
    expect(calls).toEqual([0]);
    expect(ic.acknowledge(0)).toBe(VIRTIO0);
    ic.mask(VIRTIO0);
    ic.endOfInterrupt(0, VIRTIO0);
    expect(calls).toEqual([0]); // still asserted, but masked
    ic.unmask(VIRTIO0);
    expect(calls).toEqual([0, 0]);
    expect(ic.acknowledge(0)).toBe(VIRTIO0);
  });

  it('fires again right after EOI while still asserted, and not once deasserted', () => {
    const { ic, calls } = controller();
    ic.configure(VIRTIO0, TriggerMode.LEVEL);
    ic.unmask(VIRTIO0);
    ic.setLine(VIRTIO0, true);
    expect(ic.acknowledge(0)).toBe(VIRTIO0);
    ic.endOfInterrupt(0, VIRTIO0);
    expect(calls).toEqual([0, 0]);
    expect(ic.acknowledge(0)).toBe(VIRTIO0);
    ic.setLine(VIRTIO0, false); // the driver quiets the device
    ic.endOfInterrupt(0, VIRTIO0);
    expect(calls).toEqual([0, 0]);
    expect(ic.acknowledge(0)).toBe(-1);
  });
});

describe('active state between GICC_IAR and GICC_EOIR (IHI 0048B §3.2.4, §4.4.4, §4.4.5)', () => {
  it('GICD_ISACTIVER shows the interrupt active from IAR to EOIR; RPR is its priority', () => {
    const { ic } = controller();
    const c = ic.cpuInterfaces[0]!;
    ic.configure(UART, TriggerMode.EDGE);
    ic.unmask(UART);
    ic.setLine(UART, true);
    expect(ic.distributor.mmioRead32(Gicd.ISACTIVER + 4)).toBe(0);
    expect(ic.acknowledge(0)).toBe(UART);
    expect(ic.distributor.mmioRead32(Gicd.ISACTIVER + 4)).toBe(1 << 1);
    expect(ic.distributor.mmioRead32(Gicd.ISPENDR + 4)).toBe(0);
    expect(c.mmioRead32(Gicc.RPR)).toBe(GIC_DEFAULT_PRIORITY);
    ic.endOfInterrupt(0, UART);
    expect(ic.distributor.mmioRead32(Gicd.ISACTIVER + 4)).toBe(0);
    expect(c.mmioRead32(Gicc.RPR)).toBe(0xff);
  });

  it('a level interrupt acknowledged while asserted is active and pending, and not returned twice', () => {
    const { ic } = controller();
    ic.configure(VIRTIO0, TriggerMode.LEVEL);
    ic.unmask(VIRTIO0);
    ic.setLine(VIRTIO0, true);
    expect(ic.acknowledge(0)).toBe(VIRTIO0);
    expect(ic.distributor.mmioRead32(Gicd.ISACTIVER + 4)).toBe(1 << 16);
    expect(ic.distributor.mmioRead32(Gicd.ISPENDR + 4)).toBe(1 << 16);
    expect(ic.acknowledge(0)).toBe(-1);
  });

  it('an EOIR for an interrupt that is not active is ignored', () => {
    const { ic } = controller();
    ic.configure(UART, TriggerMode.EDGE);
    ic.endOfInterrupt(0, UART);
    ic.cpuInterfaces[0]!.mmioWrite32(Gicc.EOIR, GIC_SPURIOUS_INTID);
    expect(ic.cpuInterfaces[0]!.mmioRead32(Gicc.RPR)).toBe(0xff);
  });

  it('without split EOI an unfinished interrupt holds back others of the same priority on its CPU', () => {
    const { ic, calls } = controller();
    for (const id of [UART, VIRTIO0]) {
      ic.configure(id, TriggerMode.EDGE);
      ic.unmask(id);
    }
    ic.setLine(UART, true);
    expect(ic.acknowledge(0)).toBe(UART);
    ic.mask(UART);
    ic.setLine(VIRTIO0, true);
    expect(calls).toEqual([0]);
    expect(ic.acknowledge(0)).toBe(-1);
    ic.endOfInterrupt(0, UART);
    expect(calls).toEqual([0, 0]);
    expect(ic.acknowledge(0)).toBe(VIRTIO0);
  });

  it('with split EOI (EOImode 1, §3.2.1, §4.4.15) acknowledge drops the priority and GICC_DIR deactivates', () => {
    const { ic, calls } = controller(1, true);
    for (const id of [UART, VIRTIO0]) {
      ic.configure(id, TriggerMode.EDGE);
      ic.unmask(id);
    }
    expect(ic.cpuInterfaces[0]!.mmioRead32(Gicc.CTLR) & GiccCtlr.EOI_MODE).not.toBe(0);
    ic.setLine(UART, true);
    expect(ic.acknowledge(0)).toBe(UART);
    expect(ic.cpuInterfaces[0]!.mmioRead32(Gicc.RPR)).toBe(0xff);
    expect(ic.distributor.mmioRead32(Gicd.ISACTIVER + 4)).toBe(1 << 1);
    ic.setLine(VIRTIO0, true);
    expect(calls).toEqual([0, 0]);
    expect(ic.acknowledge(0)).toBe(VIRTIO0);
    ic.endOfInterrupt(0, UART);
    ic.endOfInterrupt(0, VIRTIO0);
    expect(ic.distributor.mmioRead32(Gicd.ISACTIVER + 4)).toBe(0);
  });
});

describe('targets and onPending(cpu) (IHI 0048B §4.3.12, §3.1)', () => {
  it('delivers to the CPU in ITARGETSR; another CPU reads spurious', () => {
    const { ic, calls } = controller(2);
    ic.configure(UART, TriggerMode.EDGE); // target CPU 0
    ic.configure(VIRTIO0, TriggerMode.EDGE);
    // Retarget virtio-mmio 0 at CPU 1: byte 0 of ITARGETSR12.
    const off = Gicd.ITARGETSR + VIRTIO0;
    ic.distributor.mmioWrite32(off, (ic.distributor.mmioRead32(off) & ~0xff) | 0x02);
    ic.unmask(UART);
    ic.unmask(VIRTIO0);
    ic.setLine(VIRTIO0, true);
    expect(calls).toEqual([1]);
    expect(ic.acknowledge(0)).toBe(-1);
    expect(ic.acknowledge(1)).toBe(VIRTIO0);
    ic.setLine(UART, true);
    expect(calls).toEqual([1, 0]);
    expect(ic.acknowledge(1)).toBe(-1);
    expect(ic.acknowledge(0)).toBe(UART);
  });

  it('an SPI targeted at two CPUs is signalled to both and taken by the first to acknowledge (1-N)', () => {
    const { ic, calls } = controller(2);
    ic.configure(UART, TriggerMode.EDGE);
    const off = Gicd.ITARGETSR + 32;
    ic.distributor.mmioWrite32(off, ic.distributor.mmioRead32(off) | (0x03 << 8));
    ic.unmask(UART);
    ic.setLine(UART, true);
    expect(calls).toEqual([0, 1]);
    expect(ic.acknowledge(1)).toBe(UART);
    expect(ic.acknowledge(0)).toBe(-1);
  });

  it('a PPI is per CPU: the timer PPI of CPU 1 is signalled on CPU 1 only', () => {
    const gic = enabledGic(2);
    const calls: number[] = [];
    gic.onIrq = (cpu) => calls.push(cpu);
    setPriority(gic, VirtIntid.TIMER_PHYS, 0x80, 1);
    enable(gic, VirtIntid.TIMER_PHYS, 1);
    gic.distributor.setInput(VirtIntid.TIMER_PHYS, true, 1);
    expect(calls).toEqual([1]);
    expect(gic.cpuInterfaces[0]!.mmioRead32(Gicc.IAR)).toBe(GIC_SPURIOUS_INTID);
    expect(gic.cpuInterfaces[1]!.mmioRead32(Gicc.IAR)).toBe(VirtIntid.TIMER_PHYS);
    expect(() => gic.distributor.setInput(3, true)).toThrow(RangeError); // SGIs have no input
  });

  it('GICD_SGIR raises an SGI on the listed CPU; IAR reports the source CPU in bits 12:10 (§4.3.15)', () => {
    const gic = enabledGic(2);
    const c1 = gic.cpuInterfaces[1]!;
    enable(gic, 5, 1);
    gic.distributor.mmioWrite32(Gicd.SGIR, (0b10 << 16) | 5, 0); // CPU 0 → CPU 1, SGI 5
    expect(gic.distributor.mmioRead32(Gicd.SPENDSGIR + 4, 1)).toBe(0x01 << 8); // from CPU 0
    const iar = c1.mmioRead32(Gicc.IAR);
    expect(iar).toBe(5 | (0 << 10));
    c1.mmioWrite32(Gicc.EOIR, iar);
    gic.distributor.mmioWrite32(Gicd.SGIR, (1 << 24) | 5, 1); // all but self: CPU 0 (disabled there)
    expect(gic.distributor.mmioRead32(Gicd.ISPENDR, 0)).toBe(1 << 5);
    expect(gic.cpuInterfaces[0]!.mmioRead32(Gicc.IAR)).toBe(GIC_SPURIOUS_INTID);
  });
});

describe('re-entrant use from onPending', () => {
  it('a kernel that acknowledges and masks inside onPending sees every level assertion once per unmask', () => {
    const ic = createGicInterruptController();
    const taken: number[] = [];
    ic.onPending = (cpu) => {
      for (let line = ic.acknowledge(cpu); line >= 0; line = ic.acknowledge(cpu)) {
        ic.mask(line);
        taken.push(line);
      }
    };
    for (const id of [UART, VIRTIO0]) {
      ic.configure(id, TriggerMode.LEVEL);
      ic.unmask(id);
    }
    ic.setLine(VIRTIO0, true);
    ic.setLine(UART, true);
    expect(taken).toEqual([VIRTIO0]); // UART waits: same priority as the active VIRTIO0
    ic.endOfInterrupt(0, VIRTIO0);
    expect(taken).toEqual([VIRTIO0, UART]);
    ic.setLine(UART, false);
    ic.endOfInterrupt(0, UART);
    ic.unmask(UART);
    ic.unmask(VIRTIO0); // still asserted: fires again
    expect(taken).toEqual([VIRTIO0, UART, VIRTIO0]);
  });
});
