/**
 * Who draws on the last line of a stream. While a progress display does, messages go through it: it clears
 * its line, prints the message on lines of its own and draws itself again below, so a warning is neither
 * written onto the end of the bar nor overwritten by the next redraw.
 */
type Sink = (text: string) => void;

let owner: { stream: NodeJS.WritableStream; sink: Sink } | undefined;

/** Makes `sink` the writer of messages for `stream`; the returned function gives the line back. */
export function claimLastLine(stream: NodeJS.WritableStream, sink: Sink): () => void {
  const mine = { stream, sink };
  owner = mine;
  return () => {
    if (owner === mine) owner = undefined;
  };
}

/** Writes whole lines of a message to `stream`, above a progress display when one is drawn there. */
export function writeMessage(stream: NodeJS.WritableStream, text: string): void {
  if (owner && owner.stream === stream) owner.sink(text);
  else stream.write(text);
}
