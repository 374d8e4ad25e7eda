import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Card } from "./cardLogic";
import { handleCrmEvent, requestCard, requestMessageCards, resetCards } from "./cardStore";

function card(ref: string, version = "1"): Card {
  const [source, type, key] = ref.split(":");
  return {
    ref, source_id: Number(source), source_label: "ERP", record_type: type, key, number: `N-${key}`, title: "",
    status: "confirmed", status_label: "", counterparty_name: "", amount: null, amount_due: null, due_date: null,
    owner: "", lines: [], more_lines: 0, fields: {}, internal: null, url: "", version,
    as_of: "2026-11-26T02:42:00+00:00", stale_since: null, writable: true,
  };
}

const calls: string[] = [];

beforeEach(() => {
  resetCards();
  calls.length = 0;
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      calls.push(url);
      const query = new URL(url, "http://hub.test").searchParams;
      const refs = query.getAll("refs");
      const messages = Object.fromEntries(query.getAll("message_ids").map((id) => [id, ["1:sales_order:11"]]));
      const all = [...refs, ...(query.getAll("message_ids").length ? ["1:sales_order:11"] : [])];
      const body = { cards: [...new Set(all)].map((r) => card(r, "2")), messages, missing: [] };
      return { ok: true, status: 200, json: async () => body } as Response;
    }),
  );
});

afterEach(() => vi.unstubAllGlobals());

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("card store", () => {
  it("batches the requests of one tick into one call", async () => {
    requestCard(7, "1:sales_order:11");
    requestCard(7, "1:customer:3");
    requestMessageCards(7, 40);
    requestMessageCards(7, 41);
    requestMessageCards(7, 40); // asked once only
    await flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toContain("workspace=7");
    expect(calls[0]).toContain("refs=1%3Asales_order%3A11");
    expect(calls[0].match(/message_ids=/g)).toHaveLength(2);
  });

  it("record.cards fetches the message's cards; record.updated refetches only a changed loaded card", async () => {
    handleCrmEvent({ type: "record.cards", conversation_id: 1, seq: 5, message_id: 40, refs: ["1:sales_order:11"] }, 7);
    await flush();
    expect(calls).toHaveLength(1);
    // Same version as loaded ("2"): nothing to do.
    handleCrmEvent({ type: "record.updated", conversation_id: 1, seq: 6, record: { ref: "1:sales_order:11", version: "2" } }, 7);
    // A card nobody loaded: fetched when shown, not now.
    handleCrmEvent({ type: "record.updated", conversation_id: 1, seq: 7, record: { ref: "1:invoice:9", version: "3" } }, 7);
    await flush();
    expect(calls).toHaveLength(1);
    handleCrmEvent({ type: "record.updated", conversation_id: 1, seq: 8, record: { ref: "1:sales_order:11", version: "3" } }, 7);
    await flush();
    expect(calls).toHaveLength(2);
    expect(calls[1]).toContain("refs=1%3Asales_order%3A11");
    // Same version, but its source went away: the card must turn stale.
    const stale = { ref: "1:sales_order:11", version: "2", stale_since: "2026-11-26T03:05:00+00:00" };
    handleCrmEvent({ type: "record.updated", conversation_id: 1, seq: 9, record: stale }, 7);
    await flush();
    expect(calls).toHaveLength(3);
  });
});
