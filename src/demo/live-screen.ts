/**
 * The demo's live screen on a terminal: a header, each daemon's status table and the last
 * events, redrawn in place. It draws from the top of the screen and clears what is below, so a
 * frame of any height replaces the previous one, and the last frame stays on the terminal
 * after the demo ends (no alternate screen).
 */
import type { DaemonStatus } from '../control/daemon-status.js';

export interface ScreenSide {
  readonly name: string;
  readonly summary: string;
  /** Read by `refresh()` (the daemon reads its byte counters from the kernel: asynchronous). */
  status(): Promise<DaemonStatus>;
}

export interface LiveScreenOptions {
  readonly title: string;
  readonly footer: readonly string[];
  readonly sides: readonly ScreenSide[];
  readonly renderStatus: (status: DaemonStatus) => string;
  readonly color: boolean;
  readonly write: (text: string) => void;
  /** The terminal's size now (it may be resized while the demo runs). */
  readonly size: () => { readonly columns: number; readonly rows: number };
  readonly startedAtMs: number;
  /** How many events stay on screen. */
  readonly eventLines?: number;
}

const ESC = '\u001b[';
const HOME = `${ESC}H`;
const CLEAR_SCREEN = `${ESC}2J`;
const CLEAR_LINE_END = `${ESC}K`;
const CLEAR_BELOW = `${ESC}J`;
const HIDE_CURSOR = `${ESC}?25l`;
const SHOW_CURSOR = `${ESC}?25h`;

type Tone = 'bold' | 'dim' | 'green' | 'cyan' | 'yellow' | 'red';
const TONES: Readonly<Record<Tone, string>> = { bold: '1', dim: '2', green: '32', cyan: '36', yellow: '33', red: '31' };

/** The tone of an event sentence, from the words the narrator uses. */
function toneOf(sentence: string): Tone | undefined {
  if (/ failed /.test(sentence)) return 'red';
  if (/ down | stopping/.test(sentence)) return 'yellow';
  if (/ rekeyed /.test(sentence)) return 'cyan';
  if (/ up /.test(sentence)) return 'green';
  return undefined;
}

/** Cuts plain text (no escape sequences) to `width` characters, marking the cut. */
function truncate(text: string, width: number): string {
  return width > 1 && text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

export class LiveScreen {
  private readonly events: string[] = [];
  /** Each side's table as of the last refresh(), or why it could not be read. */
  private readonly tables = new Map<string, string>();
  private started = false;
  private readonly maxEvents: number;

  constructor(private readonly options: LiveScreenOptions) {
    this.maxEvents = options.eventLines ?? 10;
  }

  private paint(tone: Tone | undefined, text: string): string {
    return this.options.color && tone !== undefined ? `${ESC}${TONES[tone]}m${text}${ESC}0m` : text;
  }

  addEvent(sentence: string): void {
    this.events.push(sentence);
    if (this.events.length > this.maxEvents) this.events.splice(0, this.events.length - this.maxEvents);
  }

  /** Reads every side's status for the next frames. */
  async refresh(): Promise<void> {
    const o = this.options;
    await Promise.all(
      o.sides.map(async (side) => {
        let table: string;
        try {
          const status = await side.status();
          table = status.ikeSas.length === 0 ? '(no IKE SA)' : o.renderStatus(status);
        } catch (error) {
          // A daemon that is stopping may no longer answer; the frame must still draw.
          table = `(status unavailable: ${(error as Error).message})`;
        }
        this.tables.set(side.name, table);
      }),
    );
  }

  /** Draws one frame from the last refresh(); `note` replaces the footer (e.g. "stopping ..."). */
  draw(nowMs: number, note?: string): void {
    const o = this.options;
    const { columns, rows } = o.size();
    const lines: string[] = [];
    const elapsed = Math.floor((nowMs - o.startedAtMs) / 1000);
    const clock = `${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}`;
    lines.push(`${this.paint('bold', o.title)}   ${this.paint('dim', `running ${clock}`)}`);
    lines.push('');
    for (const side of o.sides) {
      lines.push(`${this.paint('bold', side.name)}  ${this.paint('dim', side.summary)}`);
      const table = this.tables.get(side.name) ?? '(no IKE SA)';
      // Wrapped table rows would push the frame past the screen; cut them at the edge instead.
      lines.push(...table.split('\n').map((l) => truncate(`  ${l}`, columns)), '');
    }
    const tail: string[] = [''];
    if (note !== undefined) tail.push(this.paint('yellow', note));
    else tail.push(...o.footer.map((f) => this.paint('dim', f)));
    // A frame taller than the terminal scrolls, and drawing from the top no longer overwrites
    // it: show only as many events as fit (at least the newest one).
    const room = Math.max(1, rows - 1 - lines.length - tail.length - 1);
    const shown = this.events.slice(-room);
    lines.push(this.paint('bold', 'events'));
    if (shown.length === 0) lines.push(this.paint('dim', '  (waiting for the first SA)'));
    for (const e of shown) lines.push(`  ${this.paint(toneOf(e), truncate(e, columns - 2))}`);
    lines.push(...tail);

    const prefix = this.started ? HOME : `${HIDE_CURSOR}${CLEAR_SCREEN}${HOME}`;
    this.started = true;
    o.write(prefix + lines.map((l) => l + CLEAR_LINE_END).join('\n') + '\n' + CLEAR_BELOW);
  }

  /** Gives the cursor back (call once, after the last frame). */
  close(): void {
    if (this.started) this.options.write(SHOW_CURSOR);
  }
}
