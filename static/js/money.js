// Money travels as integer fen end to end; only this module turns it into yuan text,
// so no float ever touches an amount that is added up or sent back.

const grouped = new Intl.NumberFormat("en-US");

/** 151920 -> "¥1,519.20"; 18900 -> "¥189" (a trailing .00 is noise on a price tag). */
export function yuan(fen) {
  const negative = fen < 0;
  const abs = Math.abs(Math.trunc(fen));
  const whole = grouped.format(Math.floor(abs / 100));
  const cents = abs % 100;
  const text = cents === 0 ? whole : `${whole}.${String(cents).padStart(2, "0")}`;
  return `${negative ? "-" : ""}¥${text}`;
}

/** "189.5" typed by a host -> 18950 fen; null when it is not a price. */
export function fenFromYuanText(text) {
  const match = /^\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || "0").padEnd(2, "0"));
}
