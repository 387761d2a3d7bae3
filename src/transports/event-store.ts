/**
 * A bounded in-memory event store for one Streamable HTTP session: it makes POST streams
 * resumable (Last-Event-ID), which lets the gateway close a long call's stream and have the
 * client poll for the result instead of holding a connection open through proxies.
 */
import type { EventStore, JSONRPCMessage } from "@modelcontextprotocol/server";

/** Creates a store that keeps at most `maxEvents` events (oldest dropped first). */
export function createEventStore(maxEvents = 1000): EventStore {
  const events = new Map<string, { streamId: string; message: JSONRPCMessage }>();
  let seq = 0;

  return {
    async storeEvent(streamId, message) {
      const id = `${streamId}_${++seq}`;
      events.set(id, { streamId, message });
      if (events.size > maxEvents) events.delete(events.keys().next().value!);
      return id;
    },
    async getStreamIdForEventId(eventId) {
      return events.get(eventId)?.streamId;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const last = events.get(lastEventId);
      if (!last) return "";
      let after = false;
      for (const [id, e] of events) {
        if (id === lastEventId) {
          after = true;
          continue;
        }
        // Priming events carry no message (`{}`); there is nothing to replay for them.
        if (after && e.streamId === last.streamId && "jsonrpc" in e.message) await send(id, e.message);
      }
      return last.streamId;
    },
  };
}
