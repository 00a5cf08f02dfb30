/** Text made safe inside HTML (element content and quoted attribute values). */
export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/**
 * The opening of every page the server renders itself (demo shop, PayPal simulator, the buyer's
 * return page, "back office not built"), up to and with its title, the head left open for styles.
 */
export function htmlHead(title: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>`;
}
