import type { FaultEvent, TimelineEvent } from './environment.ts';

/**
 * The faults an environment injected: each one is an event on the timeline under a name shared by
 * every environment, and each registers what undoes it before it is applied, so down() (or a failed
 * fault halfway through) undoes exactly what is in effect, newest first.
 */
export class FaultLedger {
  private readonly undos = new Map<string, () => Promise<void>>();

  constructor(
    private readonly emit: (e: TimelineEvent) => void,
    private readonly now: () => number,
    private readonly log: (message: string) => void = () => {},
  ) {}

  /** A fault, or its undoing, on the timeline. */
  record(kind: FaultEvent, object: string, message: string, type: 'Normal' | 'Warning' = 'Warning'): void {
    this.emit({ t: this.now(), kind, object, message, type });
  }

  /**
   * Registers how to undo a fault, before the fault is applied. `key` names what it undoes
   * ("node/<name>", "cordon/<name>"); a fault already in effect keeps its first undo.
   */
  willUndo(key: string, undo: () => Promise<void>): void {
    if (!this.undos.has(key)) this.undos.set(key, undo);
  }

  /** The fault was undone (by the scenario, or it never took effect): nothing left to undo for it. */
  undone(key: string): void {
    this.undos.delete(key);
  }

  /** What is in effect, oldest first. */
  get inEffect(): string[] {
    return [...this.undos.keys()];
  }

  /** Undoes every fault still in effect, newest first; a failing undo is logged and the rest still run. */
  async undoAll(): Promise<void> {
    for (const [key, undo] of [...this.undos].reverse()) {
      this.undos.delete(key);
      try {
        await undo();
      } catch (err) {
        this.log(`undoing ${key} failed: ${(err as Error).message}`);
      }
    }
  }
}
