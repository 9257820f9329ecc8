import type { Sender, Thread } from '../objects/thread';

/**
 * A receiver's queue of blocked senders, ordered by priority, FIFO within a
 * priority (brief §4: "senders queue FIFO within a priority, higher priority first").
 * Insertion walks back from the tail, so the common case — equal priorities — is O(1).
 */
export function enqueueSender(owner: Thread, s: Sender): void {
  let after = owner.sendersTail;
  while (after && after.prio < s.prio) after = after.qPrev;
  s.qOwner = owner;
  s.qPrev = after;
  if (after) {
    s.qNext = after.qNext;
    after.qNext = s;
  } else {
    s.qNext = owner.sendersHead;
    owner.sendersHead = s;
  }
  if (s.qNext) s.qNext.qPrev = s;
  else owner.sendersTail = s;
}

/** Removes `s` from `owner`'s sender queue. */
export function dequeueSender(owner: Thread, s: Sender): void {
  if (s.qPrev) s.qPrev.qNext = s.qNext;
  else owner.sendersHead = s.qNext;
  if (s.qNext) s.qNext.qPrev = s.qPrev;
  else owner.sendersTail = s.qPrev;
  s.qNext = null;
  s.qPrev = null;
  s.qOwner = null;
}

/** Adds caller `c` to the threads awaiting `server`'s reply. */
export function addReplyWaiter(server: Thread, c: Thread): void {
  c.qOwner = server;
  c.qPrev = null;
  c.qNext = server.replyWaitersHead;
  if (server.replyWaitersHead) server.replyWaitersHead.qPrev = c;
  server.replyWaitersHead = c;
}

/** Removes caller `c` from `server`'s reply waiters. */
export function removeReplyWaiter(server: Thread, c: Thread): void {
  if (c.qPrev) c.qPrev.qNext = c.qNext;
  else server.replyWaitersHead = c.qNext as Thread | null;
  if (c.qNext) c.qNext.qPrev = c.qPrev;
  c.qNext = null;
  c.qPrev = null;
  c.qOwner = null;
}

/** Links `t`, which blocks in a closed receive, to the partner it waits for. */
export function joinClosedWait(t: Thread): void {
  const owner = t.partner ?? t.partnerIrq;
  if (!owner) return;
  t.cwPrev = null;
  t.cwNext = owner.closedWaitersHead;
  if (owner.closedWaitersHead) owner.closedWaitersHead.cwPrev = t;
  owner.closedWaitersHead = t;
}

/** Unlinks `t` from the closed-waiter list of its partner, if it is in one. */
export function leaveClosedWait(t: Thread): void {
  const owner = t.partner ?? t.partnerIrq;
  if (!owner) return;
  if (t.cwPrev) t.cwPrev.cwNext = t.cwNext;
  else if (owner.closedWaitersHead === t) owner.closedWaitersHead = t.cwNext;
  if (t.cwNext) t.cwNext.cwPrev = t.cwPrev;
  t.cwNext = null;
  t.cwPrev = null;
}
