/**
 * Lines of chart text broken to a width, and the size they take: a long guard would otherwise
 * make its state box, or its edge label, as wide as the page.
 */
import { textWidth } from './text-width.js';

export interface TextStyle {
  readonly fontSize: number;
  readonly lineHeight: number;
  readonly bold: boolean;
}

export interface TextBlock {
  readonly lines: readonly string[];
  readonly width: number;
  readonly height: number;
}

/** A broken line goes on indented, so it reads as the same line. */
const CONTINUATION = '    ';

/** Breaks each line at spaces so that it fits `maxWidth` (a word longer than that stays whole). */
export function textBlock(lines: readonly string[], style: TextStyle, maxWidth: number): TextBlock {
  const out: string[] = [];
  for (const line of lines) out.push(...breakLine(line, style, maxWidth));
  const width = Math.max(0, ...out.map((l) => textWidth(l, style.fontSize, style.bold)));
  return { lines: out, width, height: out.length * style.lineHeight };
}

function breakLine(line: string, style: TextStyle, maxWidth: number): string[] {
  const words = line.split(' ');
  const out: string[] = [];
  let current = '';
  for (const word of words) {
    const candidate = current === '' ? word : `${current} ${word}`;
    const prefix = out.length === 0 ? '' : CONTINUATION;
    if (current !== '' && textWidth(prefix + candidate, style.fontSize, style.bold) > maxWidth) {
      out.push(prefix + current);
      current = word;
    } else {
      current = candidate;
    }
  }
  out.push((out.length === 0 ? '' : CONTINUATION) + current);
  return out;
}
