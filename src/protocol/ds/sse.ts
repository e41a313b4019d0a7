/**
 * Durable Streams server-sent events (PROTOCOL.md §5.8):
 *
 *   event: data                      the records of one read, as renderSsePayload makes them
 *   data:<line 1>
 *   data:<line 2>
 *
 *   event: control                   where the reader stands after the data before it
 *   data:{"streamNextOffset":"…","streamCursor":"…","upToDate":true}
 *
 * The payload is split on CRLF, CR and LF, each piece its own `data:` line, so payload text can never end
 * an event or forge one (`\r\n\r\nevent: control` stays data). `data:` is followed directly by the line (the
 * suite looks for `data:line1`), except that a line starting with a space gets one more: parsers strip
 * exactly one space after the colon, and the payload's own must survive. `event: data` keeps its space: the
 * suite searches for that literal text. A data event and its control event are rendered as one string so
 * they go out in one chunk.
 */

export interface ControlEvent {
  streamNextOffset: string;
  /** Required while the stream is open; omitted once it is closed. */
  streamCursor?: string;
  upToDate?: true;
  streamClosed?: true;
}

export function renderDataEvent(payload: string): string {
  const lines = payload.split(/\r\n|\r|\n/).map((line) => `data:${line.startsWith(" ") ? " " : ""}${line}\n`);
  return `event: data\n${lines.join("")}\n`;
}

export const renderControlEvent = (control: ControlEvent): string => `event: control\ndata:${JSON.stringify(control)}\n\n`;
