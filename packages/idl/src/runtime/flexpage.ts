/**
 * A flexpage passed as an IDL `fpage`: the flexpage word plus how to send it.
 * Received values have every field set: `fpage` then names where the pages landed.
 */
export interface Flexpage {
  /** The flexpage word (`memFpage(…)`, `ioFpage(…)`). */
  readonly fpage: number;
  /** Move the mapping instead of copying it (grant). Default false: map. */
  readonly grant?: boolean;
  /** X.2's send base ("hot spot"), in the flexpage's units. Default 0. */
  readonly hotSpot?: number;
}
