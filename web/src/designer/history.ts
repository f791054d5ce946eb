// Undo and redo: a bounded stack of past and future documents. Edits
// that arrive in a burst under the same key (typing into one field)
// make one step, so undo takes back the field, not a letter.

export class History<T> {
  private past: T[] = [];
  private future: T[] = [];
  private lastKey = '';
  private lastAt = 0;

  constructor(private readonly limit = 200, private readonly burstMs = 800) {}

  /**
   * record is called before an edit with the document as it was. An edit
   * with the key of the previous one, within burstMs, joins its step.
   */
  record(before: T, key = '', now = Date.now()): void {
    const joins = key !== '' && key === this.lastKey && now - this.lastAt < this.burstMs;
    this.lastKey = key;
    this.lastAt = now;
    this.future = [];
    if (joins) return;
    this.past.push(before);
    if (this.past.length > this.limit) this.past.shift();
  }

  /** undo returns the document before the last step, or undefined. */
  undo(current: T): T | undefined {
    const prev = this.past.pop();
    if (prev === undefined) return undefined;
    this.future.push(current);
    this.lastKey = '';
    return prev;
  }

  redo(current: T): T | undefined {
    const next = this.future.pop();
    if (next === undefined) return undefined;
    this.past.push(current);
    this.lastKey = '';
    return next;
  }

  get canUndo(): boolean { return this.past.length > 0; }
  get canRedo(): boolean { return this.future.length > 0; }

  clear(): void {
    this.past = [];
    this.future = [];
    this.lastKey = '';
  }
}
