/**
 * A teardown stack (Playwright's runner/taskRunner is the model): each step that starts something
 * first registers what undoes it, so a failure, Ctrl-C or SIGTERM at any point undoes exactly what
 * had started, newest first. `await using stack = new TeardownStack()` unwinds it when the scope
 * ends, also on a throw.
 */
export class TeardownStack implements AsyncDisposable {
  private readonly entries: Array<{ what: string; undo: () => unknown }> = [];
  private unwinding: Promise<void> | undefined;

  constructor(private readonly log?: (message: string) => void) {}

  /**
   * Registers what undoes a step, before the step runs. Returns a function that drops the entry
   * (for a step undone some other way, e.g. a fault the scenario healed itself).
   */
  defer(what: string, undo: () => unknown): () => void {
    if (this.unwinding) throw new Error(`teardown of "${what}" registered while the stack unwinds`);
    const entry = { what, undo };
    this.entries.push(entry);
    return () => {
      const i = this.entries.indexOf(entry);
      if (i >= 0) this.entries.splice(i, 1);
    };
  }

  /** Registers a resource's own disposal (AsyncDisposable or Disposable); returns the resource. */
  adopt<T extends AsyncDisposable | Disposable>(what: string, resource: T): T {
    this.defer(what, () =>
      Symbol.asyncDispose in resource
        ? (resource as AsyncDisposable)[Symbol.asyncDispose]()
        : (resource as Disposable)[Symbol.dispose](),
    );
    return resource;
  }

  /** What is registered, oldest first. */
  get pending(): string[] {
    return this.entries.map((e) => e.what);
  }

  /**
   * Undoes every registered step, newest first; each runs once even when an earlier one fails. The
   * failures are logged and the first is rethrown once all have run. Calls while it runs share it.
   */
  unwind(): Promise<void> {
    this.unwinding ??= (async () => {
      const errors: unknown[] = [];
      while (this.entries.length > 0) {
        const { what, undo } = this.entries.pop()!;
        try {
          await undo();
        } catch (err) {
          errors.push(err);
          this.log?.(`teardown: ${what} failed: ${(err as Error)?.message ?? String(err)}`);
        }
      }
      if (errors.length === 1) throw errors[0];
      if (errors.length > 1) throw new AggregateError(errors, `${errors.length} teardown steps failed`);
    })();
    return this.unwinding;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.unwind();
  }
}
