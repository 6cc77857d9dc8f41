// Keeps the last lines a child printed, for the pod's termination message (the kubelet's FallbackToLogsOnError
// does the same with the container log): enough context to see why an istioctl run failed without a log API.

export class OutputTail {
  readonly #maxLines: number;
  readonly #lines: string[] = [];
  #partial = '';

  constructor(maxLines: number) {
    this.#maxLines = maxLines;
  }

  push(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) this.#append(line);
  }

  /** The tail, at most `maxBytes` UTF-8 bytes, cut at the front so the last (most telling) lines survive. */
  text(maxBytes: number): string {
    const lines = this.#partial === '' ? this.#lines : [...this.#lines, this.#partial].slice(-this.#maxLines);
    let text = lines.join('\n');
    while (Buffer.byteLength(text, 'utf8') > maxBytes) {
      const newline = text.indexOf('\n');
      text = newline >= 0 ? text.slice(newline + 1) : text.slice(text.length - Math.floor(maxBytes / 4));
    }
    return text;
  }

  #append(line: string): void {
    this.#lines.push(line.replace(/\r$/, ''));
    if (this.#lines.length > this.#maxLines) this.#lines.shift();
  }
}
