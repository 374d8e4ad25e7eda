// A record card's public fields as text (pure; unit-tested). Stock by warehouse and price
// lists arrive as lists of rows; a person reads them better as one line than as JSON.

export function fieldText(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.length ? value.map(fieldText).join("；") : "—";
  if (typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${fieldText(v)}`)
      .join("，");
  }
  return String(value);
}
