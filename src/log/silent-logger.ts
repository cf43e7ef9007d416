/** A LogPort that writes nothing: the default where logging is optional (and for tests that do not look). */
import type { LogPort } from '../ports.js';

const ignore = (): void => {};

export const silentLogger: LogPort = {
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  child: () => silentLogger,
};
