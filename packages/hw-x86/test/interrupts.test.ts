import { TriggerMode } from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import {
  createPcInterruptController,
  IOAPIC_PINS,
  Ioapic,
  IoapicMmio,
  IoapicReg,
  IoRedir,
  LAPIC_VERSION,
  Lapic,
  LapicReg,
  PC_IRQ_VECTOR_BASE,
  PcIrq,
  routeApicMessage,
} from '../src/index';

// References:
//   82093AA = Intel 82093AA I/O APIC datasheet (290566-001), §3 "Register Description".
//   SDM     = Intel SDM Vol. 3A, chapter 10 "Advanced Programmable Interrupt Controller".

const low = (n: number) => IoapicReg.REDTBL + 2 * n;
const high = (n: number) => IoapicReg.REDTBL + 2 * n + 1;

/** A controller plus a log of onPending calls. */
function setup(cpus = 1) {
  const pc = createPcInterruptController(cpus);
  const pending: number[] = [];
  pc.onPending = (cpu) => pending.push(cpu);
  return { pc, pending, redir: (n: number) => pc.ioapic.read(low(n)) };
}

/** An edge: high then low. */
function pulse(pc: ReturnType<typeof setup>['pc'], line: number): void {
  pc.setLine(line, true);
  pc.setLine(line, false);
}

describe('I/O APIC registers (82093AA §3)', () => {
  const bare = () => new Ioapic(() => true);

  it('reaches registers indirectly through IOREGSEL (0x00) and IOWIN (0x10) (§3.1)', () => {
    const io = bare();
    io.mmioWrite32(IoapicMmio.IOREGSEL, 0x1_2301); // bits 31:8 reserved
    expect(io.mmioRead32(IoapicMmio.IOREGSEL)).toBe(0x01);
    expect(io.mmioRead32(IoapicMmio.IOWIN)).toBe(0x0017_0020);
  });

  it('IOAPICVER reads 0x00170020: version 0x20 (QEMU), max redirection entry 23 (§3.2.2)', () => {
    const io = bare();
    expect(io.read(IoapicReg.VER)).toBe(0x0017_0020);
    expect((io.read(IoapicReg.VER) >>> 16) & 0xff).toBe(IOAPIC_PINS - 1);
    io.write(IoapicReg.VER, 0); // read-only
    expect(io.read(IoapicReg.VER)).toBe(0x0017_0020);
  });

  it('IOAPICID holds the ID in bits 27:24 and IOAPICARB mirrors it (§3.2.1, §3.2.3)', () => {
    const io = bare();
    expect(io.read(IoapicReg.ID)).toBe(0);
    io.write(IoapicReg.ID, 0x0200_0000);
    expect(io.read(IoapicReg.ID)).toBe(0x0200_0000);
    expect(io.read(IoapicReg.ARB)).toBe(0x0200_0000);
    expect(new Ioapic(() => true, { id: 1 }).read(IoapicReg.ID)).toBe(0x0100_0000);
  });

  it('resets every redirection entry masked, all else 0 (§3.2.4)', () => {
    const io = bare();
    for (let n = 0; n < IOAPIC_PINS; n++) {
      expect(io.read(low(n))).toBe(IoRedir.MASKED);
      expect(io.read(high(n))).toBe(0);
    }
    // Past entry 23 (index 0x40) there is nothing: QEMU reads all ones.
    expect(io.read(IoapicReg.REDTBL + 2 * IOAPIC_PINS)).toBe(0xffff_ffff);
  });

  it('keeps Delivery Status and Remote IRR read-only and reserved bits 0 (§3.2.4)', () => {
    const io = bare();
    io.write(low(5), 0xffff_dfff);
    expect(io.read(low(5))).toBe(0x0001_8fff); // 16 mask, 15 level, 11:0; not 12, 14, 31:17
    // Active low (bit 13) with the pin idle low: a masked level entry whose input is
    // asserted, so Delivery Status (bit 12) reads 1.
    io.write(low(5), 0xffff_ffff);
    expect(io.read(low(5))).toBe(0x0001_bfff);
    io.setPin(5, true); // deasserted
    expect(io.read(low(5))).toBe(0x0001_afff);
    io.write(high(5), 0xffff_ffff);
    expect(io.read(high(5))).toBe(0xff00_0000); // destination 63:56 only
  });
});

describe('PC interrupt controller: contract methods program the redirection entries', () => {
  it('lines are GSIs 0–23; GSI n gets vector 0x20 + n (0–31 are exceptions, SDM §6.3)', () => {
    const { pc, redir } = setup();
    expect(pc.name).toBe('ioapic+lapic');
    expect(pc.lines).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(PC_IRQ_VECTOR_BASE).toBe(0x20);
    expect(PcIrq).toEqual({ COM1: 4, COM2: 3, RTC: 8 });
    // Boot state: vector, fixed, physical, destination APIC 0, edge, active high, masked.
    expect(redir(PcIrq.COM1)).toBe(0x0001_0024);
    expect(redir(PcIrq.RTC)).toBe(0x0001_0028);
    expect(pc.ioapic.read(high(PcIrq.RTC))).toBe(0);
  });

  it('configure sets exactly the trigger bit (15) and clears polarity (13); unmask clears bit 16', () => {
    const { pc, redir } = setup();
    expect(pc.configure(PcIrq.RTC, TriggerMode.LEVEL)).toBe(true);
    expect(redir(PcIrq.RTC)).toBe(0x0001_8028);
    pc.unmask(PcIrq.RTC);
    expect(redir(PcIrq.RTC)).toBe(0x0000_8028);
    pc.mask(PcIrq.RTC);
    expect(redir(PcIrq.RTC)).toBe(0x0001_8028);
    pc.ioapic.write(low(PcIrq.COM1), redir(PcIrq.COM1) | IoRedir.ACTIVE_LOW);
    expect(pc.configure(PcIrq.COM1, TriggerMode.EDGE)).toBe(true);
    pc.unmask(PcIrq.COM1);
    expect(redir(PcIrq.COM1)).toBe(0x0000_0024);
    expect(pc.configure(24, TriggerMode.EDGE)).toBe(false);
    expect(pc.configure(-1, TriggerMode.LEVEL)).toBe(false);
  });

  it('rejects lines and CPUs that do not exist', () => {
    const { pc } = setup();
    expect(() => pc.setLine(24, true)).toThrow(RangeError);
    expect(() => pc.unmask(99)).toThrow(RangeError);
    expect(() => pc.acknowledge(1)).toThrow(RangeError);
    expect(() => createPcInterruptController(0)).toThrow(RangeError);
  });
});

describe('edge-triggered delivery (82093AA §3.2.4 bit 15; SDM §10.8.4)', () => {
  it('a rising edge on an unmasked line sets the LAPIC IRR bit and calls onPending(0)', () => {
    const { pc, pending } = setup();
    pc.unmask(PcIrq.COM1);
    pc.setLine(PcIrq.COM1, true);
    expect(pending).toEqual([0]);
    expect(pc.lapics[0]?.test(LapicReg.IRR, 0x24)).toBe(true);
    expect(pc.lapics[0]?.mmioRead32(LapicReg.IRR + 0x10)).toBe(1 << 4); // bank 1 = vectors 32–63
    pc.setLine(PcIrq.COM1, false); // the falling edge does nothing
    expect(pending).toEqual([0]);
    expect(pc.acknowledge(0)).toBe(PcIrq.COM1);
    expect(pc.lapics[0]?.test(LapicReg.IRR, 0x24)).toBe(false);
    expect(pc.lapics[0]?.test(LapicReg.ISR, 0x24)).toBe(true);
    expect(pc.lapics[0]?.test(LapicReg.TMR, 0x24)).toBe(false); // edge: TMR clear
    pc.endOfInterrupt(0, PcIrq.COM1);
    expect(pc.lapics[0]?.mmioRead32(LapicReg.ISR + 0x10)).toBe(0);
    expect(pc.acknowledge(0)).toBe(-1);
  });

  it('holding the line high is one interrupt, not a stream', () => {
    const { pc, pending } = setup();
    pc.unmask(PcIrq.COM1);
    pc.setLine(PcIrq.COM1, true);
    pc.setLine(PcIrq.COM1, true);
    expect(pc.acknowledge(0)).toBe(PcIrq.COM1);
    pc.endOfInterrupt(0, PcIrq.COM1);
    expect(pc.acknowledge(0)).toBe(-1);
    expect(pending).toEqual([0]);
  });

  it('an edge while masked stays pending (Delivery Status, bit 12) and is delivered on unmask', () => {
    const { pc, pending, redir } = setup();
    pulse(pc, PcIrq.COM1);
    expect(pending).toEqual([]);
    expect(redir(PcIrq.COM1) & IoRedir.DELIVERY_STATUS).toBe(IoRedir.DELIVERY_STATUS);
    expect(pc.acknowledge(0)).toBe(-1);
    pc.unmask(PcIrq.COM1);
    expect(pending).toEqual([0]);
    expect(redir(PcIrq.COM1) & IoRedir.DELIVERY_STATUS).toBe(0);
    expect(pc.acknowledge(0)).toBe(PcIrq.COM1);
  });

  it('the strict 82093AA drops an edge on a masked pin (latchMaskedEdges: false)', () => {
    const lapics = [new Lapic(0)];
    lapics[0]?.mmioWrite32(LapicReg.SVR, 0x1ff);
    const io = new Ioapic((m) => routeApicMessage(lapics, m), { latchMaskedEdges: false });
    io.write(low(4), IoRedir.MASKED | 0x24);
    io.setPin(4, true);
    io.setPin(4, false);
    io.write(low(4), 0x24);
    expect(lapics[0]?.acknowledge()).toBe(-1);
  });

  it('repeated edges while pending coalesce: at the I/O APIC while masked, in the IRR while unacknowledged', () => {
    const { pc, pending } = setup();
    for (let i = 0; i < 3; i++) pulse(pc, PcIrq.COM1);
    pc.unmask(PcIrq.COM1);
    for (let i = 0; i < 3; i++) pulse(pc, PcIrq.COM1);
    expect(pending).toEqual([0]);
    expect(pc.acknowledge(0)).toBe(PcIrq.COM1);
    pc.endOfInterrupt(0, PcIrq.COM1);
    expect(pc.acknowledge(0)).toBe(-1);
  });

  it('an edge while the vector is in service queues once more in the IRR (SDM §10.8.4: one in IRR, one in ISR)', () => {
    const { pc, pending } = setup();
    pc.unmask(PcIrq.COM1);
    pulse(pc, PcIrq.COM1);
    expect(pc.acknowledge(0)).toBe(PcIrq.COM1);
    pulse(pc, PcIrq.COM1);
    pulse(pc, PcIrq.COM1);
    expect(pc.acknowledge(0)).toBe(-1); // same priority class as the in-service vector
    pc.endOfInterrupt(0, PcIrq.COM1);
    expect(pending).toEqual([0, 0]); // raised again once the EOI lowered the PPR
    expect(pc.acknowledge(0)).toBe(PcIrq.COM1);
    pc.endOfInterrupt(0, PcIrq.COM1);
    expect(pc.acknowledge(0)).toBe(-1);
  });
});

describe('level-triggered delivery and Remote IRR (82093AA §3.2.4 bits 14, 15; SDM §10.8.5)', () => {
  function levelLine() {
    const s = setup();
    s.pc.configure(PcIrq.RTC, TriggerMode.LEVEL);
    s.pc.unmask(PcIrq.RTC);
    return s;
  }

  it('sets Remote IRR when the LAPIC accepts, marks the vector in the TMR, and clears Remote IRR on EOI', () => {
    const { pc, pending, redir } = levelLine();
    pc.setLine(PcIrq.RTC, true);
    expect(pending).toEqual([0]);
    expect(redir(PcIrq.RTC)).toBe(0x0000_c028); // level | Remote IRR | vector 0x28
    expect(pc.lapics[0]?.test(LapicReg.TMR, 0x28)).toBe(true);
    expect(pc.acknowledge(0)).toBe(PcIrq.RTC);
    expect(redir(PcIrq.RTC) & IoRedir.REMOTE_IRR).toBe(IoRedir.REMOTE_IRR);
    pc.setLine(PcIrq.RTC, false);
    pc.endOfInterrupt(0, PcIrq.RTC);
    expect(redir(PcIrq.RTC)).toBe(0x0000_8028);
    expect(pc.acknowledge(0)).toBe(-1);
    expect(pending).toEqual([0]); // deasserted before EOI: no second interrupt
  });

  it('fires again after EOI while still asserted, and not after deassert', () => {
    const { pc, pending, redir } = levelLine();
    pc.setLine(PcIrq.RTC, true);
    expect(pc.acknowledge(0)).toBe(PcIrq.RTC);
    pc.endOfInterrupt(0, PcIrq.RTC); // still high: re-delivered at once
    expect(pending).toEqual([0, 0]);
    expect(redir(PcIrq.RTC) & IoRedir.REMOTE_IRR).toBe(IoRedir.REMOTE_IRR);
    expect(pc.acknowledge(0)).toBe(PcIrq.RTC);
    pc.setLine(PcIrq.RTC, false);
    pc.endOfInterrupt(0, PcIrq.RTC);
    expect(pending).toEqual([0, 0]);
    expect(pc.acknowledge(0)).toBe(-1);
  });

  it('follows the kernel contract: ack, mask, EOI on unmask; a line still asserted fires on unmask', () => {
    const { pc, pending, redir } = levelLine();
    pc.setLine(PcIrq.RTC, true);
    expect(pc.acknowledge(0)).toBe(PcIrq.RTC);
    pc.mask(PcIrq.RTC);
    pc.endOfInterrupt(0, PcIrq.RTC);
    expect(redir(PcIrq.RTC)).toBe(0x0001_9028); // masked, level, asserted and not sent: Delivery Status
    expect(pending).toEqual([0]);
    pc.unmask(PcIrq.RTC);
    expect(pending).toEqual([0, 0]);
    expect(pc.acknowledge(0)).toBe(PcIrq.RTC);
  });

  it('does not re-send while Remote IRR is set, however often the line toggles', () => {
    const { pc, pending } = levelLine();
    pc.setLine(PcIrq.RTC, true);
    expect(pc.acknowledge(0)).toBe(PcIrq.RTC);
    pulse(pc, PcIrq.RTC);
    pc.setLine(PcIrq.RTC, true);
    expect(pending).toEqual([0]);
    expect(pc.lapics[0]?.test(LapicReg.IRR, 0x28)).toBe(false);
  });

  it('a level asserted while masked is delivered on unmask; deasserted before unmask it is gone', () => {
    const { pc, pending } = setup();
    pc.configure(PcIrq.RTC, TriggerMode.LEVEL);
    pc.setLine(PcIrq.RTC, true);
    pc.setLine(PcIrq.RTC, false);
    pc.unmask(PcIrq.RTC);
    expect(pending).toEqual([]);
    pc.mask(PcIrq.RTC);
    pc.setLine(PcIrq.RTC, true);
    pc.unmask(PcIrq.RTC);
    expect(pending).toEqual([0]);
  });

  it('the version-0x20 EOI register (offset 0x40) clears Remote IRR by vector', () => {
    const { pc, redir } = levelLine();
    pc.setLine(PcIrq.RTC, true);
    pc.setLine(PcIrq.RTC, false);
    pc.ioapic.mmioWrite32(IoapicMmio.EOI, 0x28);
    expect(redir(PcIrq.RTC) & IoRedir.REMOTE_IRR).toBe(0);
  });
});

describe('LAPIC acknowledge and priority (SDM §10.8.3, §10.8.4)', () => {
  it('acknowledges the higher vector first', () => {
    const { pc } = setup();
    pc.unmask(PcIrq.COM1);
    pc.unmask(PcIrq.RTC);
    pulse(pc, PcIrq.COM1); // 0x24
    pulse(pc, PcIrq.RTC); // 0x28
    expect(pc.acknowledge(0)).toBe(PcIrq.RTC);
    pc.endOfInterrupt(0, PcIrq.RTC);
    expect(pc.acknowledge(0)).toBe(PcIrq.COM1);
  });

  it('holds a same-class vector behind the in-service one (PPR) but lets a higher class through', () => {
    const { pc } = setup();
    for (const line of [4, 8, 16]) pc.unmask(line);
    pulse(pc, 4); // 0x24, class 2
    expect(pc.acknowledge(0)).toBe(4);
    expect(pc.lapics[0]?.mmioRead32(LapicReg.PPR)).toBe(0x20);
    pulse(pc, 8); // 0x28, class 2: blocked
    expect(pc.acknowledge(0)).toBe(-1);
    pulse(pc, 16); // 0x30, class 3: nests
    expect(pc.acknowledge(0)).toBe(16);
    pc.endOfInterrupt(0, 16);
    pc.endOfInterrupt(0, 4);
    expect(pc.acknowledge(0)).toBe(8);
  });

  it('an out-of-order end is held until the higher in-service vector ends (EOI retires the highest ISR bit)', () => {
    const { pc } = setup();
    pc.configure(4, TriggerMode.LEVEL);
    pc.unmask(4);
    pc.unmask(16);
    pc.setLine(4, true);
    expect(pc.acknowledge(0)).toBe(4);
    pulse(pc, 16);
    expect(pc.acknowledge(0)).toBe(16);
    pc.setLine(4, false);
    pc.endOfInterrupt(0, 4); // 0x30 is above it in service: no EOI write yet
    expect(pc.lapics[0]?.test(LapicReg.ISR, 0x24)).toBe(true);
    expect(pc.lapics[0]?.test(LapicReg.ISR, 0x30)).toBe(true);
    expect(pc.ioapic.read(low(4)) & IoRedir.REMOTE_IRR).toBe(IoRedir.REMOTE_IRR);
    pc.endOfInterrupt(0, 16); // retires 0x30, then the held 0x24
    expect(pc.lapics[0]?.mmioRead32(LapicReg.ISR + 0x10)).toBe(0);
    expect(pc.ioapic.read(low(4)) & IoRedir.REMOTE_IRR).toBe(0);
  });

  it('TPR masks priority classes at or below it', () => {
    const { pc, pending } = setup();
    pc.unmask(PcIrq.COM1);
    pc.lapics[0]?.mmioWrite32(LapicReg.TPR, 0x20);
    pulse(pc, PcIrq.COM1);
    expect(pending).toEqual([]);
    expect(pc.acknowledge(0)).toBe(-1);
    pc.lapics[0]?.mmioWrite32(LapicReg.TPR, 0x10);
    expect(pending).toEqual([0]);
    expect(pc.acknowledge(0)).toBe(PcIrq.COM1);
  });
});

describe('LAPIC registers (SDM §10.4)', () => {
  it('ID, version, SVR reset and enable, DFR reset (§10.4.6–§10.4.8, §10.9, §10.6.2.2)', () => {
    const l = new Lapic(3);
    expect(l.mmioRead32(LapicReg.ID)).toBe(0x0300_0000);
    expect(l.mmioRead32(LapicReg.VERSION)).toBe(LAPIC_VERSION);
    expect(LAPIC_VERSION).toBe(0x0005_0014);
    expect(l.mmioRead32(LapicReg.SVR)).toBe(0xff); // spurious vector 0xFF, software-disabled
    expect(l.mmioRead32(LapicReg.DFR)).toBe(0xffff_ffff);
    expect(l.mmioRead32(LapicReg.TPR)).toBe(0);
    expect(l.accept(0x40, false)).toBe(true);
    expect(l.acknowledge()).toBe(-1); // disabled: INTA would read the spurious vector
    l.mmioWrite32(LapicReg.SVR, 0x1ff);
    expect(l.acknowledge()).toBe(0x40);
    expect(l.mmioRead32(LapicReg.ISR + 0x20)).toBe(1); // bank 2 = vectors 64–95
  });

  it('refuses illegal vectors 0–15 (§10.5.3)', () => {
    const l = new Lapic(0);
    expect(l.accept(0x0e, false)).toBe(false);
    expect(l.mmioRead32(LapicReg.IRR)).toBe(0);
  });

  it('the controller enables each LAPIC with SVR = 0x1FF', () => {
    const { pc } = setup(2);
    expect(pc.lapics.map((l) => l.mmioRead32(LapicReg.SVR))).toEqual([0x1ff, 0x1ff]);
    expect(pc.lapics.map((l) => l.mmioRead32(LapicReg.ID))).toEqual([0, 0x0100_0000]);
  });
});

describe('destination (82093AA §3.2.4 bits 63:56, 11; SDM §10.6.2)', () => {
  it('delivers to the CPU in the destination field and calls onPending with it', () => {
    const { pc, pending } = setup(2);
    pc.ioapic.write(high(PcIrq.COM1), 1 << 24); // physical destination APIC 1
    pc.unmask(PcIrq.COM1);
    pulse(pc, PcIrq.COM1);
    expect(pending).toEqual([1]);
    expect(pc.acknowledge(0)).toBe(-1);
    expect(pc.acknowledge(1)).toBe(PcIrq.COM1);
    pc.endOfInterrupt(1, PcIrq.COM1);
    expect(pc.lapics[1]?.mmioRead32(LapicReg.ISR + 0x10)).toBe(0);
  });

  it('logical flat mode matches LDR bits', () => {
    const { pc, pending } = setup(2);
    pc.lapics[0]?.mmioWrite32(LapicReg.LDR, 0x0100_0000);
    pc.lapics[1]?.mmioWrite32(LapicReg.LDR, 0x0200_0000);
    pc.ioapic.write(high(PcIrq.RTC), 0x02 << 24);
    pc.ioapic.write(low(PcIrq.RTC), pc.ioapic.read(low(PcIrq.RTC)) | IoRedir.DEST_LOGICAL);
    pc.unmask(PcIrq.RTC);
    pulse(pc, PcIrq.RTC);
    expect(pending).toEqual([1]);
  });

  it('a destination no APIC has is lost, and a level entry then keeps Remote IRR clear', () => {
    const { pc, pending, redir } = setup(1);
    pc.ioapic.write(high(PcIrq.RTC), 5 << 24);
    pc.configure(PcIrq.RTC, TriggerMode.LEVEL);
    pc.unmask(PcIrq.RTC);
    pc.setLine(PcIrq.RTC, true);
    expect(pending).toEqual([]);
    expect(redir(PcIrq.RTC) & IoRedir.REMOTE_IRR).toBe(0);
  });
});

describe('re-entrant kernel: acknowledge and EOI from inside onPending', () => {
  it('a level line handled synchronously in onPending leaves consistent state', () => {
    const pc = createPcInterruptController(1);
    pc.configure(PcIrq.RTC, TriggerMode.LEVEL);
    pc.unmask(PcIrq.RTC);
    const seen: number[] = [];
    pc.onPending = (cpu) => {
      const line = pc.acknowledge(cpu);
      seen.push(line);
      pc.setLine(line, false); // the handler quiets the device
      pc.endOfInterrupt(cpu, line);
    };
    pc.setLine(PcIrq.RTC, true);
    expect(seen).toEqual([PcIrq.RTC]);
    expect(pc.ioapic.read(low(PcIrq.RTC)) & IoRedir.REMOTE_IRR).toBe(0);
    pc.setLine(PcIrq.RTC, true);
    expect(seen).toEqual([PcIrq.RTC, PcIrq.RTC]);
  });
});
